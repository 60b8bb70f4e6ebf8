package smart

// Resources is every FHIR resource type the tools read, in the order their
// scopes are requested.
var Resources = []string{
	"Patient",
	"Encounter",
	"Observation",
	"Condition",
	"MedicationRequest",
	"Medication",
	"AllergyIntolerance",
	"Immunization",
	"CarePlan",
	"CareTeam",
	"Coverage",
	"Practitioner",
	"Organization",
	"Location",
	"DocumentReference",
	"Binary",
	"DiagnosticReport",
	"Procedure",
	"Goal",
	"Device",
	"ServiceRequest",
	"Provenance",
}
