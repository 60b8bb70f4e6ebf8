package mcp

import sdk "github.com/modelcontextprotocol/go-sdk/mcp"

type medicationRequestIn struct {
	Status            medRequestStatus `json:"status,omitempty"`
	Intent            medRequestIntent `json:"intent,omitempty"`
	AuthoredFrom      string           `json:"authored_from,omitempty" jsonschema:"YYYY-MM-DD"`
	AuthoredTo        string           `json:"authored_to,omitempty" jsonschema:"YYYY-MM-DD"`
	Encounter         string           `json:"encounter,omitempty"`
	IntendedDispenser string           `json:"intended_dispenser,omitempty" jsonschema:"a pharmacy's Organization id"`
	IncludeMedication bool             `json:"include_medication,omitempty" jsonschema:"add referenced Medications (eCW names some drugs only there)"`
	Name              string           `json:"name,omitempty" jsonschema:"words in the drug's name, e.g. metformin"`
	paging
}

func (t *tools) addMedication(s *sdk.Server) {
	addSearch(t, s, searchTool[medicationRequestIn]{
		name: "search_medication_request", title: "Prescriptions", resource: "MedicationRequest",
		description: "The patient's prescriptions: drug, dosage, status, prescriber, date. status active gives current medications.",
		build: func(in medicationRequestIn, q *query) {
			word(q, "status", "status", in.Status)
			word(q, "intent", "intent", in.Intent)
			q.dates("authoredon", "authored_from", in.AuthoredFrom, "authored_to", in.AuthoredTo)
			q.reference("encounter", "encounter", "Encounter", in.Encounter)
			q.reference("intended-dispenser", "intended_dispenser", "Organization", in.IntendedDispenser)
			q.byName("name", in.Name, false)
			if in.IncludeMedication {
				q.set("include_medication", "true")
				q.params.Set("_include", "MedicationRequest:medication")
			}
		},
	})
}
