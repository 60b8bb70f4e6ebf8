package mcp

import (
	"strings"
	"unicode"
)

// A test a patient names in words, mapped to the LOINC codes practices record it under, so that
// "cholesterol" needs no code from the model. words are what a result's own name must hold to
// match when a practice records the test under codes of its own.
type namedTest struct {
	names []string // what a patient may call it, lower case
	loinc []string
	words []string // any of these in a result's name (lower case) matches
}

const loincSystem = "http://loinc.org"

var namedTests = []namedTest{
	// Lipids.
	{names: []string{"cholesterol", "lipids", "lipid panel", "lipid profile"},
		loinc: []string{"2093-3", "13457-7", "18262-6", "2089-1", "2085-9", "2571-8", "57698-3", "24331-1"},
		words: []string{"cholesterol", "ldl", "hdl", "triglyceride", "lipid"}},
	{names: []string{"total cholesterol"}, loinc: []string{"2093-3"}, words: []string{"cholesterol"}},
	{names: []string{"ldl", "ldl cholesterol", "bad cholesterol"}, loinc: []string{"13457-7", "18262-6", "2089-1"}, words: []string{"ldl"}},
	{names: []string{"hdl", "hdl cholesterol", "good cholesterol"}, loinc: []string{"2085-9"}, words: []string{"hdl"}},
	{names: []string{"triglycerides", "triglyceride"}, loinc: []string{"2571-8"}, words: []string{"triglyceride"}},
	// Diabetes.
	{names: []string{"a1c", "hba1c", "hemoglobin a1c", "haemoglobin a1c", "glycated hemoglobin"},
		loinc: []string{"4548-4", "17856-6"}, words: []string{"a1c"}},
	{names: []string{"glucose", "blood sugar", "fasting glucose", "sugar"},
		loinc: []string{"2345-7", "2339-0", "1558-6"}, words: []string{"glucose"}},
	// Complete blood count.
	{names: []string{"cbc", "complete blood count", "blood count"},
		loinc: []string{"58410-2", "57021-8", "718-7", "4544-3", "6690-2", "777-3", "789-8"},
		words: []string{"hemoglobin", "hematocrit", "leukocytes", "platelets", "erythrocytes", "blood count"}},
	{names: []string{"hemoglobin", "haemoglobin", "hgb"}, loinc: []string{"718-7"}, words: []string{"hemoglobin"}},
	{names: []string{"hematocrit", "hct"}, loinc: []string{"4544-3"}, words: []string{"hematocrit"}},
	{names: []string{"white blood cells", "wbc", "white count"}, loinc: []string{"6690-2"}, words: []string{"leukocytes", "white blood"}},
	{names: []string{"platelets", "platelet count"}, loinc: []string{"777-3"}, words: []string{"platelet"}},
	// Metabolic panel and kidneys.
	{names: []string{"metabolic panel", "bmp", "basic metabolic panel", "cmp", "comprehensive metabolic panel", "electrolytes"},
		loinc: []string{"51990-0", "24323-8", "2951-2", "2823-3", "2075-0", "2028-9", "3094-0", "2160-0", "17861-6", "2345-7"},
		words: []string{"sodium", "potassium", "chloride", "carbon dioxide", "urea nitrogen", "creatinine", "calcium", "metabolic"}},
	{names: []string{"sodium", "na"}, loinc: []string{"2951-2"}, words: []string{"sodium"}},
	{names: []string{"potassium", "k"}, loinc: []string{"2823-3"}, words: []string{"potassium"}},
	{names: []string{"creatinine"}, loinc: []string{"2160-0"}, words: []string{"creatinine"}},
	{names: []string{"kidney function", "egfr", "gfr"}, loinc: []string{"33914-3", "62238-1", "98979-8", "2160-0"},
		words: []string{"glomerular", "gfr", "creatinine"}},
	{names: []string{"bun", "urea nitrogen"}, loinc: []string{"3094-0"}, words: []string{"urea nitrogen"}},
	{names: []string{"liver function", "liver panel", "lfts", "alt", "ast"},
		loinc: []string{"1742-6", "1920-8", "6768-6", "1975-2", "1751-7", "2885-2"},
		words: []string{"alanine aminotransferase", "aspartate aminotransferase", "alkaline phosphatase", "bilirubin", "albumin"}},
	// Thyroid.
	{names: []string{"thyroid", "tsh", "thyroid stimulating hormone", "thyrotropin"},
		loinc: []string{"3016-3", "3024-7", "3053-6", "3051-0"}, words: []string{"thyrotropin", "tsh", "thyroxine", "triiodothyronine"}},
	// Vital signs.
	{names: []string{"vitals", "vital signs"},
		loinc: []string{"85353-1", "85354-9", "8480-6", "8462-4", "8867-4", "9279-1", "8310-5", "29463-7", "8302-2", "39156-5", "2708-6", "59408-5"},
		words: []string{"blood pressure", "heart rate", "respiratory rate", "temperature", "weight", "height", "mass index", "oxygen"}},
	{names: []string{"blood pressure", "bp"}, loinc: []string{"85354-9", "8480-6", "8462-4"}, words: []string{"blood pressure"}},
	{names: []string{"heart rate", "pulse"}, loinc: []string{"8867-4"}, words: []string{"heart rate", "pulse"}},
	{names: []string{"weight", "body weight"}, loinc: []string{"29463-7"}, words: []string{"weight"}},
	{names: []string{"height", "body height"}, loinc: []string{"8302-2"}, words: []string{"height"}},
	{names: []string{"bmi", "body mass index"}, loinc: []string{"39156-5"}, words: []string{"mass index"}},
	{names: []string{"temperature", "body temperature"}, loinc: []string{"8310-5"}, words: []string{"temperature"}},
	{names: []string{"respiratory rate", "breathing rate"}, loinc: []string{"9279-1"}, words: []string{"respiratory rate"}},
	{names: []string{"oxygen saturation", "spo2", "o2 sat", "pulse oximetry"}, loinc: []string{"2708-6", "59408-5"}, words: []string{"oxygen"}},
}

// normalName folds a name a model gave for matching: lower case, punctuation as spaces, single
// spaces.
func normalName(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ")
}

// lookupTest finds a test by a name a patient may use.
func lookupTest(name string) (namedTest, bool) {
	n := normalName(name)
	for _, t := range namedTests {
		for _, known := range t.names {
			if normalName(known) == n {
				return t, true
			}
		}
	}
	return namedTest{}, false
}

// codes is the test's LOINC codes as a token search's values.
func (t namedTest) codes() string {
	out := make([]string, len(t.loinc))
	for i, c := range t.loinc {
		out[i] = loincSystem + "|" + c
	}
	return strings.Join(out, ",")
}

// nameMatcher tells whether a result's names (texts and displays) match what was asked: every
// word of an unmapped name, or any of a mapped test's words.
type nameMatcher struct {
	all []string // every one must appear
	any []string // one must appear
}

func (m nameMatcher) matches(text string) bool {
	text = " " + normalName(text) + " "
	for _, w := range m.all {
		if !strings.Contains(text, " "+w) {
			return false
		}
	}
	if len(m.any) == 0 {
		return true
	}
	for _, w := range m.any {
		if strings.Contains(text, " "+w) {
			return true
		}
	}
	return false
}
