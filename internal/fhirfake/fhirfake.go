// Package fhirfake is a FHIR R4 server of several patients that trusts its clients, for tests.
//
// It answers the way a generic FHIR server answers when nothing ties a token to one patient:
// a search returns every patient's records unless a subject parameter narrows it, and a read
// returns any record by id. That is the server patient isolation has to hold against: healow
// must limit every search to the connected patient and leave out whatever else comes back.
// Tests mount it behind their own OAuth fakes; it knows nothing of tokens.
package fhirfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Types are the resource types the server holds for each patient, with the element that names
// the patient.
var Types = map[string]string{
	"Observation":          "subject",
	"Encounter":            "subject",
	"Condition":            "subject",
	"Claim":                "patient",
	"ExplanationOfBenefit": "patient",
	"ImagingStudy":         "subject",
	"Coverage":             "beneficiary",
	"DocumentReference":    "subject",
	"Task":                 "for",
}

// Server holds Patients patients (pat-1 ... pat-N), each with PerType records of every type in
// Types, a DocumentReference attachment's Binary per document, and a Practitioner they share.
type Server struct {
	// Base is the path prefix the server answers under, e.g. "/fhir/r4/TEST".
	Base string
	// Params is what the CapabilityStatement declares per type; nil means every type declares
	// _id and its patient parameter (patient, or subject/beneficiary when that is its name).
	Params map[string][]string
	// Answer, when set, may answer a request itself (ok true) before the server does.
	Answer func(w http.ResponseWriter, r *http.Request) bool
	// IgnorePatient makes searches ignore the parameters that name a patient, as a server does
	// with a parameter it declares but does not implement.
	IgnorePatient bool

	records map[string][]map[string]any // type -> records
	byRef   map[string]map[string]any   // "Type/id" -> record
}

// New builds the data: patients pat-1 ... pat-<patients>, perType records of each type each.
func New(base string, patients, perType int) *Server {
	s := &Server{Base: strings.TrimSuffix(base, "/"), records: map[string][]map[string]any{}, byRef: map[string]map[string]any{}}
	s.add(map[string]any{"resourceType": "Practitioner", "id": "dr-1", "name": []any{map[string]any{"family": "Osler"}}})
	for p := 1; p <= patients; p++ {
		pid := fmt.Sprintf("pat-%d", p)
		s.add(map[string]any{"resourceType": "Patient", "id": pid, "name": []any{map[string]any{"family": "Person" + strconv.Itoa(p)}}})
		for _, typ := range sortedTypes() {
			for i := 1; i <= perType; i++ {
				id := fmt.Sprintf("%s-%s-%d", strings.ToLower(typ), pid, i)
				rec := map[string]any{"resourceType": typ, "id": id, Types[typ]: map[string]any{"reference": "Patient/" + pid}}
				if typ == "DocumentReference" {
					bin := "bin-" + pid + "-" + strconv.Itoa(i)
					s.add(map[string]any{"resourceType": "Binary", "id": bin, "contentType": "text/plain",
						"data": base64.StdEncoding.EncodeToString([]byte("note " + bin))})
					rec["content"] = []any{map[string]any{"attachment": map[string]any{"contentType": "text/plain", "url": "Binary/" + bin}}}
				}
				s.add(rec)
			}
		}
	}
	return s
}

func sortedTypes() []string {
	var out []string
	for t := range Types {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

func (s *Server) add(rec map[string]any) {
	typ := rec["resourceType"].(string)
	s.records[typ] = append(s.records[typ], rec)
	s.byRef[typ+"/"+rec["id"].(string)] = rec
}

// Record returns a stored record by "Type/id", for tests that want to compare.
func (s *Server) Record(ref string) map[string]any { return s.byRef[ref] }

// ServeHTTP answers GET {Base}/metadata, {Base}/{Type} searches and {Base}/{Type}/{id} reads.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.Answer != nil && s.Answer(w, r) {
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, s.Base+"/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	parts := strings.Split(rest, "/")
	switch {
	case rest == "metadata":
		write(w, s.capability())
	case len(parts) == 1:
		s.search(w, r, parts[0])
	case len(parts) == 2:
		rec := s.byRef[parts[0]+"/"+parts[1]]
		if rec == nil {
			w.WriteHeader(http.StatusNotFound)
			write(w, map[string]any{"resourceType": "OperationOutcome", "issue": []any{map[string]any{"severity": "error", "code": "not-found"}}})
			return
		}
		write(w, rec)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) capability() map[string]any {
	params := s.Params
	if params == nil {
		params = map[string][]string{"Patient": {"_id", "name"}, "Practitioner": {"_id", "name"}}
		for typ, field := range Types {
			name := field
			if field == "subject" || field == "for" {
				name = "patient"
			}
			params[typ] = []string{"_id", name}
		}
	}
	var res []any
	for typ, names := range params {
		var sp []any
		for _, n := range names {
			sp = append(sp, map[string]any{"name": n, "type": "token"})
		}
		res = append(res, map[string]any{"type": typ, "searchParam": sp})
	}
	return map[string]any{"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1", "rest": []any{map[string]any{"mode": "server", "resource": res}}}
}

// search filters by _id and by any parameter that names a patient; everything else is ignored,
// as FHIR servers do by default. No parameter naming a patient means every patient's records.
func (s *Server) search(w http.ResponseWriter, r *http.Request, typ string) {
	q := r.URL.Query()
	var matches []map[string]any
	filter := q
	if s.IgnorePatient {
		filter = url.Values{"_id": q["_id"]}
		if len(q["_id"]) == 0 {
			filter = nil
		}
	}
	for _, rec := range s.records[typ] {
		if matchesAll(rec, typ, filter) {
			matches = append(matches, rec)
		}
	}
	count, _ := strconv.Atoi(q.Get("_count"))
	if count <= 0 {
		count = 20
	}
	page, _ := strconv.Atoi(q.Get("_page"))
	page = max(page, 1)
	start := min((page-1)*count, len(matches))
	end := min(start+count, len(matches))
	var entries []any
	for _, rec := range matches[start:end] {
		entries = append(entries, map[string]any{"resource": rec, "search": map[string]any{"mode": "match"}})
	}
	b := map[string]any{"resourceType": "Bundle", "type": "searchset", "total": len(matches), "entry": entries}
	if end < len(matches) {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("_page", strconv.Itoa(page+1))
		b["link"] = []any{map[string]any{"relation": "next", "url": "https://" + r.Host + s.Base + "/" + typ + "?" + next.Encode()}}
	}
	write(w, b)
}

func matchesAll(rec map[string]any, typ string, q url.Values) bool {
	for name, values := range q {
		param, _, _ := strings.Cut(name, ":")
		var have string
		switch {
		case param == "_id":
			have = rec["id"].(string)
		case param == "patient" || param == "subject" || param == "beneficiary" || param == "for":
			if typ == "Patient" {
				continue
			}
			ref, _ := rec[Types[typ]].(map[string]any)
			have, _ = ref["reference"].(string)
			have = strings.TrimPrefix(have, "Patient/")
		default:
			continue
		}
		for _, v := range values {
			alts := strings.Split(v, ",")
			for i := range alts {
				alts[i] = strings.TrimPrefix(alts[i], "Patient/")
			}
			if !slices.Contains(alts, have) {
				return false
			}
		}
	}
	return true
}

func write(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/fhir+json")
	json.NewEncoder(w).Encode(v)
}
