package sandbox

import (
	"slices"
	"strings"
	"sync"
)

// resourceTypes are the FHIR types the sandbox serves, in the order its
// scopes_supported lists them.
var resourceTypes = []string{
	"Patient", "Encounter", "Observation", "Condition", "MedicationRequest",
	"Medication", "AllergyIntolerance", "Immunization", "CarePlan", "CareTeam",
	"Coverage", "Practitioner", "Organization", "Location", "DocumentReference",
	"Binary", "DiagnosticReport", "Procedure", "Goal", "Device",
	"ServiceRequest", "Provenance",
}

func knownType(t string) bool { return slices.Contains(resourceTypes, t) }

// Category systems, as eCW advertises them in category-qualified scopes and
// as the data codes them.
const (
	obsCategorySystem      = "http://terminology.hl7.org/CodeSystem/observation-category"
	usCoreCategorySystem   = "http://hl7.org/fhir/us/core/CodeSystem/us-core-category"
	condCategorySystem     = "http://terminology.hl7.org/CodeSystem/condition-category"
	usCoreCondCategorySys  = "http://hl7.org/fhir/us/core/CodeSystem/condition-category"
	ecwSocialHistoryTypoCS = "http://terminology.hl7.org//CodeSystem-observation-category" // sic, from US Core 7's scope table
)

// categoryScopes are the category-qualified scopes eCW publishes, as
// "system|code". Social history appears only in eCW's typo form: a client
// that asks for the correct spelling gets invalid_scope, as it would there.
var categoryScopes = map[string][]string{
	"Observation": {
		obsCategorySystem + "|laboratory",
		obsCategorySystem + "|vital-signs",
		obsCategorySystem + "|survey",
		obsCategorySystem + "|exam",
		obsCategorySystem + "|imaging",
		usCoreCategorySystem + "|sdoh",
		ecwSocialHistoryTypoCS + "|social-history",
	},
	"Condition": {
		condCategorySystem + "|problem-list-item",
		condCategorySystem + "|encounter-diagnosis",
		usCoreCondCategorySys + "|health-concern",
	},
}

// supportedScopes is the generated scopes_supported list and a set over it.
var supportedScopes = sync.OnceValues(func() ([]string, map[string]bool) {
	list := []string{"openid", "fhirUser", "profile", "offline_access", "launch", "launch/patient"}
	for _, t := range resourceTypes {
		if t == "Binary" {
			list = append(list, "patient/Binary.r") // eCW's only Binary scope
			continue
		}
		list = append(list, "patient/"+t+".read", "patient/"+t+".rs", "patient/"+t+".r")
	}
	list = append(list, "patient/*.read", "patient/*.rs", "patient/*.r")
	for _, t := range []string{"Observation", "Condition"} {
		for _, c := range categoryScopes[t] {
			for _, perm := range []string{"rs", "r", "read"} {
				list = append(list, "patient/"+t+"."+perm+"?category="+c)
			}
		}
	}
	set := make(map[string]bool, len(list))
	for _, s := range list {
		set[s] = true
	}
	return list, set
})

func scopeSupported(s string) bool {
	_, set := supportedScopes()
	return set[s]
}

// access is what one permission (read or search) of one type allows: every
// category, or only some. Categories are compared by code alone because
// eCW's social-history scope names a misspelt system that no resource uses.
type access struct {
	all  bool
	cats map[string]bool
}

func (a *access) add(category string) {
	if category == "" {
		a.all = true
		return
	}
	if a.cats == nil {
		a.cats = map[string]bool{}
	}
	a.cats[tokenCode(category)] = true
}

func (a access) any() bool { return a.all || len(a.cats) > 0 }

// allows reports whether a resource with these "system|code" categories is
// within the access.
func (a access) allows(categories []string) bool {
	if a.all {
		return true
	}
	for _, c := range categories {
		if a.cats[tokenCode(c)] {
			return true
		}
	}
	return false
}

type grant struct{ read, search access }

// grants maps a resource type to what a token's scopes allow on it.
type grants map[string]*grant

// grantsFor interprets granted scopes: v1 ".read" allows read and search, a
// v2 permission string allows read for 'r' and search for 's'.
func grantsFor(scopes []string) grants {
	g := grants{}
	for _, s := range scopes {
		typ, perms, category, ok := parseScope(s)
		if !ok {
			continue
		}
		types := []string{typ}
		if typ == "*" {
			types = resourceTypes
		}
		for _, t := range types {
			gr := g[t]
			if gr == nil {
				gr = &grant{}
				g[t] = gr
			}
			if perms == "read" || strings.Contains(perms, "r") {
				gr.read.add(category)
			}
			if perms == "read" || strings.Contains(perms, "s") {
				gr.search.add(category)
			}
		}
	}
	return g
}

func (g grants) get(t string) grant {
	if gr := g[t]; gr != nil {
		return *gr
	}
	return grant{}
}

// parseScope splits "patient/Observation.rs?category=sys|code" into its
// type, permissions and category. Only patient-level scopes grant data.
func parseScope(s string) (typ, perms, category string, ok bool) {
	rest, found := strings.CutPrefix(s, "patient/")
	if !found {
		return "", "", "", false
	}
	rest, query, _ := strings.Cut(rest, "?")
	dot := strings.LastIndexByte(rest, '.')
	if dot <= 0 {
		return "", "", "", false
	}
	typ, perms = rest[:dot], rest[dot+1:]
	if query != "" {
		category, found = strings.CutPrefix(query, "category=")
		if !found {
			return "", "", "", false
		}
	}
	return typ, perms, category, true
}

// tokenCode returns the code part of a "system|code" token.
func tokenCode(tok string) string {
	if i := strings.LastIndexByte(tok, '|'); i >= 0 {
		return tok[i+1:]
	}
	return tok
}
