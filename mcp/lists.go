package mcp

import sdk "github.com/modelcontextprotocol/go-sdk/mcp"

type allergiesIn struct {
	ClinicalStatus string `json:"clinical_status,omitempty" jsonschema:"active, inactive or resolved; several separated by commas"`
	Encounter      string `json:"encounter,omitempty" jsonschema:"only allergies recorded at this visit: an Encounter id or Encounter/<id>"`
	paging
}

type immunizationsIn struct {
	Status    string `json:"status,omitempty" jsonschema:"completed, entered-in-error or not-done; several separated by commas"`
	DateFrom  string `json:"date_from,omitempty" jsonschema:"only vaccinations on or after this date (YYYY, YYYY-MM or YYYY-MM-DD)"`
	DateTo    string `json:"date_to,omitempty" jsonschema:"only vaccinations on or before this date (YYYY, YYYY-MM or YYYY-MM-DD)"`
	Encounter string `json:"encounter,omitempty" jsonschema:"only vaccinations given at this visit: an Encounter id or Encounter/<id>"`
	paging
}

type carePlansIn struct {
	Category  string `json:"category,omitempty" jsonschema:"a care plan category as code or system|code, e.g. assess-plan"`
	Encounter string `json:"encounter,omitempty" jsonschema:"only plans made at this visit: an Encounter id or Encounter/<id>"`
	paging
}

type goalsIn struct {
	Encounter string `json:"encounter,omitempty" jsonschema:"only goals set at this visit: an Encounter id or Encounter/<id>"`
	paging
}

type careTeamIn struct {
	Status string `json:"status,omitempty" jsonschema:"proposed, active, suspended, inactive or entered-in-error; several separated by commas"`
	paging
}

type devicesIn struct {
	Type      string `json:"type,omitempty" jsonschema:"a device type as code or system|code (SNOMED CT), e.g. http://snomed.info/sct|337414009"`
	Encounter string `json:"encounter,omitempty" jsonschema:"an Encounter id or Encounter/<id>"`
	paging
}

func (t *tools) addLists(s *sdk.Server) {
	addSearch(t, s, searchTool[allergiesIn]{
		name: "list_allergies", title: "List allergies", resource: "AllergyIntolerance",
		description: "Lists the patient's allergies and intolerances: substance, reaction, severity, criticality and clinical status. " +
			"Filters: clinical_status, encounter.",
		build: func(in allergiesIn, q *query) {
			q.oneOf("clinical-status", "clinical_status", in.ClinicalStatus, allergyClinical)
			q.reference("encounter", "encounter", "Encounter", in.Encounter)
		},
	})
	addSearch(t, s, searchTool[immunizationsIn]{
		name: "list_immunizations", title: "List vaccinations", resource: "Immunization",
		description: "Lists the patient's Immunizations: vaccine (CVX code), date given, status, lot number and where. " +
			"Filters: status, date_from and date_to (inclusive), encounter.",
		build: func(in immunizationsIn, q *query) {
			q.oneOf("status", "status", in.Status, immunizationState)
			q.dates("date", "date_from", in.DateFrom, "date_to", in.DateTo)
			q.reference("encounter", "encounter", "Encounter", in.Encounter)
		},
	})
	addSearch(t, s, searchTool[carePlansIn]{
		name: "list_care_plans", title: "List care plans", resource: "CarePlan",
		description: "Lists the patient's CarePlans: the assessment and plan of treatment the clinicians wrote, with status, period and author. " +
			"Filters: category (US Core's is assess-plan), encounter.",
		build: func(in carePlansIn, q *query) {
			q.token("category", "category", in.Category)
			q.reference("encounter", "encounter", "Encounter", in.Encounter)
		},
	})
	addSearch(t, s, searchTool[goalsIn]{
		name: "list_goals", title: "List health goals", resource: "Goal",
		description: "Lists the patient's Goals (e.g. an A1c target): description, status, achievement, start and due dates. Filter: encounter.",
		build: func(in goalsIn, q *query) {
			q.reference("encounter", "encounter", "Encounter", in.Encounter)
		},
	})
	addSearch(t, s, searchTool[careTeamIn]{
		name: "list_care_team", title: "List the care team", resource: "CareTeam",
		description: "Lists the patient's CareTeams: the clinicians who look after the patient and their roles. Filter: status.",
		build: func(in careTeamIn, q *query) {
			q.oneOf("status", "status", in.Status, careTeamStatus)
		},
	})
	addSearch(t, s, searchTool[devicesIn]{
		name: "list_devices", title: "List devices", resource: "Device",
		description: "Lists the Devices recorded for the patient (implants, meters, nebulizers...): type, name, manufacturer, status. " +
			"Filters: type, encounter.",
		build: func(in devicesIn, q *query) {
			q.token("type", "type", in.Type)
			q.reference("encounter", "encounter", "Encounter", in.Encounter)
		},
	})
}
