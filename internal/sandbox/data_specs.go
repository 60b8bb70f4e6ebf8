package sandbox

// practiceSpec is the hand-written part of one practice's data; everything
// else is generated from it. All people, places and identifiers are
// invented: names say so ("Sandbox", "Placeholder"), phone numbers are in
// the 555-01xx fictional range and NPIs start with 999.
type practiceSpec struct {
	code, name string
	seed       string // what the random source is seeded by; "" → code
	npi        string
	address    address
	phone      string
	patient    patientSpec
	clinicians []person // the first is the primary care provider
	visits     int
	firstVisit string      // date of the first encounter
	notes      int         // a long record: visits a month apart, the last notes with a progress note
	labs       []labSpec   // drawn at every visit
	vitals     vitalSpec   // measured at every visit
	smoking    code        // SNOMED smoking status
	problems   []condition // problem-list-item, active
	diagnosis  condition   // encounter-diagnosis at the second visit, resolved
	concern    condition   // health-concern
	meds       []medSpec
	allergy    allergySpec
	procedures []code // SNOMED, one per visit from the first
	device     code   // SNOMED device type
	referral   code   // SNOMED service requested
	goal       string
	carePlan   string
}

type address struct{ line, city, state, postal string }

type patientSpec struct {
	id                    string // opaque and 44 characters, shaped like eCW's
	given, family         string
	gender, birthDate     string
	mrn, phone, email     string
	language              code
	address               address
	insurer, subscriberID string
}

type person struct{ prefix, given, family, suffix, npi, role string }

type code struct{ system, code, display string }

type condition struct {
	snomed, icd10 string
	display       string
	onset         string
}

type medSpec struct {
	rxnorm, display, dosage string
	active                  bool
	asReference             bool // as a Medication resource rather than inline, as eCW does for some
}

type allergySpec struct {
	substance   code
	category    string
	criticality string
	reaction    code
}

type labSpec struct {
	loinc string
	base  float64 // the patient's typical value, around which results vary
}

type vitalSpec struct{ systolic, diastolic, heartRate, weightKg, heightCm float64 }

const (
	snomed = "http://snomed.info/sct"
	loinc  = "http://loinc.org"
	rxnorm = "http://www.nlm.nih.gov/research/umls/rxnorm"
	icd10  = "http://hl7.org/fhir/sid/icd-10-cm"
	cvx    = "http://hl7.org/fhir/sid/cvx"
)

var practiceSpecs = []practiceSpec{
	{
		code: "FEIGCD", name: "Sunrise Family Medicine", npi: "9990000101",
		address: address{"100 Example Parkway, Suite 200", "Anytown", "IL", "62701"},
		phone:   "217-555-0100",
		patient: patientSpec{
			id:    "u8jzPde0Igx-d6GncfBAepf.Bd0Kh8oOOL-dKLzdocJ2",
			given: "Avery", family: "Sandbox", gender: "female", birthDate: "1968-04-12",
			mrn: "SBX100234", phone: "217-555-0142", email: "avery.sandbox@example.com",
			language: code{"urn:ietf:bcp:47", "en-US", "English (United States)"},
			address:  address{"42 Placeholder Lane", "Anytown", "IL", "62704"},
			insurer:  "Example Health Plan (synthetic)", subscriberID: "EHP-000-1001",
		},
		clinicians: []person{
			{"Dr.", "Riley", "Placeholder", "MD", "9990001001", "Primary care physician"},
			{"", "Casey", "Mockwell", "NP", "9990001002", "Nurse practitioner"},
		},
		visits: 4, firstVisit: "2023-03-14",
		labs: []labSpec{
			{"2345-7", 126}, {"4548-4", 7.2}, {"2160-0", 0.9}, {"2951-2", 139},
			{"2823-3", 4.4}, {"13457-7", 118}, {"718-7", 13.4},
		},
		vitals:  vitalSpec{systolic: 138, diastolic: 86, heartRate: 76, weightKg: 84, heightCm: 165},
		smoking: code{snomed, "8517006", "Ex-smoker"},
		problems: []condition{
			{"59621000", "I10", "Essential hypertension", "2016-05-20"},
			{"44054006", "E11.9", "Type 2 diabetes mellitus without complications", "2019-09-03"},
			{"55822004", "E78.5", "Hyperlipidemia", "2018-01-15"},
		},
		diagnosis: condition{"10509002", "J20.9", "Acute bronchitis", ""},
		concern:   condition{"414916001", "E66.9", "Obesity", "2021-02-10"},
		meds: []medSpec{
			{"314076", "lisinopril 10 MG Oral Tablet", "Take 1 tablet by mouth once daily", true, false},
			{"860975", "metformin hydrochloride 500 MG Extended Release Oral Tablet", "Take 1 tablet by mouth twice daily with meals", true, false},
			{"617310", "atorvastatin 20 MG Oral Tablet", "Take 1 tablet by mouth at bedtime", true, true},
			{"308460", "azithromycin 250 MG Oral Tablet", "Take 2 tablets on day 1, then 1 tablet daily for 4 days", false, false},
		},
		allergy: allergySpec{
			substance: code{snomed, "387406002", "Sulfonamide"}, category: "medication", criticality: "low",
			reaction: code{snomed, "271807003", "Skin rash"},
		},
		procedures: []code{{snomed, "29303009", "Electrocardiographic procedure"}, {snomed, "73761001", "Colonoscopy"}},
		device:     code{snomed, "337414009", "Blood glucose meter"},
		referral:   code{snomed, "183856001", "Referral to ophthalmology service"},
		goal:       "Hemoglobin A1c below 7.0%",
		carePlan:   "Diabetes and blood pressure management: metformin and lisinopril, home glucose checks, 150 minutes of walking a week, recheck A1c in 3 months.",
	},
	{
		code: "AACJCD", name: "Lakeside Internal Medicine", npi: "9990000202",
		address: address{"7 Sample Harbor Road", "Lakeview", "WI", "53703"},
		phone:   "608-555-0170",
		patient: patientSpec{
			id:    "isAjIhKtJ0R-gLKOmxgJTeK.NnFRIBXuDL-DxtpYlSXp",
			given: "Morgan", family: "Fixture", gender: "male", birthDate: "1957-11-03",
			mrn: "SBX200871", phone: "608-555-0188", email: "morgan.fixture@example.com",
			language: code{"urn:ietf:bcp:47", "en-US", "English (United States)"},
			address:  address{"9 Testing Court", "Lakeview", "WI", "53711"},
			insurer:  "Sample Senior Advantage (synthetic)", subscriberID: "SSA-000-2002",
		},
		clinicians: []person{
			{"Dr.", "Taylor", "Stubwell", "MD", "9990002001", "Primary care physician"},
			{"", "Jamie", "Testerly", "PA-C", "9990002002", "Physician assistant"},
		},
		visits: 3, firstVisit: "2023-06-07",
		labs:    []labSpec{{"3016-3", 5.8}, {"2345-7", 94}, {"718-7", 14.6}, {"2160-0", 1.1}},
		vitals:  vitalSpec{systolic: 124, diastolic: 78, heartRate: 68, weightKg: 79, heightCm: 178},
		smoking: code{snomed, "266919005", "Never smoked tobacco"},
		problems: []condition{
			{"195967001", "J45.909", "Asthma", "1999-08-11"},
			{"40930008", "E03.9", "Hypothyroidism", "2014-03-27"},
		},
		diagnosis: condition{"15805002", "J01.90", "Acute sinusitis", ""},
		concern:   condition{"73595000", "Z73.3", "Stress", "2022-10-05"},
		meds: []medSpec{
			{"745679", "albuterol 0.09 MG/ACTUAT Metered Dose Inhaler", "Inhale 2 puffs every 4 to 6 hours as needed for wheezing", true, false},
			{"966222", "levothyroxine sodium 0.075 MG Oral Tablet", "Take 1 tablet by mouth every morning before breakfast", true, true},
			{"562508", "amoxicillin 875 MG / clavulanate 125 MG Oral Tablet", "Take 1 tablet by mouth twice daily for 10 days", false, false},
		},
		allergy: allergySpec{
			substance: code{snomed, "256349002", "Peanut - dietary"}, category: "food", criticality: "high",
			reaction: code{snomed, "247472004", "Hives"},
		},
		procedures: []code{{snomed, "127783003", "Spirometry"}},
		device:     code{snomed, "334947002", "Nebulizer"},
		referral:   code{snomed, "306206005", "Referral to pulmonology service"},
		goal:       "Use rescue inhaler on fewer than 2 days a week",
		carePlan:   "Asthma control: daily controller review, rescue inhaler as needed, annual spirometry; thyroid: levothyroxine, TSH every 6 months.",
	},
}
