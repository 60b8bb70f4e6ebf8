package practice

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/fhirfake"
)

// startLeaky serves an actor for pat-1 of a server that holds seven patients and trusts its
// clients (internal/fhirfake): whatever the actor does not limit, the server hands out.
func startLeaky(t *testing.T, tweak func(*fhirfake.Server)) (*harness, *fhirfake.Server) {
	t.Helper()
	f := newFakeECW(t)
	records := fhirfake.New("/fhir/r4/TEST", 7, 3)
	if tweak != nil {
		tweak(records)
	}
	f.records = records
	return startActor(t, f, time.Now().Add(time.Hour), nil), records
}

// entries lists "Type/id (patient)" for each entry of a Bundle.
func entries(t *testing.T, body []byte) []string {
	t.Helper()
	var b struct {
		ResourceType string
		Entry        []struct{ Resource map[string]any }
	}
	if err := json.Unmarshal(body, &b); err != nil || b.ResourceType != "Bundle" {
		t.Fatalf("not a Bundle (%v): %.300s", err, body)
	}
	var out []string
	for _, e := range b.Entry {
		id, _ := e.Resource["id"].(string)
		out = append(out, e.Resource["resourceType"].(string)+"/"+id)
	}
	return out
}

// Searches of every type the leaky server holds come back with the patient's records only, each
// limited through the parameter the server declares for the type.
func TestSearchesOfALeakyServerHoldOnlyThePatient(t *testing.T) {
	t.Parallel()
	h, _ := startLeaky(t, nil)
	ctx := context.Background()
	for typ := range fhirfake.Types {
		resp, err := h.actor.Fetch(ctx, Request{Resource: typ, Params: url.Values{"_count": {"100"}}})
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		got := entries(t, resp.Body)
		if len(got) != 3 || resp.Withheld.Total() != 0 {
			t.Fatalf("%s: %d entries (%v), withheld %+v; want the patient's 3", typ, len(got), got, resp.Withheld)
		}
		for _, ref := range got {
			if !strings.Contains(ref, "-pat-1-") {
				t.Fatalf("%s: %s is another patient's", typ, ref)
			}
		}
	}
}

// A server that ignores the patient parameter answers with everyone's records: the others are
// left out before the answer leaves the actor, and counted.
func TestOtherPatientsRecordsAreLeftOutOfAnswers(t *testing.T) {
	t.Parallel()
	h, _ := startLeaky(t, func(s *fhirfake.Server) { s.IgnorePatient = true })
	resp, err := h.actor.Fetch(context.Background(), Request{Resource: "Claim", Params: url.Values{"_count": {"100"}}})
	if err != nil {
		t.Fatal(err)
	}
	got := entries(t, resp.Body)
	if len(got) != 3 || resp.Withheld.OtherPatient != 18 || resp.Withheld.Total() != 18 {
		t.Fatalf("got %v, withheld %+v; want pat-1's 3 claims and 18 withheld", got, resp.Withheld)
	}
	if !strings.Contains(resp.Withheld.String(), "18 records") {
		t.Fatalf("note = %q", resp.Withheld.String())
	}
	// What the audit trail records is what is passed on, not what the practice sent.
	if resp.Resources != 3 || resp.ResourceType != "Claim" {
		t.Fatalf("the answer counts %d of %q", resp.Resources, resp.ResourceType)
	}
}

// A server that answers a search for one type with another's records (once seen: Observations
// for an Encounter search) gets those matches left out.
func TestMatchesOfAnotherTypeAreLeftOut(t *testing.T) {
	t.Parallel()
	h, _ := startLeaky(t, func(s *fhirfake.Server) {
		s.Answer = func(w http.ResponseWriter, r *http.Request) bool {
			if !strings.HasSuffix(r.URL.Path, "/Encounter") {
				return false
			}
			w.Write([]byte(`{"resourceType":"Bundle","type":"searchset","entry":[
				{"resource":{"resourceType":"Encounter","id":"e1","subject":{"reference":"Patient/pat-1"}},"search":{"mode":"match"}},
				{"resource":{"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/pat-1"}},"search":{"mode":"match"}},
				{"resource":{"resourceType":"Observation","id":"o2","subject":{"reference":"Patient/pat-1"}}},
				{"resource":{"resourceType":"Practitioner","id":"dr-1"},"search":{"mode":"include"}},
				{"resource":{"resourceType":"Patient","id":"pat-2"},"search":{"mode":"include"}},
				{"resource":{"resourceType":"Bundle","id":"b1"},"search":{"mode":"include"}},
				{"resource":{"resourceType":"OperationOutcome","issue":[]},"search":{"mode":"outcome"}}]}`))
			return true
		}
	})
	resp, err := h.actor.Fetch(context.Background(), Request{Resource: "Encounter"})
	if err != nil {
		t.Fatal(err)
	}
	got := entries(t, resp.Body)
	want := Withheld{OtherPatient: 1, OtherType: 2, Unverified: 1}
	if strings.Join(got, " ") != "Encounter/e1 Practitioner/dr-1 OperationOutcome/" || resp.Withheld != want {
		t.Fatalf("got %v, withheld %+v; want %+v", got, resp.Withheld, want)
	}
	if !strings.Contains(string(resp.Body), `"type":"searchset"`) {
		t.Fatalf("the Bundle lost its other members: %s", resp.Body)
	}
	if resp.Resources != 3 || resp.ResourceType != "Encounter" {
		t.Fatalf("the answer counts %d of %q", resp.Resources, resp.ResourceType)
	}
}

// Reads by id of another patient's records are refused: the Patient before it is asked for,
// anything else once its answer names someone else (or no one).
func TestReadsOfAnotherPatientsRecordsAreRefused(t *testing.T) {
	t.Parallel()
	h, _ := startLeaky(t, func(s *fhirfake.Server) {
		s.Answer = func(w http.ResponseWriter, r *http.Request) bool {
			if !strings.HasSuffix(r.URL.Path, "/Observation/nobodys") {
				return false
			}
			w.Write([]byte(`{"resourceType":"Observation","id":"nobodys","status":"final"}`))
			return true
		}
	})
	ctx := context.Background()
	before := h.ecw.fhirCalls.Load()
	if _, err := h.actor.Fetch(ctx, Request{Resource: "Patient", ID: "pat-2"}); !errors.Is(err, ErrNotThisPatient) {
		t.Fatalf("Patient/pat-2: %v", err)
	}
	if n := h.ecw.fhirCalls.Load() - before; n != 0 {
		t.Fatalf("another patient's Patient was asked for (%d requests)", n)
	}
	for _, ref := range []string{"DocumentReference/documentreference-pat-2-1", "Coverage/coverage-pat-5-2", "Observation/nobodys"} {
		typ, id, _ := strings.Cut(ref, "/")
		resp, err := h.actor.Fetch(ctx, Request{Resource: typ, ID: id})
		if !errors.Is(err, ErrNotThisPatient) || resp != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		if strings.Contains(err.Error(), "Patient/") {
			t.Fatalf("the refusal names the other patient: %v", err)
		}
	}
	for _, ref := range []string{"Patient/pat-1", "DocumentReference/documentreference-pat-1-1", "Practitioner/dr-1"} {
		typ, id, _ := strings.Cut(ref, "/")
		if _, err := h.actor.Fetch(ctx, Request{Resource: typ, ID: id}); err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
	}
	if hl, _ := h.actor.Health(ctx); hl.State != StateReady || hl.Failed != 0 || hl.LastError != "" {
		t.Fatalf("refusals counted against the practice: %+v", hl)
	}
}

// A Binary is read only once one of the patient's records has pointed to it; another patient's
// never is, even by its exact URL.
func TestBinariesAreReadOnlyThroughThePatientsRecords(t *testing.T) {
	t.Parallel()
	h, _ := startLeaky(t, nil)
	ctx := context.Background()
	base := h.ecw.base()
	mine, theirs := Request{Resource: "Binary", ID: "bin-pat-1-2"}, Request{Attachment: base + "/Binary/bin-pat-2-1"}
	for _, req := range []Request{mine, theirs} {
		if _, err := h.actor.Fetch(ctx, req); !errors.Is(err, ErrUnknownAttachment) {
			t.Fatalf("%+v before any document: %v", req, err)
		}
	}
	if _, err := h.actor.Fetch(ctx, Request{Resource: "DocumentReference"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.actor.Fetch(ctx, mine); err != nil {
		t.Fatalf("the patient's own Binary: %v", err)
	}
	if _, err := h.actor.Fetch(ctx, Request{Attachment: base + "/Binary/bin-pat-1-3"}); err != nil {
		t.Fatalf("the patient's own attachment url: %v", err)
	}
	if _, err := h.actor.Fetch(ctx, theirs); !errors.Is(err, ErrUnknownAttachment) {
		t.Fatalf("another patient's Binary: %v", err)
	}
}

// The CapabilityStatement is read once for any number of searches, and a practice whose
// statement cannot be read gets no search at all, with the reason.
func TestSearchesWaitForTheCapabilityStatement(t *testing.T) {
	t.Parallel()
	h, _ := startLeaky(t, nil)
	ctx := context.Background()
	for range 3 {
		if _, err := h.actor.Fetch(ctx, Request{Resource: "Observation"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.ecw.fhirCalls.Load(); n != 4 {
		t.Fatalf("%d requests for 3 searches; want the metadata once and 3 searches", n)
	}

	broken, _ := startLeaky(t, func(s *fhirfake.Server) {
		s.Answer = func(w http.ResponseWriter, r *http.Request) bool {
			if strings.HasSuffix(r.URL.Path, "/metadata") {
				w.Write([]byte(`{"resourceType":"Bundle"}`))
				return true
			}
			return false
		}
	})
	_, err := broken.actor.Fetch(ctx, Request{Resource: "Observation"})
	if err == nil || !strings.Contains(err.Error(), "CapabilityStatement") || !strings.Contains(err.Error(), "no search is sent") {
		t.Fatalf("err = %v", err)
	}
	if n := broken.ecw.fhirCalls.Load(); n != 1 {
		t.Fatalf("%d requests; want only the metadata", n)
	}
}

// A server may drop the patient from the next links it hands out: the actor follows a link its
// own checked answer gave, and refuses the same link made up by a caller.
func TestTheServersOwnNextLinksAreFollowed(t *testing.T) {
	t.Parallel()
	h, _ := startLeaky(t, func(s *fhirfake.Server) {
		s.Answer = func(w http.ResponseWriter, r *http.Request) bool {
			if !strings.HasSuffix(r.URL.Path, "/Observation") {
				return false
			}
			page := r.URL.Query().Get("page")
			next := ""
			if page == "" {
				next = `,"link":[{"relation":"next","url":"https://` + r.Host + `/fhir/r4/TEST/Observation?page=2"}]`
			}
			w.Write([]byte(`{"resourceType":"Bundle","type":"searchset"` + next + `,"entry":[` +
				`{"resource":{"resourceType":"Observation","id":"o` + page + `","subject":{"reference":"Patient/pat-1"}}}]}`))
			return true
		}
	})
	ctx := context.Background()
	link := h.ecw.base() + "/Observation?page=2"
	if _, err := h.actor.Fetch(ctx, Request{Next: link}); !errors.Is(err, ErrNotThisPatient) {
		t.Fatalf("a made-up link that searches without the patient: %v", err)
	}
	first, err := h.actor.Fetch(ctx, Request{Resource: "Observation"})
	if err != nil || !strings.Contains(string(first.Body), "page=2") {
		t.Fatalf("first page: %v", err)
	}
	second, err := h.actor.Fetch(ctx, Request{Next: link})
	if err != nil || !strings.Contains(string(second.Body), `"id":"o2"`) {
		t.Fatalf("the server's own next link: %v", err)
	}
}
