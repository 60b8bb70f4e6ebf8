package mcp

import sdk "github.com/modelcontextprotocol/go-sdk/mcp"

type conditionIn struct {
	Category  conditionCategory `json:"category,omitempty"`
	OnsetFrom string            `json:"onset_from,omitempty" jsonschema:"YYYY-MM-DD"`
	OnsetTo   string            `json:"onset_to,omitempty" jsonschema:"YYYY-MM-DD"`
	Encounter string            `json:"encounter,omitempty"`
	Name      string            `json:"name,omitempty" jsonschema:"words in the condition's name, e.g. diabetes"`
	paging
}

type problemsIn struct{ paging }

func (t *tools) addCondition(s *sdk.Server) {
	addSearch(t, s, searchTool[conditionIn]{
		name: "search_condition", title: "Conditions and diagnoses", resource: "Condition",
		description: "The patient's problems, visit diagnoses and health concerns: code, clinical status, onset.",
		build: func(in conditionIn, q *query) {
			q.friendlyCategory("category", string(in.Category))
			q.dates("onset-date", "onset_from", in.OnsetFrom, "onset_to", in.OnsetTo)
			q.reference("encounter", "encounter", "Encounter", in.Encounter)
			q.byName("name", in.Name, false)
		},
	})
	addSearch(t, s, searchTool[problemsIn]{
		name: "list_problems", title: "Problem list", resource: "Condition",
		description: "The patient's problem list (visit diagnoses: search_condition): code, clinical status, onset.",
		build: func(_ problemsIn, q *query) {
			q.category = "problem-list-item"
			q.fixed.Set("category", "http://terminology.hl7.org/CodeSystem/condition-category|problem-list-item")
		},
	})
}
