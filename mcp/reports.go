package mcp

import sdk "github.com/modelcontextprotocol/go-sdk/mcp"

type diagnosticReportIn struct {
	Category  string `json:"category,omitempty" jsonschema:"a report category as code or system|code, e.g. LAB for laboratory or RAD for radiology (http://terminology.hl7.org/CodeSystem/v2-0074)"`
	Code      string `json:"code,omitempty" jsonschema:"the report's code as code or system|code (LOINC), several separated by commas"`
	DateFrom  string `json:"date_from,omitempty" jsonschema:"only reports on or after this date (YYYY, YYYY-MM or YYYY-MM-DD)"`
	DateTo    string `json:"date_to,omitempty" jsonschema:"only reports on or before this date (YYYY, YYYY-MM or YYYY-MM-DD)"`
	Status    string `json:"status,omitempty" jsonschema:"registered, partial, preliminary, final, amended, corrected, appended, cancelled, entered-in-error or unknown; several separated by commas"`
	Encounter string `json:"encounter,omitempty" jsonschema:"an Encounter id or Encounter/<id>"`
	Name      string `json:"name,omitempty" jsonschema:"a report by name instead of code, e.g. lipid panel, cbc, metabolic panel"`
	Latest    bool   `json:"latest,omitempty" jsonschema:"only the most recent report of each kind"`
	paging
}

type procedureIn struct {
	Code      string `json:"code,omitempty" jsonschema:"the procedure's code as code or system|code (SNOMED CT, CPT), several separated by commas"`
	DateFrom  string `json:"date_from,omitempty" jsonschema:"only procedures on or after this date (YYYY, YYYY-MM or YYYY-MM-DD)"`
	DateTo    string `json:"date_to,omitempty" jsonschema:"only procedures on or before this date (YYYY, YYYY-MM or YYYY-MM-DD)"`
	Status    string `json:"status,omitempty" jsonschema:"preparation, in-progress, not-done, on-hold, stopped, completed, entered-in-error or unknown; several separated by commas"`
	Encounter string `json:"encounter,omitempty" jsonschema:"an Encounter id or Encounter/<id>"`
	paging
}

type serviceRequestIn struct {
	Category       string `json:"category,omitempty" jsonschema:"a category as code or system|code, e.g. http://snomed.info/sct|3457005 for referrals"`
	Code           string `json:"code,omitempty" jsonschema:"what was ordered, as code or system|code, several separated by commas"`
	AuthoredFrom   string `json:"authored_from,omitempty" jsonschema:"only orders written on or after this date (YYYY, YYYY-MM or YYYY-MM-DD)"`
	AuthoredTo     string `json:"authored_to,omitempty" jsonschema:"only orders written on or before this date (YYYY, YYYY-MM or YYYY-MM-DD)"`
	OccurrenceFrom string `json:"occurrence_from,omitempty" jsonschema:"only orders to happen on or after this date (YYYY, YYYY-MM or YYYY-MM-DD)"`
	OccurrenceTo   string `json:"occurrence_to,omitempty" jsonschema:"only orders to happen on or before this date (YYYY, YYYY-MM or YYYY-MM-DD)"`
	Status         string `json:"status,omitempty" jsonschema:"draft, active, on-hold, revoked, completed, entered-in-error or unknown; several separated by commas"`
	paging
}

func (t *tools) addReports(s *sdk.Server) {
	addSearch(t, s, searchTool[diagnosticReportIn]{
		name: "search_diagnostic_report", title: "Search lab and imaging reports", resource: "DiagnosticReport",
		description: "Searches the patient's DiagnosticReports: laboratory panels (with references to their result Observations) and " +
			"radiology and other reports with the radiologist's conclusion. Radiology reports are long, so pages of them are often cut to fit. " +
			"Filters: category, code, date_from and date_to (inclusive), status, encounter.",
		build: func(in diagnosticReportIn, q *query) {
			q.token("category", "category", in.Category)
			q.token("code", "code", in.Code)
			q.byName("name", in.Name, true)
			q.latest = in.Latest
			q.dates("date", "date_from", in.DateFrom, "date_to", in.DateTo)
			q.oneOf("status", "status", in.Status, reportStatus)
			q.reference("encounter", "encounter", "Encounter", in.Encounter)
		},
	})
	addSearch(t, s, searchTool[procedureIn]{
		name: "search_procedure", title: "Search procedures", resource: "Procedure",
		description: "Searches the patient's Procedures (ECGs, colonoscopies, spirometry, surgeries...): code, date, status, performer and location. " +
			"Filters: code, date_from and date_to (inclusive), status, encounter.",
		build: func(in procedureIn, q *query) {
			q.token("code", "code", in.Code)
			q.dates("date", "date_from", in.DateFrom, "date_to", in.DateTo)
			q.oneOf("status", "status", in.Status, procedureStatus)
			q.reference("encounter", "encounter", "Encounter", in.Encounter)
		},
	})
	addSearch(t, s, searchTool[serviceRequestIn]{
		name: "search_service_request", title: "Search orders and referrals", resource: "ServiceRequest",
		description: "Searches the patient's ServiceRequests: referrals, and tests or procedures ordered, with status, reason, requester and dates. " +
			"Filters: category, code, authored_from and authored_to, occurrence_from and occurrence_to (all inclusive), status.",
		build: func(in serviceRequestIn, q *query) {
			q.token("category", "category", in.Category)
			q.token("code", "code", in.Code)
			q.dates("authored", "authored_from", in.AuthoredFrom, "authored_to", in.AuthoredTo)
			q.dates("occurrence", "occurrence_from", in.OccurrenceFrom, "occurrence_to", in.OccurrenceTo)
			q.oneOf("status", "status", in.Status, requestStatus)
		},
	})
}
