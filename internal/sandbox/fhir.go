package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
)

// eCW's words for a request outside the token's scopes; clients match on them.
const scopeDenied = "operation not supported for the selected scope"

// handleFHIR serves everything under /fhir/r4/<CODE>/ except discovery:
// read and search-type, GET only, as eCW's CapabilityStatement declares.
func (s *Server) handleFHIR(w http.ResponseWriter, r *http.Request) {
	p := s.byCode[r.PathValue("code")]
	if p == nil {
		writeOutcome(w, http.StatusNotFound, "not-found", "unknown practice code")
		return
	}
	s.mu.Lock()
	s.stats.FHIRRequests++
	s.mu.Unlock()

	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeOutcome(w, http.StatusMethodNotAllowed, "not-supported", "only read and search-type over GET are supported")
		return
	}
	rest := r.PathValue("rest")
	if rest == "metadata" {
		s.writeCapability(w, p)
		return
	}
	if s.fhirFault(w, r, p) {
		return
	}
	tok := s.lookupAccess(bearerToken(r), p)
	if tok == nil {
		s.mu.Lock()
		s.stats.Unauthorized++
		s.mu.Unlock()
		w.Header().Set("WWW-Authenticate", `Bearer realm="healow sandbox"`)
		writeOutcome(w, http.StatusUnauthorized, "login", "access token is missing, expired or not issued for this practice")
		return
	}

	parts := strings.Split(rest, "/")
	typ := parts[0]
	if typ == "" || !knownType(typ) || len(parts) > 2 {
		writeOutcome(w, http.StatusNotFound, "not-found", "unknown resource type")
		return
	}
	if len(parts) == 2 {
		s.read(w, r, p, tok, typ, parts[1])
		return
	}
	s.search(w, r, p, tok, typ)
}

// bearerToken returns the token of an "Authorization: Bearer" header; the
// scheme is case-insensitive (RFC 7235).
func bearerToken(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// read serves GET <base>/<Type>/<id>. Another patient's record is
// "not found", not "forbidden", so ids cannot be probed.
func (s *Server) read(w http.ResponseWriter, r *http.Request, p *practice, tok *accessToken, typ, id string) {
	g := tok.grants.get(typ)
	if !g.read.any() {
		writeOutcome(w, http.StatusForbidden, "forbidden", scopeDenied)
		return
	}
	if p.gone[typ+"/"+id] {
		writeOutcome(w, http.StatusGone, "deleted", typ+"/"+id+" was deleted")
		return
	}
	rec := s.find(p, typ, id)
	if rec == nil || (rec.patient != "" && rec.patient != p.patientID) {
		writeOutcome(w, http.StatusNotFound, "not-found", typ+"/"+id+" was not found")
		return
	}
	if !g.read.allows(rec.categories) {
		writeOutcome(w, http.StatusForbidden, "forbidden", scopeDenied)
		return
	}
	body := rec.body
	if typ == "Binary" {
		content := rec.content
		if rec.contentType == "application/pdf" && s.faultsFor(p).DamagedPDFs {
			content = content[:len(content)/2]
			body, _ = json.Marshal(obj{"resourceType": "Binary", "id": id, "contentType": rec.contentType, "data": content})
		}
		if !wantsFHIRJSON(r.Header.Get("Accept")) {
			writeBody(w, http.StatusOK, rec.contentType, content)
			return
		}
	}
	writeBody(w, http.StatusOK, fhirJSON, body)
}

// wantsFHIRJSON reports whether an Accept header asks for the Binary
// resource rather than its raw content.
func wantsFHIRJSON(accept string) bool {
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		switch strings.ToLower(strings.TrimSpace(mt)) {
		case "application/fhir+json", "application/json+fhir", "application/json":
			return true
		}
	}
	return false
}

// search serves GET <base>/<Type>?params over the token's patient only.
func (s *Server) search(w http.ResponseWriter, r *http.Request, p *practice, tok *accessToken, typ string) {
	g := tok.grants.get(typ)
	if !g.search.any() {
		writeOutcome(w, http.StatusForbidden, "forbidden", scopeDenied)
		return
	}
	if typ == "Binary" {
		writeOutcome(w, http.StatusMethodNotAllowed, "not-supported", "Binary supports read only")
		return
	}
	q, err := parseSearch(r.URL.Query(), s.pageSize)
	if err != nil {
		writeOutcome(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	for _, pid := range q.patients {
		if pid != p.patientID {
			writeOutcome(w, http.StatusForbidden, "forbidden", "the patient parameter names a patient this token does not cover")
			return
		}
	}
	var matches []*record
	for _, rec := range s.withAdded(p, typ) {
		if rec.patient != "" && rec.patient != p.patientID {
			continue
		}
		// A category-qualified scope narrows what a search returns rather
		// than failing it, as SMART v2 allows.
		if q.matches(rec) && g.search.allows(rec.categories) {
			matches = append(matches, rec)
		}
	}
	s.writeSearchset(w, r, p, typ, q, matches)
}
