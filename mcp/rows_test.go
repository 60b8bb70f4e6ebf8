package mcp_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// typedTools are the typed search and list tools, each with the resource type it returns.
var typedTools = map[string]string{
	"search_encounter": "Encounter", "search_observation": "Observation", "search_condition": "Condition",
	"search_medication_request": "MedicationRequest", "search_document_reference": "DocumentReference",
	"list_allergies": "AllergyIntolerance", "list_immunizations": "Immunization", "list_care_plans": "CarePlan",
	"list_goals": "Goal", "list_care_team": "CareTeam", "list_devices": "Device", "search_diagnostic_report": "DiagnosticReport",
	"search_procedure": "Procedure", "search_service_request": "ServiceRequest", "get_coverage": "Coverage",
}

// What a compact row must keep of its resource, its clinical facts, is every member except:
//   - who and what the record hangs off (the patient, the visit, the order it fulfils) and
//     bookkeeping (meta, identifiers, the narrative), in notFacts;
//   - a concept's codings, of which a row keeps the name (its text, else its first display) and,
//     for the concept the record is about (primaryConcepts), every system|code;
//   - a reference's target when the reference has a display, which is what a row shows;
//   - a quantity's system and its UCUM code when its unit is written out.
var notFacts = []string{
	"id", "resourceType", "meta", "text", "identifier", "extension", "subject", "patient", "beneficiary", "policyHolder",
	"subscriber", "encounter", "context.encounter", "basedOn", "hasMember", "derivedFrom", "specimen", "partOf",
	"content.format", "content.attachment.size", "content.attachment.hash", "content.attachment.creation",
	"content.attachment.language", "content.attachment.data", "presentedForm.data", "presentedForm.size", "presentedForm.hash",
	"medicationReference", "participant.type", "dosageInstruction.sequence", "dosageInstruction.timing.repeat",
	"dispenseRequest.validityPeriod", "deviceName.type", "primarySource", "reportOrigin", "isSubpotent",
	"performer.function", "protocolApplied.targetDisease", "activity.detail.kind", "diagnosis.rank", "diagnosis.use",
	"class.system", "class.display", "category", "issued", "custodian", "managingOrganization",
	// The Observation's performer (the lab or practice) and the order it answers are not among the
	// facts a result row holds: date, test, value, flag, range, status.
	"Observation.performer", "MedicationRequest.category",
}

// codedConcepts are concepts a row shows by their first code (a status, a flag: "H"), which
// is the fact, rather than by name.
var codedConcepts = []string{"clinicalStatus", "verificationStatus", "interpretation", "relationship", "component.interpretation"}

// primaryConcepts are the concepts a record is about, whose codes a row keeps for follow-up
// searches.
var primaryConcepts = []string{"code", "vaccineCode", "medicationCodeableConcept", "Document.type", "Device.type"}

func skipped(typ, path string) bool {
	for _, skip := range notFacts {
		if t, rest, ok := strings.Cut(skip, "."); ok && t == typ {
			skip = rest
		}
		if path == skip || strings.HasPrefix(path, skip+".") {
			return true
		}
	}
	return false
}

// factsOf lists a resource's facts, as "path=value".
func factsOf(typ string, v any, path string, out *[]string) {
	add := func(p string, v any) {
		if !skipped(typ, p) {
			*out = append(*out, fmt.Sprintf("%s=%v", p, v))
		}
	}
	switch x := v.(type) {
	case map[string]any:
		if skipped(typ, path) && path != "" {
			return
		}
		if codings, ok := x["coding"].([]any); ok { // a CodeableConcept
			name, _ := x["text"].(string)
			if slices.Contains(codedConcepts, path) && len(codings) > 0 {
				if cd, _ := codings[0].(map[string]any); cd["code"] != nil {
					add(path+".code", cd["code"])
					return
				}
			}
			primary := slices.Contains(primaryConcepts, path) || slices.Contains(primaryConcepts, strings.TrimSuffix(typ, "Reference")+"."+path)
			for _, c := range codings {
				cd, _ := c.(map[string]any)
				if name == "" {
					name, _ = cd["display"].(string)
				}
				if primary && cd["code"] != nil {
					add(path+".coding", fmt.Sprintf("%v|%v", cd["system"], cd["code"]))
				}
			}
			if name != "" {
				add(path+".name", name)
			}
			return
		}
		if ref, ok := x["reference"].(string); ok {
			if d, ok := x["display"].(string); ok {
				add(path, d)
			} else {
				add(path, ref)
			}
			return
		}
		if _, ok := x["value"].(float64); ok && x["unit"] != nil { // a Quantity
			add(path+".value", x["value"])
			add(path+".unit", x["unit"])
			return
		}
		for k, c := range x {
			factsOf(typ, c, strings.TrimPrefix(path+"."+k, "."), out)
		}
	case []any:
		for _, c := range x {
			factsOf(typ, c, path, out)
		}
	case nil:
	default:
		add(path, x)
	}
}

// strs gathers every string a row holds, for looking facts up in.
func strs(v any, out *strings.Builder) {
	switch x := v.(type) {
	case map[string]any:
		for _, c := range x {
			strs(c, out)
		}
	case []any:
		for _, c := range x {
			strs(c, out)
		}
	case string:
		out.WriteString(x)
		out.WriteByte('\n')
	}
}

// everyEntry pages through a typed search and returns its entries by id.
func everyEntry(t *testing.T, cs *sdk.ClientSession, tool, practice, detail string) (ids []string, byID map[string]json.RawMessage) {
	t.Helper()
	byID = map[string]json.RawMessage{}
	args := map[string]any{"practice": practice, "detail": detail, "count": 100}
	for {
		p := searchPage(t, cs, tool, args)
		for _, e := range p.Entries {
			id := idOf(t, e)
			ids = append(ids, id)
			byID[id] = e
		}
		if p.Next == "" {
			return ids, byID
		}
		args = map[string]any{"practice": practice, "detail": detail, "count": 100, "next": p.Next}
	}
}

// Every compact row holds every clinical fact of its resource, for every record of every typed
// tool at both sandbox practices, and the rows of a page of lab results take a fraction of the
// bytes of the resources.
func TestCompactRowsKeepEveryClinicalFact(t *testing.T) {
	t.Parallel()
	env, cs, p := connected(t)
	other := env.Sandbox.Practices()[1]
	connectThroughTools(t, env, cs, other)
	checked := 0
	for _, practice := range []string{p.Name, other.Name} {
		for tool := range typedTools {
			ids, fulls := everyEntry(t, cs, tool, practice, "full")
			rowIDs, rows := everyEntry(t, cs, tool, practice, "compact")
			if !slices.Equal(ids, rowIDs) {
				t.Errorf("%s at %s: rows %v, resources %v", tool, practice, rowIDs, ids)
				continue
			}
			for _, id := range ids {
				var res, row any
				json.Unmarshal(fulls[id], &res)
				json.Unmarshal(rows[id], &row)
				var facts []string
				factsOf(typedTools[tool], res, "", &facts)
				var hay strings.Builder
				strs(row, &hay)
				for _, f := range facts {
					_, value, _ := strings.Cut(f, "=")
					if len(value) > 600 { // a long text (a report): its start, or its impression, and where the rest is
						if i := strings.Index(value, "IMPRESSION:"); i >= 0 {
							value = strings.TrimSpace(value[i:])
						}
						value = value[:min(len(value), 100)]
						if !strings.Contains(hay.String(), "detail full") {
							t.Errorf("%s %s: the row cuts %.40s… without saying where the rest is", tool, id, f)
						}
					}
					if !strings.Contains(hay.String(), value) {
						t.Errorf("%s %s: the row leaves out %s\nrow: %s", tool, id, f, rows[id])
					}
				}
				checked++
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d records checked", checked)
	}

	// A typed page of lab results is at most a quarter of the practice's Bundle for it, even
	// with the Bundle's narratives removed (fhir_search's answer).
	rows, _ := call(t, cs, "search_observation", map[string]any{"practice": p.Name, "category": "laboratory"})
	bundle, _ := call(t, cs, "fhir_search", map[string]any{"practice": p.Name, "resource": "Observation",
		"params": map[string]any{"category": "http://terminology.hl7.org/CodeSystem/observation-category|laboratory", "_count": "20"}})
	if strings.Count(rows, `"test":`) != 20 || strings.Count(bundle, `"resourceType":"Observation"`) != 20 || len(rows)*4 > len(bundle) {
		t.Fatalf("20 lab results: %d bytes of rows against a Bundle of %d", len(rows), len(bundle))
	}
	t.Logf("20 lab results: %d bytes as rows, %d as a Bundle (1/%.1f)", len(rows), len(bundle), float64(len(bundle))/float64(len(rows)))
}
