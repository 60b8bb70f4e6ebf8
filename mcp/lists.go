package mcp

import sdk "github.com/modelcontextprotocol/go-sdk/mcp"

type allergiesIn struct {
	ClinicalStatus allergyClinicalStatus `json:"clinical_status,omitempty"`
	Encounter      string                `json:"encounter,omitempty"`
	paging
}

type immunizationsIn struct {
	Status    immunizationStatus `json:"status,omitempty"`
	DateFrom  string             `json:"date_from,omitempty" jsonschema:"YYYY-MM-DD"`
	DateTo    string             `json:"date_to,omitempty" jsonschema:"YYYY-MM-DD"`
	Encounter string             `json:"encounter,omitempty"`
	paging
}

type carePlansIn struct {
	Category  string `json:"category,omitempty" jsonschema:"code or system|code; US Core's is assess-plan"`
	Encounter string `json:"encounter,omitempty"`
	paging
}

type goalsIn struct {
	Encounter string `json:"encounter,omitempty"`
	paging
}

type careTeamIn struct {
	Status careTeamStatus `json:"status,omitempty"`
	paging
}

type devicesIn struct {
	Type      string `json:"type,omitempty" jsonschema:"code or system|code (SNOMED CT)"`
	Encounter string `json:"encounter,omitempty"`
	paging
}

func (t *tools) addLists(s *sdk.Server) {
	addSearch(t, s, searchTool[allergiesIn]{
		name: "list_allergies", title: "Allergies", resource: "AllergyIntolerance",
		description: "The patient's allergies and intolerances: substance, reaction, severity, status.",
		build: func(in allergiesIn, q *query) {
			word(q, "clinical-status", "clinical_status", in.ClinicalStatus)
			q.reference("encounter", "encounter", "Encounter", in.Encounter)
		},
	})
	addSearch(t, s, searchTool[immunizationsIn]{
		name: "list_immunizations", title: "Vaccinations", resource: "Immunization",
		description: "The patient's vaccinations: vaccine (CVX), date, status, lot.",
		build: func(in immunizationsIn, q *query) {
			word(q, "status", "status", in.Status)
			q.dates("date", "date_from", in.DateFrom, "date_to", in.DateTo)
			q.reference("encounter", "encounter", "Encounter", in.Encounter)
		},
	})
	addSearch(t, s, searchTool[carePlansIn]{
		name: "list_care_plans", title: "Care plans", resource: "CarePlan",
		description: "The patient's care plans: the clinicians' assessment and plan, status, period.",
		build: func(in carePlansIn, q *query) {
			q.token("category", "category", in.Category)
			q.reference("encounter", "encounter", "Encounter", in.Encounter)
		},
	})
	addSearch(t, s, searchTool[goalsIn]{
		name: "list_goals", title: "Health goals", resource: "Goal",
		description: "The patient's health goals (e.g. an A1c target): status, achievement, dates.",
		build: func(in goalsIn, q *query) {
			q.reference("encounter", "encounter", "Encounter", in.Encounter)
		},
	})
	addSearch(t, s, searchTool[careTeamIn]{
		name: "list_care_team", title: "Care team", resource: "CareTeam",
		description: "The patient's care team: clinicians and their roles.",
		build: func(in careTeamIn, q *query) {
			word(q, "status", "status", in.Status)
		},
	})
	addSearch(t, s, searchTool[devicesIn]{
		name: "list_devices", title: "Devices", resource: "Device",
		description: "The patient's devices (implants, meters...): type, name, status.",
		build: func(in devicesIn, q *query) {
			q.token("type", "type", in.Type)
			q.reference("encounter", "encounter", "Encounter", in.Encounter)
		},
	})
}
