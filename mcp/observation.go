package mcp

import (
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/practice/fhir"
)

type observationIn struct {
	Category  string `json:"category,omitempty" jsonschema:"one of laboratory, vital-signs, social-history, survey, exam, imaging, procedure, activity, sdoh"`
	Code      string `json:"code,omitempty" jsonschema:"a test or measurement code, as code or system|code, several separated by commas, e.g. http://loinc.org|4548-4 for hemoglobin A1c"`
	DateFrom  string `json:"date_from,omitempty" jsonschema:"only results on or after this date (YYYY, YYYY-MM or YYYY-MM-DD)"`
	DateTo    string `json:"date_to,omitempty" jsonschema:"only results on or before this date (YYYY, YYYY-MM or YYYY-MM-DD)"`
	Status    string `json:"status,omitempty" jsonschema:"registered, preliminary, final, amended, corrected, cancelled, entered-in-error or unknown; several separated by commas"`
	Encounter string `json:"encounter,omitempty" jsonschema:"only results from this visit: an Encounter id or Encounter/<id>"`
	Since     string `json:"since,omitempty" jsonschema:"only results the practice changed since this instant (YYYY-MM-DDThh:mm:ssZ), e.g. to see what is new"`
	Name      string `json:"name,omitempty" jsonschema:"a test by name instead of code, e.g. cholesterol, a1c, glucose, cbc, metabolic panel, tsh, blood pressure, weight"`
	Latest    bool   `json:"latest,omitempty" jsonschema:"only the most recent result of each test"`
	paging
}

func categoryNames(cats []fhir.Category) string {
	names := make([]string, len(cats))
	for i, c := range cats {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

func (t *tools) addObservation(s *sdk.Server) {
	addSearch(t, s, searchTool[observationIn]{
		name: "search_observation", title: "Search results and measurements", resource: "Observation",
		description: "Searches the patient's Observations: laboratory results, vital signs, smoking and other social history, survey answers, " +
			"social needs (sdoh), exam findings and more, with values, units, reference ranges and dates. " +
			"category is one of " + categoryNames(fhir.ObservationCategories) + "; an unknown one is refused with the list. " +
			"Other filters: code, date_from and date_to (inclusive), status, encounter, since.",
		build: func(in observationIn, q *query) {
			q.friendlyCategory("category", in.Category)
			q.token("code", "code", in.Code)
			q.byName("name", in.Name, true)
			q.latest = in.Latest
			q.dates("date", "date_from", in.DateFrom, "date_to", in.DateTo)
			q.oneOf("status", "status", in.Status, observationStatus)
			q.reference("encounter", "encounter", "Encounter", in.Encounter)
			q.instant("_since", "since", in.Since)
		},
	})
}
