package sandbox

import (
	"encoding/base64"
	"fmt"
)

// AddNote adds a progress note whose text is text to one practice (by code), on this server
// only: a DocumentReference dated now and the text/plain Binary it names, found by searches and
// reads from then on, newest first. The catalog the servers share is left as it is. It is for
// tests of what a client sees of a record that changed between two reads, and returns the
// DocumentReference's id ("" for an unknown code).
func (s *Server) AddNote(code, text string) string {
	p := s.byCode[code]
	if p == nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.added == nil {
		s.added = map[string]map[string][]*record{}
	}
	byType := s.added[code]
	if byType == nil {
		byType = map[string][]*record{}
		s.added[code] = byType
	}
	n := len(byType["DocumentReference"]) + 1
	at := s.now()
	bin := &record{typ: "Binary", id: fmt.Sprintf("bin-added-%d", n), patient: p.patientID, contentType: "text/plain", content: []byte(text)}
	bin.body = mustJSON(obj{"resourceType": "Binary", "id": bin.id, "contentType": "text/plain", "data": base64.StdEncoding.EncodeToString(bin.content)})
	doc := &record{typ: "DocumentReference", id: fmt.Sprintf("doc-added-%d", n), patient: p.patientID, date: at, status: "current",
		codes: []string{token(loinc, "11506-3")}, categories: []string{token(docCategorySystem, "clinical-note")}}
	doc.body = mustJSON(obj{"resourceType": "DocumentReference", "id": doc.id, "status": "current", "docStatus": "final",
		"type":        concept("Progress note", coding(loinc, "11506-3", "Progress note")),
		"category":    []obj{concept("Clinical Note", coding(docCategorySystem, "clinical-note", "Clinical Note"))},
		"subject":     ref("Patient/"+p.patientID, p.patientName),
		"date":        dateTime(at),
		"description": "Progress note",
		"content": []obj{{"attachment": obj{"contentType": "text/plain", "url": "Binary/" + bin.id, "title": "Progress note",
			"size": len(bin.content), "creation": dateTime(at)}}},
	})
	// Newest first, as the catalog's records are.
	byType["Binary"] = append([]*record{bin}, byType["Binary"]...)
	byType["DocumentReference"] = append([]*record{doc}, byType["DocumentReference"]...)
	return doc.id
}

// withAdded is p's records of typ with what AddNote added on this server before them.
func (s *Server) withAdded(p *practice, typ string) []*record {
	s.mu.Lock()
	added := s.added[p.code][typ]
	s.mu.Unlock()
	if len(added) == 0 {
		return p.byType[typ]
	}
	return append(append([]*record(nil), added...), p.byType[typ]...)
}

// find is p.find, and then what AddNote added on this server.
func (s *Server) find(p *practice, typ, id string) *record {
	if r := p.find(typ, id); r != nil {
		return r
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.added[p.code][typ] {
		if r.id == id {
			return r
		}
	}
	return nil
}

func mustJSON(body obj) []byte {
	raw, err := marshalJSON(body)
	if err != nil {
		panic(fmt.Sprintf("sandbox: marshal a note: %v", err)) // fixed shapes: a bug, not a runtime condition
	}
	return raw
}
