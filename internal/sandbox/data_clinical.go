package sandbox

import (
	"math"
	"time"
)

// addShared adds the practice-level resources that patient records point
// at: the Organization, its Location and its clinicians.
func (b *builder) addShared() {
	s := b.spec
	addr := obj{"line": []string{s.address.line}, "city": s.address.city, "state": s.address.state,
		"postalCode": s.address.postal, "country": "US"}
	org := b.add(&record{typ: "Organization", id: b.newID("org")}, obj{
		"active":     true,
		"identifier": []obj{{"system": "http://hl7.org/fhir/sid/us-npi", "value": s.npi}},
		"type":       []obj{concept("Healthcare Provider", coding("http://terminology.hl7.org/CodeSystem/organization-type", "prov", "Healthcare Provider"))},
		"name":       s.name,
		"telecom":    []obj{{"system": "phone", "value": s.phone, "use": "work"}},
		"address":    []obj{addr},
	})
	b.orgRef = "Organization/" + org.id
	loc := b.add(&record{typ: "Location", id: b.newID("loc")}, obj{
		"status":               "active",
		"name":                 s.name + " - Main Clinic",
		"telecom":              []obj{{"system": "phone", "value": s.phone, "use": "work"}},
		"address":              addr,
		"managingOrganization": ref(b.orgRef, s.name),
	})
	b.locRef = "Location/" + loc.id
	for _, c := range s.clinicians {
		name := obj{"family": c.family, "given": []string{c.given}, "text": fullName(c)}
		if c.prefix != "" {
			name["prefix"] = []string{c.prefix}
		}
		if c.suffix != "" {
			name["suffix"] = []string{c.suffix}
		}
		pr := b.add(&record{typ: "Practitioner", id: b.newID("pr")}, obj{
			"active":     true,
			"identifier": []obj{{"system": "http://hl7.org/fhir/sid/us-npi", "value": c.npi}},
			"name":       []obj{name},
			"telecom":    []obj{{"system": "phone", "value": s.phone, "use": "work"}},
		})
		b.clinRef = append(b.clinRef, "Practitioner/"+pr.id)
	}
	b.pcpRef = b.clinRef[0]
}

func fullName(c person) string {
	n := c.given + " " + c.family
	if c.prefix != "" {
		n = c.prefix + " " + n
	}
	if c.suffix != "" {
		n += ", " + c.suffix
	}
	return n
}

func (b *builder) addPatient() {
	pt := b.spec.patient
	b.add(&record{typ: "Patient", id: pt.id, patient: pt.id}, obj{
		"identifier": []obj{{
			"use":    "usual",
			"type":   concept("Medical Record Number", coding("http://terminology.hl7.org/CodeSystem/v2-0203", "MR", "Medical Record Number")),
			"system": "urn:healow-sandbox:" + b.spec.code + ":mrn",
			"value":  pt.mrn,
		}},
		"active": true,
		"name":   []obj{{"use": "official", "family": pt.family, "given": []string{pt.given}, "text": b.p.patientName}},
		"telecom": []obj{
			{"system": "phone", "value": pt.phone, "use": "home"},
			{"system": "email", "value": pt.email},
		},
		"gender":    pt.gender,
		"birthDate": pt.birthDate,
		"address": []obj{{"use": "home", "line": []string{pt.address.line}, "city": pt.address.city,
			"state": pt.address.state, "postalCode": pt.address.postal, "country": "US"}},
		"communication":        []obj{{"language": concept(pt.language.display, coding(pt.language.system, pt.language.code, pt.language.display)), "preferred": true}},
		"generalPractitioner":  []obj{ref(b.pcpRef, fullName(b.spec.clinicians[0]))},
		"managingOrganization": ref(b.orgRef, b.spec.name),
	})
}

// addEncounters spaces the visits four to seven months apart, each in the
// morning or early afternoon, alternating between the two clinicians.
func (b *builder) addEncounters() {
	day := mustDate(b.spec.firstVisit)
	for i := range b.spec.visits {
		switch {
		case i == 0:
		case b.spec.notes > 0:
			day = day.AddDate(0, 0, 20+b.rng.IntN(21))
		default:
			day = day.AddDate(0, 0, 120+b.rng.IntN(90))
		}
		start := day.Add(time.Duration(8+b.rng.IntN(6))*time.Hour + time.Duration(15*b.rng.IntN(4))*time.Minute)
		c := b.spec.clinicians[i%len(b.spec.clinicians)]
		v := visit{id: b.newID("enc"), start: start, clinRef: b.clinRef[i%len(b.clinRef)], clinName: fullName(c)}
		b.visits = append(b.visits, v)
		body := obj{
			"status": "finished",
			"class":  coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB", "ambulatory"),
			"type": []obj{concept("Office visit",
				coding("http://www.ama-assn.org/go/cpt", "99214", "Office or other outpatient visit, established patient"),
				coding(snomed, "185349003", "Encounter for check up"))},
			"subject": b.patientRef(),
			"participant": []obj{{
				"type":       []obj{concept("primary performer", coding("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "PPRF", "primary performer"))},
				"individual": ref(v.clinRef, v.clinName),
			}},
			"period":          obj{"start": dateTime(start), "end": dateTime(start.Add(30 * time.Minute))},
			"location":        []obj{{"location": ref(b.locRef, b.spec.name+" - Main Clinic")}},
			"serviceProvider": ref(b.orgRef, b.spec.name),
		}
		if i == 1 {
			body["reasonCode"] = []obj{conditionCode(b.spec.diagnosis)}
		}
		b.add(&record{typ: "Encounter", id: v.id, patient: b.spec.patient.id, date: start,
			codes: []string{token("http://www.ama-assn.org/go/cpt", "99214"), token(snomed, "185349003")}, status: "finished"}, body)
	}
}

// labTest is what the sandbox knows about one LOINC test.
type labTest struct {
	display, unit, ucum string
	low, high, spread   float64 // low == 0 means the range has no lower bound
	decimals            int
}

var labTests = map[string]labTest{
	"2345-7":  {"Glucose [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", 70, 99, 14, 0},
	"4548-4":  {"Hemoglobin A1c/Hemoglobin.total in Blood", "%", "%", 4.0, 5.6, 0.5, 1},
	"2160-0":  {"Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", 0.6, 1.2, 0.15, 2},
	"2951-2":  {"Sodium [Moles/volume] in Serum or Plasma", "mmol/L", "mmol/L", 135, 145, 3, 0},
	"2823-3":  {"Potassium [Moles/volume] in Serum or Plasma", "mmol/L", "mmol/L", 3.5, 5.1, 0.4, 1},
	"13457-7": {"Cholesterol in LDL [Mass/volume] in Serum or Plasma by calculation", "mg/dL", "mg/dL", 0, 99, 18, 0},
	"718-7":   {"Hemoglobin [Mass/volume] in Blood", "g/dL", "g/dL", 12, 16, 0.8, 1},
	"3016-3":  {"Thyrotropin [Units/volume] in Serum or Plasma", "mIU/L", "m[IU]/L", 0.4, 4.0, 1.6, 2},
}

const interpretationSystem = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"

// addLabs draws each visit's panel and files the results in a DiagnosticReport.
func (b *builder) addLabs() {
	for _, v := range b.visits {
		var results []obj
		for _, l := range b.spec.labs {
			t := labTests[l.loinc]
			value := round(b.jitter(l.base, t.spread), t.decimals)
			interp := coding(interpretationSystem, "N", "Normal")
			switch {
			case value > t.high:
				interp = coding(interpretationSystem, "H", "High")
			case t.low > 0 && value < t.low:
				interp = coding(interpretationSystem, "L", "Low")
			}
			rng := obj{"high": quantity(t.high, t.unit, t.ucum)}
			if t.low > 0 {
				rng["low"] = quantity(t.low, t.unit, t.ucum)
			}
			r := b.add(b.observation(v.start, obsCategorySystem, "laboratory"), obj{
				"status":            "final",
				"category":          []obj{concept("Laboratory", coding(obsCategorySystem, "laboratory", "Laboratory"))},
				"code":              concept(t.display, coding(loinc, l.loinc, t.display)),
				"subject":           b.patientRef(),
				"encounter":         ref("Encounter/"+v.id, ""),
				"effectiveDateTime": dateTime(v.start),
				"issued":            v.start.Add(26 * time.Hour).UTC().Format(time.RFC3339),
				"performer":         []obj{ref(b.orgRef, b.spec.name)},
				"valueQuantity":     quantity(value, t.unit, t.ucum),
				"interpretation":    []obj{concept(interp["display"].(string), interp)},
				"referenceRange":    []obj{rng},
			})
			r.codes = []string{token(loinc, l.loinc)}
			results = append(results, ref("Observation/"+r.id, t.display))
		}
		b.addLabReport(v, results)
	}
}

// observation starts an Observation record owned by the patient.
func (b *builder) observation(at time.Time, catSystem, category string) *record {
	r := b.own("Observation", "obs")
	r.date, r.status = at, "final"
	r.categories = []string{token(catSystem, category)}
	return r
}

func round(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(v*p) / p
}

func (b *builder) addVitals() {
	vs := b.spec.vitals
	cat := []obj{concept("Vital Signs", coding(obsCategorySystem, "vital-signs", "Vital Signs"))}
	vital := func(v visit, loincCode, display string, extra obj) {
		body := obj{
			"status": "final", "category": cat,
			"code":              concept(display, coding(loinc, loincCode, display)),
			"subject":           b.patientRef(),
			"encounter":         ref("Encounter/"+v.id, ""),
			"effectiveDateTime": dateTime(v.start),
		}
		for k, x := range extra {
			body[k] = x
		}
		r := b.add(b.observation(v.start, obsCategorySystem, "vital-signs"), body)
		r.codes = []string{token(loinc, loincCode)}
	}
	for _, v := range b.visits {
		sys, dia := round(b.jitter(vs.systolic, 8), 0), round(b.jitter(vs.diastolic, 5), 0)
		vital(v, "85354-9", "Blood pressure panel with all children optional", obj{"component": []obj{
			{"code": concept("Systolic blood pressure", coding(loinc, "8480-6", "Systolic blood pressure")),
				"valueQuantity": quantity(sys, "mmHg", "mm[Hg]")},
			{"code": concept("Diastolic blood pressure", coding(loinc, "8462-4", "Diastolic blood pressure")),
				"valueQuantity": quantity(dia, "mmHg", "mm[Hg]")},
		}})
		vital(v, "8867-4", "Heart rate", obj{"valueQuantity": quantity(round(b.jitter(vs.heartRate, 6), 0), "beats/minute", "/min")})
		weight := round(b.jitter(vs.weightKg, 2), 1)
		vital(v, "29463-7", "Body weight", obj{"valueQuantity": quantity(weight, "kg", "kg")})
		h := vs.heightCm / 100
		vital(v, "39156-5", "Body mass index (BMI) [Ratio]", obj{"valueQuantity": quantity(round(weight/(h*h), 1), "kg/m2", "kg/m2")})
	}
}

// addSocial records smoking status (social-history) and one SDOH screening
// answer (survey and sdoh), both at the latest visit.
func (b *builder) addSocial() {
	last := b.visits[len(b.visits)-1]
	r := b.add(b.observation(last.start, obsCategorySystem, "social-history"), obj{
		"status":               "final",
		"category":             []obj{concept("Social History", coding(obsCategorySystem, "social-history", "Social History"))},
		"code":                 concept("Tobacco smoking status", coding(loinc, "72166-2", "Tobacco smoking status")),
		"subject":              b.patientRef(),
		"effectiveDateTime":    dateTime(last.start),
		"valueCodeableConcept": concept(b.spec.smoking.display, coding(b.spec.smoking.system, b.spec.smoking.code, b.spec.smoking.display)),
	})
	r.codes = []string{token(loinc, "72166-2")}

	const question = "Within the past 12 months we worried whether our food would run out before we got money to buy more"
	r = b.add(b.observation(last.start, obsCategorySystem, "survey"), obj{
		"status": "final",
		"category": []obj{
			concept("Survey", coding(obsCategorySystem, "survey", "Survey")),
			concept("SDOH", coding(usCoreCategorySystem, "sdoh", "SDOH")),
		},
		"code":                 concept(question, coding(loinc, "88122-7", question)),
		"subject":              b.patientRef(),
		"effectiveDateTime":    dateTime(last.start),
		"valueCodeableConcept": concept("Never true", coding(loinc, "LA28398-8", "Never true")),
	})
	r.categories = append(r.categories, token(usCoreCategorySystem, "sdoh"))
	r.codes = []string{token(loinc, "88122-7")}
}

func conditionCode(c condition) obj {
	return concept(c.display, coding(snomed, c.snomed, c.display), coding(icd10, c.icd10, c.display))
}

func (b *builder) addConditions() {
	const clinical = "http://terminology.hl7.org/CodeSystem/condition-clinical"
	verified := concept("Confirmed", coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed"))
	add := func(c condition, onset time.Time, catSystem, cat, catDisplay, status string, extra obj) {
		body := obj{
			"clinicalStatus":     concept(status, coding(clinical, status, status)),
			"verificationStatus": verified,
			"category":           []obj{concept(catDisplay, coding(catSystem, cat, catDisplay))},
			"code":               conditionCode(c),
			"subject":            b.patientRef(),
			"onsetDateTime":      dateOnly(onset),
			"recordedDate":       dateOnly(b.visits[0].start),
		}
		for k, x := range extra {
			body[k] = x
		}
		r := b.own("Condition", "cond")
		r.date, r.status = onset, status
		r.categories = []string{token(catSystem, cat)}
		r.codes = []string{token(snomed, c.snomed), token(icd10, c.icd10)}
		b.add(r, body)
	}
	for _, c := range b.spec.problems {
		add(c, mustDate(c.onset), condCategorySystem, "problem-list-item", "Problem List Item", "active", nil)
	}
	v := b.visits[1]
	add(b.spec.diagnosis, v.start, condCategorySystem, "encounter-diagnosis", "Encounter Diagnosis", "resolved", obj{
		"encounter":         ref("Encounter/"+v.id, ""),
		"abatementDateTime": dateOnly(v.start.AddDate(0, 0, 14)),
	})
	c := b.spec.concern
	add(c, mustDate(c.onset), usCoreCondCategorySys, "health-concern", "Health Concern", "active", nil)
}
