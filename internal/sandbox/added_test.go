package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// A note added to one practice comes first in its documents, and its text is read through its
// Binary; another server, and the other practices, keep the catalog as it was.
func TestAddNoteChangesOneServersPractice(t *testing.T) {
	t.Parallel()
	s, other := startSandbox(t, Options{}), startSandbox(t, Options{})
	p := practice0(t, s, 0)
	tok := connect(t, s, p, testScopes)
	before, _, _ := searchAll(t, s, p.BaseURL+"/DocumentReference", tok.AccessToken)

	id := s.AddNote(p.Code, "Saw a quokka on holiday.")
	if id == "" || s.AddNote("NOSUCH", "x") != "" {
		t.Fatalf("AddNote = %q", id)
	}
	total, _, docs := searchAll(t, s, p.BaseURL+"/DocumentReference", tok.AccessToken)
	var first struct {
		ID      string
		Content []struct{ Attachment struct{ URL string } }
	}
	json.Unmarshal(docs[0], &first)
	if total != before+1 || first.ID != id {
		t.Fatalf("%d documents (%d before), the first %q; want %q first", total, before, first.ID, id)
	}
	status, text, _ := fhirGet(t, s, p.BaseURL+"/"+first.Content[0].Attachment.URL, tok.AccessToken, "")
	if status != http.StatusOK || !strings.Contains(string(text), "quokka") {
		t.Fatalf("the note's Binary: %d %q", status, text)
	}
	if status, _, _ := fhirGet(t, s, p.BaseURL+"/DocumentReference/"+id, tok.AccessToken, ""); status != http.StatusOK {
		t.Fatalf("reading the note: %d", status)
	}

	op := practice0(t, other, 0)
	otok := connect(t, other, op, testScopes)
	if n, _, _ := searchAll(t, other, op.BaseURL+"/DocumentReference", otok.AccessToken); n != before {
		t.Fatalf("another server has %d documents, want %d", n, before)
	}
}
