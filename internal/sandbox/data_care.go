package sandbox

import (
	"fmt"
	"time"
)

// addMedications writes active prescriptions at the first visit and the
// stopped ones at the second, where the acute diagnosis was made.
func (b *builder) addMedications() {
	category := []obj{concept("Community", coding("http://terminology.hl7.org/CodeSystem/medicationrequest-category", "community", "Community"))}
	for _, m := range b.spec.meds {
		med := concept(m.display, coding(rxnorm, m.rxnorm, m.display))
		v, status := b.visits[0], "active"
		if !m.active {
			v, status = b.visits[1], "stopped"
		}
		body := obj{
			"status":            status,
			"intent":            "order",
			"category":          category,
			"subject":           b.patientRef(),
			"encounter":         ref("Encounter/"+v.id, ""),
			"authoredOn":        dateTime(v.start),
			"requester":         ref(v.clinRef, v.clinName),
			"dosageInstruction": []obj{{"text": m.dosage}},
		}
		if m.asReference {
			mr := b.add(&record{typ: "Medication", id: b.newID("med"), codes: []string{token(rxnorm, m.rxnorm)}, status: "active"},
				obj{"status": "active", "code": med})
			body["medicationReference"] = ref("Medication/"+mr.id, m.display)
		} else {
			body["medicationCodeableConcept"] = med
		}
		r := b.own("MedicationRequest", "mr")
		r.date, r.status, r.codes = v.start, status, []string{token(rxnorm, m.rxnorm)}
		b.add(r, body)
	}
}

func (b *builder) addAllergies() {
	a := b.spec.allergy
	severity := "mild"
	if a.criticality == "high" {
		severity = "severe"
	}
	r := b.own("AllergyIntolerance", "al")
	r.date, r.status, r.codes = b.visits[0].start, "active", []string{token(a.substance.system, a.substance.code)}
	b.add(r, obj{
		"clinicalStatus":     concept("Active", coding("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", "Active")),
		"verificationStatus": concept("Confirmed", coding("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed", "Confirmed")),
		"type":               "allergy",
		"category":           []string{a.category},
		"criticality":        a.criticality,
		"code":               concept(a.substance.display, coding(a.substance.system, a.substance.code, a.substance.display)),
		"patient":            b.patientRef(),
		"recordedDate":       dateOnly(b.visits[0].start),
		"reaction": []obj{{
			"manifestation": []obj{concept(a.reaction.display, coding(a.reaction.system, a.reaction.code, a.reaction.display))},
			"severity":      severity,
		}},
	})
}

func (b *builder) addImmunizations() {
	last := b.visits[len(b.visits)-1]
	shots := []struct {
		cvx, display string
		at           time.Time
	}{
		{"158", "influenza, injectable, quadrivalent, contains preservative", last.start},
		{"115", "Tdap", b.visits[0].start.AddDate(-1, -2, 0)},
	}
	for i, s := range shots {
		r := b.own("Immunization", "imm")
		r.date, r.status, r.codes = s.at, "completed", []string{token(cvx, s.cvx)}
		b.add(r, obj{
			"status":             "completed",
			"vaccineCode":        concept(s.display, coding(cvx, s.cvx, s.display)),
			"patient":            b.patientRef(),
			"occurrenceDateTime": dateTime(s.at),
			"primarySource":      true,
			"lotNumber":          fmt.Sprintf("SBX-LOT-%03d", 100+i),
			"location":           ref(b.locRef, b.spec.name+" - Main Clinic"),
		})
	}
}

// addCare adds the longitudinal resources: CarePlan, CareTeam, Coverage and
// Goal.
func (b *builder) addCare() {
	last := b.visits[len(b.visits)-1]
	const carePlanCat = "http://hl7.org/fhir/us/core/CodeSystem/careplan-category"
	r := b.own("CarePlan", "cp")
	r.date, r.status, r.categories = last.start, "active", []string{token(carePlanCat, "assess-plan")}
	b.add(r, obj{
		"text": obj{"status": "generated",
			"div": `<div xmlns="http://www.w3.org/1999/xhtml"><p>` + b.spec.carePlan + `</p></div>`},
		"status":      "active",
		"intent":      "plan",
		"category":    []obj{concept("Assessment and Plan of Treatment", coding(carePlanCat, "assess-plan", "Assessment and Plan of Treatment"))},
		"title":       "Care plan",
		"description": b.spec.carePlan,
		"subject":     b.patientRef(),
		"period":      obj{"start": dateOnly(last.start)},
		"author":      ref(b.pcpRef, fullName(b.spec.clinicians[0])),
	})

	var members []obj
	for i, c := range b.spec.clinicians {
		members = append(members, obj{"role": []obj{concept(c.role)}, "member": ref(b.clinRef[i], fullName(c))})
	}
	r = b.own("CareTeam", "ct")
	r.date, r.status = b.visits[0].start, "active"
	b.add(r, obj{
		"status":               "active",
		"name":                 b.p.patientName + " primary care team",
		"subject":              b.patientRef(),
		"participant":          members,
		"managingOrganization": []obj{ref(b.orgRef, b.spec.name)},
	})

	pt := b.spec.patient
	r = b.own("Coverage", "cov")
	r.date, r.status = mustDate(fmt.Sprintf("%d-01-01", b.visits[0].start.Year())), "active"
	b.add(r, obj{
		"status":       "active",
		"type":         concept("health insurance plan policy", coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "HIP", "health insurance plan policy")),
		"subscriberId": pt.subscriberID,
		"beneficiary":  b.patientRef(),
		"relationship": concept("Self", coding("http://terminology.hl7.org/CodeSystem/subscriber-relationship", "self", "Self")),
		"period":       obj{"start": dateOnly(r.date)},
		"payor":        []obj{{"display": pt.insurer}},
		"class": []obj{{
			"type":  concept("Group", coding("http://terminology.hl7.org/CodeSystem/coverage-class", "group", "Group")),
			"value": "GRP-SANDBOX", "name": pt.insurer,
		}},
	})

	r = b.own("Goal", "goal")
	r.date, r.status = b.visits[0].start, "active"
	b.add(r, obj{
		"lifecycleStatus":   "active",
		"achievementStatus": concept("In Progress", coding("http://terminology.hl7.org/CodeSystem/goal-achievement", "in-progress", "In Progress")),
		"description":       concept(b.spec.goal),
		"subject":           b.patientRef(),
		"startDate":         dateOnly(b.visits[0].start),
		"target":            []obj{{"dueDate": dateOnly(last.start.AddDate(0, 6, 0))}},
		"expressedBy":       ref(b.pcpRef, fullName(b.spec.clinicians[0])),
	})
}

const v20074 = "http://terminology.hl7.org/CodeSystem/v2-0074"

func (b *builder) addLabReport(v visit, results []obj) {
	r := b.own("DiagnosticReport", "dr")
	r.date, r.status = v.start, "final"
	r.codes, r.categories = []string{token(loinc, "11502-2")}, []string{token(v20074, "LAB")}
	b.add(r, obj{
		"status":            "final",
		"category":          []obj{concept("Laboratory", coding(v20074, "LAB", "Laboratory"))},
		"code":              concept("Laboratory report", coding(loinc, "11502-2", "Laboratory report")),
		"subject":           b.patientRef(),
		"encounter":         ref("Encounter/"+v.id, ""),
		"effectiveDateTime": dateTime(v.start),
		"issued":            v.start.Add(26 * time.Hour).UTC().Format(time.RFC3339),
		"performer":         []obj{ref(b.orgRef, b.spec.name)},
		"result":            results,
	})
}

// addOrdersAndProcedures adds Procedures (one per visit, from the first),
// a Device and a referral ServiceRequest.
func (b *builder) addOrdersAndProcedures() {
	for i, p := range b.spec.procedures {
		v := b.visits[i%len(b.visits)]
		r := b.own("Procedure", "proc")
		r.date, r.status, r.codes = v.start, "completed", []string{token(p.system, p.code)}
		b.add(r, obj{
			"status":            "completed",
			"code":              concept(p.display, coding(p.system, p.code, p.display)),
			"subject":           b.patientRef(),
			"encounter":         ref("Encounter/"+v.id, ""),
			"performedDateTime": dateTime(v.start),
			"performer":         []obj{{"actor": ref(v.clinRef, v.clinName)}},
			"location":          ref(b.locRef, b.spec.name+" - Main Clinic"),
		})
	}

	d := b.spec.device
	r := b.own("Device", "dev")
	r.date, r.status, r.codes = b.visits[0].start, "active", []string{token(d.system, d.code)}
	b.add(r, obj{
		"status":       "active",
		"type":         concept(d.display, coding(d.system, d.code, d.display)),
		"deviceName":   []obj{{"name": d.display, "type": "user-friendly-name"}},
		"manufacturer": "Example Devices Inc. (synthetic)",
		"patient":      b.patientRef(),
	})

	last := b.visits[len(b.visits)-1]
	s := b.spec.referral
	r = b.own("ServiceRequest", "sr")
	r.date, r.status = last.start, "active"
	r.codes, r.categories = []string{token(s.system, s.code)}, []string{token(snomed, "3457005")}
	b.add(r, obj{
		"status":     "active",
		"intent":     "order",
		"category":   []obj{concept("Patient referral", coding(snomed, "3457005", "Patient referral"))},
		"code":       concept(s.display, coding(s.system, s.code, s.display)),
		"subject":    b.patientRef(),
		"encounter":  ref("Encounter/"+last.id, ""),
		"authoredOn": dateTime(last.start),
		"requester":  ref(last.clinRef, last.clinName),
		"reasonCode": []obj{conditionCode(b.spec.problems[0])},
	})
}

// addProvenance records that the practice authored the patient's chart,
// which is what eCW's Provenance resources mostly say.
func (b *builder) addProvenance() {
	r := b.own("Provenance", "prov")
	r.date = b.visits[0].start
	b.add(r, obj{
		"target":   []obj{ref("Patient/"+b.spec.patient.id, "")},
		"recorded": b.visits[0].start.UTC().Format(time.RFC3339),
		"agent": []obj{{
			"type": concept("Author", coding("http://terminology.hl7.org/CodeSystem/provenance-participant-type", "author", "Author")),
			"who":  ref(b.orgRef, b.spec.name),
		}},
	})
}
