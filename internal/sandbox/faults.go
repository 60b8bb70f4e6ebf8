package sandbox

import "net/http"

// Faults make one practice misbehave the way real eCW practices do, so the
// client's error paths can be tested. The zero value is a healthy practice.
type Faults struct {
	// DenyConsent: authorize redirects with error=access_denied, and the
	// token endpoint answers HTTP 500 {"error":"access_denied"} for this
	// practice (eCW's shape).
	DenyConsent bool
	// NotActivated: the token endpoint answers 400 with the plain-text body
	// "FHIR app authentication is not enabled for this practice".
	NotActivated bool
	// OmitPatient: token responses leave out "patient"; the id_token's
	// fhirUser still names Patient/<id>.
	OmitPatient bool
	// RevokeRefresh: every refresh for this practice answers invalid_grant.
	RevokeRefresh bool
	// TooManyRequests: every FHIR request answers 429 with an
	// OperationOutcome and no Retry-After, as eCW does over its rate limit.
	TooManyRequests bool
	// Unavailable: every FHIR request answers 503 with an OperationOutcome.
	Unavailable bool
}

// notActivatedBody is eCW's exact wording, which clients match on.
const notActivatedBody = "FHIR app authentication is not enabled for this practice"

// SetFaults replaces the fault set of one practice (by code). Unknown codes
// are ignored.
func (s *Server) SetFaults(code string, f Faults) {
	if s.byCode[code] == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[code] = f
}

func (s *Server) faultsFor(p *practice) Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults[p.code]
}

// tokenFault answers a token request when the practice's faults say it must fail,
// and reports whether it did.
func tokenFault(w http.ResponseWriter, f Faults) bool {
	switch {
	case f.NotActivated:
		writeBody(w, http.StatusBadRequest, "text/plain;charset=utf-8", []byte(notActivatedBody))
	case f.DenyConsent:
		writeJSON(w, http.StatusInternalServerError, "application/json", oauthError{Error: "access_denied"})
	default:
		return false
	}
	return true
}

// fhirFault answers a FHIR request when the practice's faults say it must fail.
func fhirFault(w http.ResponseWriter, f Faults) bool {
	switch {
	case f.TooManyRequests:
		writeOutcome(w, http.StatusTooManyRequests, "throttled", "rate limit exceeded for this practice")
	case f.Unavailable:
		writeOutcome(w, http.StatusServiceUnavailable, "transient", "the practice's FHIR service is unavailable")
	default:
		return false
	}
	return true
}
