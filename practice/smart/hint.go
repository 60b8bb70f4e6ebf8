package smart

import "github.com/healow-mcp/healow-mcp/practice/fhir"

// ScopeHint names the scope a patient app asks for to read resource (in category, when category
// is a friendly name fhir.LookupCategory knows), in the SMART v2 form eCW advertises:
// "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
// "patient/Immunization.rs", and "patient/Binary.r" (Binary is read-only, eCW's only Binary
// scope). It is what a person is told to allow when the practice refuses for want of a scope;
// the connect flow still picks the exact strings from the practice's scopes_supported.
func ScopeHint(resource, category string) string {
	if resource == "Binary" {
		return "patient/Binary.r"
	}
	s := "patient/" + resource + ".rs"
	if category == "" {
		return s
	}
	c, err := fhir.LookupCategory(resource, category)
	if err != nil {
		return s
	}
	return s + "?category=" + c.System + "|" + c.Code
}
