package mcp

import sdk "github.com/modelcontextprotocol/go-sdk/mcp"

type encounterIn struct {
	DateFrom     string `json:"date_from,omitempty" jsonschema:"YYYY-MM-DD"`
	DateTo       string `json:"date_to,omitempty" jsonschema:"YYYY-MM-DD"`
	Practitioner string `json:"practitioner,omitempty" jsonschema:"a clinician's Practitioner id"`
	Location     string `json:"location,omitempty" jsonschema:"a Location id"`
	paging
}

func (t *tools) addEncounter(s *sdk.Server) {
	addSearch(t, s, searchTool[encounterIn]{
		name: "search_encounter", title: "Visits", resource: "Encounter",
		description: "The patient's visits (Encounters): date, type, reason, clinicians, location.",
		build: func(in encounterIn, q *query) {
			q.dates("date", "date_from", in.DateFrom, "date_to", in.DateTo)
			q.reference("practitioner", "practitioner", "Practitioner", in.Practitioner)
			q.reference("location", "location", "Location", in.Location)
		},
	})
}
