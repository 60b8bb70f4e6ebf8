package sandbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"
)

// DirectoryPath is where healow publishes its endpoint directory (on connect4.healow.com); the
// sandbox serves its own there: a FHIR Bundle of an Organization and an Endpoint per practice,
// as eClinicalWorks publishes it.
const DirectoryPath = "/apps/api/v1/fhir/activated_clinical_endpoints"

// DirectoryURL is the sandbox's endpoint directory, for HEALOW_DIRECTORY_URL.
func (s *Server) DirectoryURL() string { return s.url + DirectoryPath }

// directoryDate is the directory's Last-Modified: it never changes.
var directoryDate = time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)

// Decoys are practices the directory lists that the sandbox does not serve: names and places
// that overlap its own, so that a search has to rank, and an Endpoint switched off, which is
// not a practice to connect.
var decoys = []struct {
	code, name string
	address    address
	status     string
}{
	{"SUNDEN", "Sunrise Dental Care", address{"5 Example Avenue", "Anytown", "IL", "62702"}, "active"},
	{"LKVPED", "Lakeview Pediatrics", address{"12 Sample Street", "Lakeview", "WI", "53704"}, "active"},
	{"RIVORT", "Riverbend Orthopedics", address{"88 Placeholder Road", "Springfield", "MO", "65801"}, "active"},
	{"OLDSUN", "Sunrise Family Medicine (closed)", address{"1 Former Way", "Anytown", "IL", "62701"}, "off"},
}

// buildDirectory writes the Bundle once. The sandbox's own practices are linked one way and the
// decoys the other (Endpoint.managingOrganization, Organization.endpoint), as real directories
// may do either.
func (s *Server) buildDirectory() []byte {
	type ref struct {
		Reference string `json:"reference"`
	}
	var entries []obj
	add := func(i int, code, name string, a address, status string, managed bool) {
		org := obj{"resourceType": "Organization", "id": "org-" + code, "active": true, "name": name,
			"address": []obj{{"use": "work", "line": []string{a.line}, "city": a.city, "state": a.state, "postalCode": a.postal, "country": "US"}}}
		ep := obj{"resourceType": "Endpoint", "id": "ep-" + code, "status": status, "name": name,
			"connectionType": obj{"system": "http://terminology.hl7.org/CodeSystem/endpoint-connection-type", "code": "hl7-fhir-rest"},
			"payloadType":    []obj{{"coding": []obj{{"system": "http://terminology.hl7.org/CodeSystem/endpoint-payload-type", "code": "any"}}}},
			"address":        s.url + "/fhir/r4/" + code}
		if managed {
			ep["managingOrganization"] = ref{"Organization/org-" + code}
		} else {
			org["endpoint"] = []ref{{"Endpoint/ep-" + code}}
		}
		full := func(r obj) obj {
			return obj{"fullUrl": s.url + "/apps/api/v1/fhir/" + r["resourceType"].(string) + "/" + r["id"].(string), "resource": r}
		}
		if i%2 == 0 {
			entries = append(entries, full(org), full(ep))
		} else {
			entries = append(entries, full(ep), full(org))
		}
	}
	for i, p := range s.practices {
		add(i, p.code, p.name, p.address, "active", true)
	}
	for i, d := range decoys {
		add(i, d.code, d.name, d.address, d.status, false)
	}
	b, err := json.Marshal(obj{"resourceType": "Bundle", "id": "activated-clinical-endpoints", "type": "collection",
		"total": len(entries) / 2, "entry": entries})
	if err != nil {
		panic(err) // maps of strings: cannot fail
	}
	return b
}

// handleDirectory serves the directory with an ETag and a Last-Modified, and answers a
// conditional GET that names them with 304, as a CDN would.
func (s *Server) handleDirectory(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.Directory++
	s.mu.Unlock()
	sum := sha256.Sum256(s.directory)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
	w.Header().Set("Content-Type", "application/fhir+json")
	http.ServeContent(w, r, "", directoryDate, bytes.NewReader(s.directory))
}
