package mcp

import sdk "github.com/modelcontextprotocol/go-sdk/mcp"

type medicationRequestIn struct {
	Status            string `json:"status,omitempty" jsonschema:"active, on-hold, cancelled, completed, entered-in-error, stopped, draft or unknown; several separated by commas, e.g. active for current medications"`
	Intent            string `json:"intent,omitempty" jsonschema:"proposal, plan, order, original-order, reflex-order, filler-order, instance-order or option; several separated by commas"`
	AuthoredFrom      string `json:"authored_from,omitempty" jsonschema:"only prescriptions written on or after this date (YYYY, YYYY-MM or YYYY-MM-DD)"`
	AuthoredTo        string `json:"authored_to,omitempty" jsonschema:"only prescriptions written on or before this date (YYYY, YYYY-MM or YYYY-MM-DD)"`
	Encounter         string `json:"encounter,omitempty" jsonschema:"only prescriptions from this visit: an Encounter id or Encounter/<id>"`
	IntendedDispenser string `json:"intended_dispenser,omitempty" jsonschema:"only prescriptions sent to this pharmacy: an Organization id or Organization/<id>"`
	Name              string `json:"name,omitempty" jsonschema:"only drugs whose name holds these words, e.g. metformin"`
	IncludeMedication bool   `json:"include_medication,omitempty" jsonschema:"also return the Medication resources the prescriptions reference (in included); eCW names some drugs only there"`
	paging
}

func (t *tools) addMedication(s *sdk.Server) {
	addSearch(t, s, searchTool[medicationRequestIn]{
		name: "search_medication_request", title: "Search prescriptions", resource: "MedicationRequest",
		description: "Searches the patient's MedicationRequests (prescriptions and medication orders): drug, dose instructions, status, " +
			"prescriber and date. status=active gives the current medication list. A drug named only by medicationReference is a " +
			"Medication resource: set include_medication to get those too. Other filters: intent, authored_from and authored_to (inclusive), encounter, intended_dispenser.",
		build: func(in medicationRequestIn, q *query) {
			q.oneOf("status", "status", in.Status, medRequestStatus)
			q.oneOf("intent", "intent", in.Intent, medRequestIntent)
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
