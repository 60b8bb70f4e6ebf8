package directory

import "strings"

// states names each US state (and DC and Puerto Rico) by its postal abbreviation, so that a
// search for "Illinois" finds a practice whose address says IL, and one for "IL" a practice
// whose address spells the name out.
var states = map[string]string{
	"AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
	"CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
	"FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
	"IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
	"ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
	"MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
	"NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
	"NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
	"PA": "Pennsylvania", "PR": "Puerto Rico", "RI": "Rhode Island", "SC": "South Carolina",
	"SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont",
	"VA": "Virginia", "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
}

// stateByName is states the other way, by the name in lower case.
var stateByName = func() map[string]string {
	m := make(map[string]string, len(states))
	for abbr, name := range states {
		m[strings.ToLower(name)] = abbr
	}
	return m
}()

// stateWords are the words a state is searched by: its abbreviation and its name's words.
func stateWords(state string) []string {
	abbr := strings.ToUpper(state)
	name, ok := states[abbr]
	if !ok {
		if a, found := stateByName[strings.ToLower(state)]; found {
			abbr, name, ok = a, states[a], true
		}
	}
	if !ok {
		return words(state)
	}
	return append([]string{strings.ToLower(abbr)}, words(name)...)
}
