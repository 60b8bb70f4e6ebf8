package mcp

import sdk "github.com/modelcontextprotocol/go-sdk/mcp"

type observationIn struct {
	Category  observationCategory `json:"category,omitempty"`
	Code      string              `json:"code,omitempty" jsonschema:"code or system|code, comma-separated, e.g. http://loinc.org|4548-4 (A1c)"`
	DateFrom  string              `json:"date_from,omitempty" jsonschema:"YYYY-MM-DD"`
	DateTo    string              `json:"date_to,omitempty" jsonschema:"YYYY-MM-DD"`
	Status    observationStatus   `json:"status,omitempty"`
	Encounter string              `json:"encounter,omitempty"`
	Since     string              `json:"since,omitempty" jsonschema:"changed since YYYY-MM-DDThh:mm:ssZ"`
	Name      string              `json:"name,omitempty" jsonschema:"a test by name instead of code, e.g. cholesterol, a1c, tsh, cbc, blood pressure"`
	Latest    bool                `json:"latest,omitempty" jsonschema:"only the newest result of each test"`
	paging
}

func (t *tools) addObservation(s *sdk.Server) {
	addSearch(t, s, searchTool[observationIn]{
		name: "search_observation", title: "Lab results and vital signs", resource: "Observation",
		description: "The patient's lab results, vital signs and other Observations: value, unit, reference range, date.",
		build: func(in observationIn, q *query) {
			q.friendlyCategory("category", string(in.Category))
			q.token("code", "code", in.Code)
			q.byName("name", in.Name, true)
			q.latest = in.Latest
			q.dates("date", "date_from", in.DateFrom, "date_to", in.DateTo)
			word(q, "status", "status", in.Status)
			q.reference("encounter", "encounter", "Encounter", in.Encounter)
			q.instant("_since", "since", in.Since)
		},
	})
}
