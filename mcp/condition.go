package mcp

import sdk "github.com/modelcontextprotocol/go-sdk/mcp"

type conditionIn struct {
	Category  string `json:"category,omitempty" jsonschema:"one of problem-list-item, encounter-diagnosis, health-concern"`
	OnsetFrom string `json:"onset_from,omitempty" jsonschema:"only conditions that began on or after this date (YYYY, YYYY-MM or YYYY-MM-DD)"`
	OnsetTo   string `json:"onset_to,omitempty" jsonschema:"only conditions that began on or before this date (YYYY, YYYY-MM or YYYY-MM-DD)"`
	Encounter string `json:"encounter,omitempty" jsonschema:"only diagnoses made at this visit: an Encounter id or Encounter/<id>"`
	Name      string `json:"name,omitempty" jsonschema:"only conditions whose name holds these words, e.g. diabetes"`
	paging
}

type problemsIn struct{ paging }

func (t *tools) addCondition(s *sdk.Server) {
	addSearch(t, s, searchTool[conditionIn]{
		name: "search_condition", title: "Search conditions and diagnoses", resource: "Condition",
		description: "Searches the patient's Conditions: problem list entries, diagnoses made at visits and health concerns, " +
			"with codes (SNOMED CT, ICD-10), clinical status, onset and abatement. " +
			"category is one of problem-list-item, encounter-diagnosis, health-concern; an unknown one is refused with the list. " +
			"Other filters: onset_from and onset_to (inclusive), encounter.",
		build: func(in conditionIn, q *query) {
			q.friendlyCategory("category", in.Category)
			q.dates("onset-date", "onset_from", in.OnsetFrom, "onset_to", in.OnsetTo)
			q.reference("encounter", "encounter", "Encounter", in.Encounter)
			q.byName("name", in.Name, false)
		},
	})
	addSearch(t, s, searchTool[problemsIn]{
		name: "list_problems", title: "List the problem list", resource: "Condition",
		description: "Lists the patient's problem list at a practice (Conditions in category problem-list-item): chronic and current problems " +
			"with codes, clinical status (active, resolved...) and onset. For visit diagnoses or health concerns use search_condition.",
		build: func(_ problemsIn, q *query) {
			q.category = "problem-list-item"
			q.fixed.Set("category", "http://terminology.hl7.org/CodeSystem/condition-category|problem-list-item")
		},
	})
}
