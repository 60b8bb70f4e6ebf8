package fhir

import (
	"slices"
	"testing"
)

// A misspelt name in the tables would leave a real type unknown (refused and withheld as
// patient data nobody can tie to the patient) or, in shared, unchecked.
func TestTablesNameR4Types(t *testing.T) {
	t.Parallel()
	for typ, c := range patientTypes {
		if !IsResourceType(typ) {
			t.Errorf("patientTypes lists %q, which is no FHIR R4 resource type", typ)
		}
		if shared[typ] {
			t.Errorf("%s is both patient data and shared", typ)
		}
		if typ != "Patient" && len(c.SubjectPaths) == 0 {
			t.Errorf("%s has no element naming its patient, so no answer of it could be checked", typ)
		}
	}
	for typ := range shared {
		if !IsResourceType(typ) {
			t.Errorf("shared lists %q, which is no FHIR R4 resource type", typ)
		}
	}
}

func TestPatientCompartment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ           string
		ok            bool
		params, paths []string
		holdsPatient  bool
	}{
		{"Observation", true, []string{"patient", "subject"}, []string{"subject"}, true},
		{"Coverage", true, []string{"patient", "beneficiary"}, []string{"beneficiary"}, true},
		{"Patient", true, []string{"_id"}, nil, true},
		{"Binary", true, nil, []string{"securityContext"}, true},
		{"Practitioner", false, nil, nil, false},
		{"Bundle", false, nil, nil, true},   // may hold anyone's records, and nothing says whose
		{"NotAType", false, nil, nil, true}, // unknown counts as patient data
	}
	for _, tt := range tests {
		c, ok := PatientCompartment(tt.typ)
		if ok != tt.ok || !slices.Equal(c.SubjectParams, tt.params) || !slices.Equal(c.SubjectPaths, tt.paths) {
			t.Errorf("PatientCompartment(%q) = %+v, %v; want %v, %v, %v", tt.typ, c, ok, tt.params, tt.paths, tt.ok)
		}
		if got := HoldsPatientData(tt.typ); got != tt.holdsPatient {
			t.Errorf("HoldsPatientData(%q) = %v", tt.typ, got)
		}
	}
}

func TestIsPatientParam(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"patient", "subject", "beneficiary", "for", "actor"} {
		if !IsPatientParam(p) {
			t.Errorf("IsPatientParam(%q) = false", p)
		}
	}
	for _, p := range []string{"code", "_id", "patient.name", "performer", ""} {
		if IsPatientParam(p) {
			t.Errorf("IsPatientParam(%q) = true", p)
		}
	}
}
