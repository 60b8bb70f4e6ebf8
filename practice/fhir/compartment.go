package fhir

// Which resource types hold a patient's data, and how a search is limited to one patient.
//
// The list follows FHIR R4's Patient CompartmentDefinition
// (https://hl7.org/fhir/R4/compartmentdefinition-patient.html), plus the types outside it that
// still hold one patient's data (Device, Task, Contract, GuidanceResponse). For each, the
// search parameters are those that name the patient as the record's subject, best first, and
// the subject paths the elements whose References name that patient. Roles a patient may play
// in someone else's record (performer, recorder, asserter, author, participant...) are never
// used: a search by role returns records about other people.
//
// Types listed in shared hold no patient data (clinicians, organizations, places, drugs,
// terminology and conformance resources) and are searched as asked. Every other type is
// treated as patient data that cannot be limited to one patient: searches of it are refused,
// and its resources are left out of answers, since nothing says whose they are.

// Compartment says how the records of one resource type name the patient they are about.
type Compartment struct {
	// SubjectParams are the search parameters that name the patient as the record's subject,
	// best first. None means no search of the type can be limited to one patient.
	SubjectParams []string
	// SubjectPaths are the dotted element paths (such as "participant.actor") whose References
	// name the patient. None for Patient, which is the patient.
	SubjectPaths []string
}

// PatientCompartment returns how records of type typ name their patient. ok is false for a type
// that holds no patient data (see [HoldsPatientData]), and for a type that may hold it but
// whose records nothing here can tie to one patient: those are never searched nor passed on.
// The slices are the table's own, not copies (the screen reads them for every record of every
// answer): read them, never change them.
func PatientCompartment(typ string) (c Compartment, ok bool) {
	c, ok = patientTypes[typ]
	return c, ok
}

var patientTypes = map[string]Compartment{
	"Account":                     {[]string{"patient", "subject"}, []string{"subject"}},
	"AdverseEvent":                {[]string{"subject"}, []string{"subject"}},
	"AllergyIntolerance":          {[]string{"patient"}, []string{"patient"}},
	"Appointment":                 {[]string{"patient"}, []string{"participant.actor"}},
	"AppointmentResponse":         {[]string{"patient"}, []string{"actor"}},
	"AuditEvent":                  {[]string{"patient"}, []string{"agent.who", "entity.what"}},
	"Basic":                       {[]string{"patient", "subject"}, []string{"subject"}},
	"BodyStructure":               {[]string{"patient"}, []string{"patient"}},
	"CarePlan":                    {[]string{"patient", "subject"}, []string{"subject"}},
	"CareTeam":                    {[]string{"patient", "subject"}, []string{"subject"}},
	"ChargeItem":                  {[]string{"patient", "subject"}, []string{"subject"}},
	"Claim":                       {[]string{"patient"}, []string{"patient"}},
	"ClaimResponse":               {[]string{"patient"}, []string{"patient"}},
	"ClinicalImpression":          {[]string{"patient", "subject"}, []string{"subject"}},
	"Communication":               {[]string{"patient", "subject"}, []string{"subject"}},
	"CommunicationRequest":        {[]string{"patient", "subject"}, []string{"subject"}},
	"Composition":                 {[]string{"patient", "subject"}, []string{"subject"}},
	"Condition":                   {[]string{"patient", "subject"}, []string{"subject"}},
	"Consent":                     {[]string{"patient"}, []string{"patient"}},
	"Contract":                    {[]string{"patient", "subject"}, []string{"subject"}},
	"Coverage":                    {[]string{"patient", "beneficiary"}, []string{"beneficiary"}},
	"CoverageEligibilityRequest":  {[]string{"patient"}, []string{"patient"}},
	"CoverageEligibilityResponse": {[]string{"patient"}, []string{"patient"}},
	"DetectedIssue":               {[]string{"patient"}, []string{"patient"}},
	"Device":                      {[]string{"patient"}, []string{"patient"}},
	"DeviceRequest":               {[]string{"patient", "subject"}, []string{"subject"}},
	"DeviceUseStatement":          {[]string{"patient", "subject"}, []string{"subject"}},
	"DiagnosticReport":            {[]string{"patient", "subject"}, []string{"subject"}},
	"DocumentManifest":            {[]string{"patient", "subject"}, []string{"subject"}},
	"DocumentReference":           {[]string{"patient", "subject"}, []string{"subject"}},
	"Encounter":                   {[]string{"patient", "subject"}, []string{"subject"}},
	"EnrollmentRequest":           {[]string{"patient", "subject"}, []string{"candidate"}},
	"EpisodeOfCare":               {[]string{"patient"}, []string{"patient"}},
	"ExplanationOfBenefit":        {[]string{"patient"}, []string{"patient"}},
	"FamilyMemberHistory":         {[]string{"patient"}, []string{"patient"}},
	"Flag":                        {[]string{"patient", "subject"}, []string{"subject"}},
	"Goal":                        {[]string{"patient", "subject"}, []string{"subject"}},
	"GuidanceResponse":            {[]string{"patient", "subject"}, []string{"subject"}},
	"ImagingStudy":                {[]string{"patient", "subject"}, []string{"subject"}},
	"Immunization":                {[]string{"patient"}, []string{"patient"}},
	"ImmunizationEvaluation":      {[]string{"patient"}, []string{"patient"}},
	"ImmunizationRecommendation":  {[]string{"patient"}, []string{"patient"}},
	"Invoice":                     {[]string{"patient", "subject"}, []string{"subject"}},
	"List":                        {[]string{"patient", "subject"}, []string{"subject"}},
	"MeasureReport":               {[]string{"patient", "subject"}, []string{"subject"}},
	"Media":                       {[]string{"patient", "subject"}, []string{"subject"}},
	"MedicationAdministration":    {[]string{"patient", "subject"}, []string{"subject"}},
	"MedicationDispense":          {[]string{"patient", "subject"}, []string{"subject"}},
	"MedicationRequest":           {[]string{"patient", "subject"}, []string{"subject"}},
	"MedicationStatement":         {[]string{"patient", "subject"}, []string{"subject"}},
	"MolecularSequence":           {[]string{"patient"}, []string{"patient"}},
	"NutritionOrder":              {[]string{"patient"}, []string{"patient"}},
	"Observation":                 {[]string{"patient", "subject"}, []string{"subject"}},
	"Patient":                     {[]string{"_id"}, nil}, // the resource is the patient
	"Person":                      {[]string{"patient"}, []string{"link.target"}},
	"Procedure":                   {[]string{"patient", "subject"}, []string{"subject"}},
	"Provenance":                  {[]string{"patient"}, []string{"target"}},
	"QuestionnaireResponse":       {[]string{"patient", "subject"}, []string{"subject"}},
	"RelatedPerson":               {[]string{"patient"}, []string{"patient"}},
	"RequestGroup":                {[]string{"patient", "subject"}, []string{"subject"}},
	"ResearchSubject":             {[]string{"patient", "individual"}, []string{"individual"}},
	"RiskAssessment":              {[]string{"patient", "subject"}, []string{"subject"}},
	"ServiceRequest":              {[]string{"patient", "subject"}, []string{"subject"}},
	"Specimen":                    {[]string{"patient", "subject"}, []string{"subject"}},
	"SupplyDelivery":              {[]string{"patient"}, []string{"patient"}},
	"SupplyRequest":               {[]string{"subject"}, []string{"deliverTo"}},
	"Task":                        {[]string{"patient", "subject"}, []string{"for"}},
	"VisionPrescription":          {[]string{"patient"}, []string{"patient"}},

	// Types whose records can name patients but that no subject parameter limits to one: never
	// searched, and checked like the others when they come back inside an answer.
	"Binary":             {nil, []string{"securityContext"}},
	"Group":              {nil, []string{"member.entity"}},
	"Linkage":            {nil, []string{"item.resource"}},
	"MessageHeader":      {nil, []string{"focus"}},
	"Schedule":           {nil, []string{"actor"}},
	"VerificationResult": {nil, []string{"target"}},
}

// shared lists the types that hold no patient's data.
var shared = setOf(
	"ActivityDefinition", "BiologicallyDerivedProduct", "CapabilityStatement", "CatalogEntry",
	"ChargeItemDefinition", "CodeSystem", "CompartmentDefinition", "ConceptMap", "DeviceDefinition",
	"DeviceMetric", "EffectEvidenceSynthesis", "Endpoint", "EventDefinition", "Evidence",
	"EvidenceVariable", "ExampleScenario", "GraphDefinition", "HealthcareService",
	"ImplementationGuide", "InsurancePlan", "Library", "Location", "Measure", "Medication",
	"MedicationKnowledge", "MedicinalProduct", "MedicinalProductAuthorization",
	"MedicinalProductContraindication", "MedicinalProductIndication", "MedicinalProductIngredient",
	"MedicinalProductInteraction", "MedicinalProductManufactured", "MedicinalProductPackaged",
	"MedicinalProductPharmaceutical", "MedicinalProductUndesirableEffect", "MessageDefinition",
	"NamingSystem", "ObservationDefinition", "OperationDefinition", "OperationOutcome",
	"Organization", "OrganizationAffiliation", "PlanDefinition", "Practitioner",
	"PractitionerRole", "Questionnaire", "ResearchDefinition", "ResearchElementDefinition",
	"ResearchStudy", "RiskEvidenceSynthesis", "SearchParameter", "Slot", "SpecimenDefinition",
	"StructureDefinition", "StructureMap", "Substance", "SubstanceNucleicAcid", "SubstancePolymer",
	"SubstanceProtein", "SubstanceReferenceInformation", "SubstanceSourceMaterial",
	"SubstanceSpecification", "TerminologyCapabilities", "TestReport", "TestScript", "ValueSet",
)

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// HoldsPatientData reports whether resources of type name may hold a patient's data, so that
// they are read only for the connected patient. Unknown types count as patient data.
func HoldsPatientData(name string) bool { return !shared[name] }

// IsPatientParam reports whether the search parameter name (without modifier or chain) names a
// patient in one role or another. A value the model gives for one of them must name the
// connected patient, and no chain may start from one: the search is limited to the patient
// already, so a chain through the patient could only probe someone else.
func IsPatientParam(name string) bool { return patientRoles[name] }

var patientRoles = setOf("patient", "subject", "beneficiary", "individual", "for", "member",
	"link", "actor", "candidate", "policy-holder", "subscriber")
