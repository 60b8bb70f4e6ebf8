package directory_test

import (
	"bytes"
	"fmt"
	"strings"
)

// Words of generated practices' names and places, invented but shaped like a real directory's.
var (
	genFirst  = []string{"Sunrise", "Lakeside", "Riverbend", "Maple", "Cedar", "Harbor", "Summit", "Valley", "Pioneer", "Oakwood", "Bayview", "Northside"}
	genSecond = []string{"Family Medicine", "Pediatrics", "Internal Medicine", "Cardiology Associates", "Women's Health", "Primary Care", "Dermatology", "Orthopedics", "Health Center", "Medical Group"}
	genCities = []struct{ city, state, zip string }{{"Springfield", "IL", "627"}, {"Madison", "WI", "537"}, {"Austin", "TX", "787"},
		{"Portland", "OR", "972"}, {"Columbus", "OH", "432"}, {"Albany", "NY", "122"}, {"Raleigh", "NC", "276"}, {"Phoenix", "AZ", "850"}}
)

// genCode is the i-th six-letter practice code: AAAAAA, AAAAAB, …
func genCode(i int) string {
	b := []byte("AAAAAA")
	for k := 5; k >= 0 && i > 0; k-- {
		b[k] = byte('A' + i%26)
		i /= 26
	}
	return string(b)
}

// genDirectory writes a directory Bundle of about size bytes as eCW publishes one: an
// Organization and an Endpoint per practice, linked one way or the other (every third practice
// through Organization.endpoint only), Endpoints and Organizations interleaved in no one order.
func genDirectory(size int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"resourceType":"Bundle","id":"activated-clinical-endpoints","type":"collection","total":0,"entry":[`)
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		c := genCities[i%len(genCities)]
		name := genFirst[i%len(genFirst)] + " " + genSecond[(i/len(genFirst))%len(genSecond)]
		if i >= len(genFirst)*len(genSecond) {
			name += fmt.Sprintf(" of %s %d", c.city, i)
		}
		managing := fmt.Sprintf(`"managingOrganization":{"reference":"Organization/org-%d"},`, i)
		listed := ""
		if i%3 == 0 {
			managing, listed = "", fmt.Sprintf(`,"endpoint":[{"reference":"Endpoint/ep-%d"}]`, i)
		}
		ep := fmt.Sprintf(`{"fullUrl":"https://connect4.healow.com/apps/api/v1/fhir/Endpoint/ep-%d","resource":{"resourceType":"Endpoint","id":"ep-%d","status":"active",`+
			`"connectionType":{"system":"http://terminology.hl7.org/CodeSystem/endpoint-connection-type","code":"hl7-fhir-rest"},"name":%q,%s`+
			`"payloadType":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/endpoint-payload-type","code":"any"}]}],`+
			`"payloadMimeType":["application/fhir+json"],"address":"https://fhir4.healow.com/fhir/r4/%s"}}`, i, i, name, managing, genCode(i))
		org := fmt.Sprintf(`{"fullUrl":"https://connect4.healow.com/apps/api/v1/fhir/Organization/org-%d","resource":{"resourceType":"Organization","id":"org-%d",`+
			`"identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"99%08d"}],"active":true,"name":%q,"telecom":[{"system":"phone","value":"555-01%02d"}],`+
			`"address":[{"use":"work","line":["%d %s Street","Suite %d"],"city":%q,"state":%q,"postalCode":"%s%02d","country":"US"}]%s}}`,
			i, i, i, name, i%100, 100+i%900, strings.Fields(name)[0], 1+i%20, c.city, c.state, c.zip, i%100, listed)
		if i%2 == 0 {
			ep, org = org, ep
		}
		b.WriteString(ep + "," + org)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}
