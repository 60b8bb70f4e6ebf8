package mcp

import sdk "github.com/modelcontextprotocol/go-sdk/mcp"

type diagnosticReportIn struct {
	Category  string       `json:"category,omitempty" jsonschema:"code or system|code, e.g. LAB or RAD (radiology)"`
	Code      string       `json:"code,omitempty" jsonschema:"code or system|code (LOINC), comma-separated"`
	DateFrom  string       `json:"date_from,omitempty" jsonschema:"YYYY-MM-DD"`
	DateTo    string       `json:"date_to,omitempty" jsonschema:"YYYY-MM-DD"`
	Status    reportStatus `json:"status,omitempty"`
	Encounter string       `json:"encounter,omitempty"`
	Name      string       `json:"name,omitempty" jsonschema:"a report by name instead of code, e.g. lipid panel, cbc"`
	Latest    bool         `json:"latest,omitempty" jsonschema:"only the newest report of each kind"`
	paging
}

type procedureIn struct {
	Code      string          `json:"code,omitempty" jsonschema:"code or system|code (SNOMED CT, CPT), comma-separated"`
	DateFrom  string          `json:"date_from,omitempty" jsonschema:"YYYY-MM-DD"`
	DateTo    string          `json:"date_to,omitempty" jsonschema:"YYYY-MM-DD"`
	Status    procedureStatus `json:"status,omitempty"`
	Encounter string          `json:"encounter,omitempty"`
	paging
}

type serviceRequestIn struct {
	Category       string        `json:"category,omitempty" jsonschema:"code or system|code, e.g. http://snomed.info/sct|3457005 (referral)"`
	Code           string        `json:"code,omitempty" jsonschema:"code or system|code, comma-separated"`
	AuthoredFrom   string        `json:"authored_from,omitempty" jsonschema:"YYYY-MM-DD"`
	AuthoredTo     string        `json:"authored_to,omitempty" jsonschema:"YYYY-MM-DD"`
	OccurrenceFrom string        `json:"occurrence_from,omitempty" jsonschema:"YYYY-MM-DD"`
	OccurrenceTo   string        `json:"occurrence_to,omitempty" jsonschema:"YYYY-MM-DD"`
	Status         requestStatus `json:"status,omitempty"`
	paging
}

func (t *tools) addReports(s *sdk.Server) {
	addSearch(t, s, searchTool[diagnosticReportIn]{
		name: "search_diagnostic_report", title: "Lab and imaging reports", resource: "DiagnosticReport",
		description: "The patient's lab panels and radiology and other reports, with conclusions. Radiology reports are long: ask for a few.",
		build: func(in diagnosticReportIn, q *query) {
			q.token("category", "category", in.Category)
			q.token("code", "code", in.Code)
			q.byName("name", in.Name, true)
			q.latest = in.Latest
			q.dates("date", "date_from", in.DateFrom, "date_to", in.DateTo)
			word(q, "status", "status", in.Status)
			q.reference("encounter", "encounter", "Encounter", in.Encounter)
		},
	})
	addSearch(t, s, searchTool[procedureIn]{
		name: "search_procedure", title: "Procedures", resource: "Procedure",
		description: "The patient's procedures (ECGs, colonoscopies, surgeries...): code, date, status, performer.",
		build: func(in procedureIn, q *query) {
			q.token("code", "code", in.Code)
			q.dates("date", "date_from", in.DateFrom, "date_to", in.DateTo)
			word(q, "status", "status", in.Status)
			q.reference("encounter", "encounter", "Encounter", in.Encounter)
		},
	})
	addSearch(t, s, searchTool[serviceRequestIn]{
		name: "search_service_request", title: "Orders and referrals", resource: "ServiceRequest",
		description: "The patient's orders and referrals: what was ordered, status, reason, requester, dates.",
		build: func(in serviceRequestIn, q *query) {
			q.token("category", "category", in.Category)
			q.token("code", "code", in.Code)
			q.dates("authored", "authored_from", in.AuthoredFrom, "authored_to", in.AuthoredTo)
			q.dates("occurrence", "occurrence_from", in.OccurrenceFrom, "occurrence_to", in.OccurrenceTo)
			word(q, "status", "status", in.Status)
		},
	})
}
