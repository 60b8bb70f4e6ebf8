package mcp

import sdk "github.com/modelcontextprotocol/go-sdk/mcp"

type encounterIn struct {
	DateFrom     string `json:"date_from,omitempty" jsonschema:"only visits on or after this date (YYYY, YYYY-MM or YYYY-MM-DD)"`
	DateTo       string `json:"date_to,omitempty" jsonschema:"only visits on or before this date (YYYY, YYYY-MM or YYYY-MM-DD)"`
	Practitioner string `json:"practitioner,omitempty" jsonschema:"only visits with this clinician: a Practitioner id or Practitioner/<id>"`
	Location     string `json:"location,omitempty" jsonschema:"only visits at this place: a Location id or Location/<id>"`
	paging
}

func (t *tools) addEncounter(s *sdk.Server) {
	addSearch(t, s, searchTool[encounterIn]{
		name: "search_encounter", title: "Search visits", resource: "Encounter",
		description: "Searches the patient's Encounters (office visits, telehealth, hospital stays) at a practice, newest first as the practice orders them: " +
			"date, type, reason, clinicians and location. Filters: date_from and date_to (inclusive), practitioner, location.",
		build: func(in encounterIn, q *query) {
			q.dates("date", "date_from", in.DateFrom, "date_to", in.DateTo)
			q.reference("practitioner", "practitioner", "Practitioner", in.Practitioner)
			q.reference("location", "location", "Location", in.Location)
		},
	})
}
