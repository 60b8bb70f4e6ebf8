package sandbox

import (
	"crypto/tls"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Faults make one practice misbehave the way real eCW practices do, so the client's error paths
// and its resilience can be tested. The zero value is a healthy practice.
type Faults struct {
	// DenyConsent: authorize redirects with error=access_denied, and the token endpoint answers
	// HTTP 500 {"error":"access_denied"} for this practice (eCW's shape).
	DenyConsent bool
	// NotActivated: the token endpoint answers 400 with the plain-text body
	// "FHIR app authentication is not enabled for this practice".
	NotActivated bool
	// OmitPatient: token responses leave out "patient"; the id_token's fhirUser still names
	// Patient/<id>.
	OmitPatient bool
	// RevokeRefresh: every refresh for this practice answers invalid_grant.
	RevokeRefresh bool
	// TooManyRequests: every FHIR request answers 429 with an OperationOutcome and no
	// Retry-After, as eCW does over its rate limit.
	TooManyRequests bool
	// Unavailable: every FHIR request answers 503 with an OperationOutcome.
	Unavailable bool

	// RateLimit, when positive, is eCW's bucket: that many requests per wall-clock minute (of
	// the sandbox's clock), FHIR and token requests together; past it every request answers
	// 429 without Retry-After until the minute ends.
	RateLimit int
	// Latency delays every FHIR request of this practice.
	Latency time.Duration
	// FailNext makes the next that many FHIR requests answer 500, a burst that then passes.
	FailNext int
	// ResetConnections drops every FHIR request's connection without an answer.
	ResetConnections bool
	// Hang makes every FHIR request wait until the client gives up.
	Hang bool
	// RejectAccess answers every FHIR request 401, as a practice that stopped honouring the
	// app's access tokens while still issuing them would.
	RejectAccess bool
	// Gate, when not nil, holds every FHIR request of this practice until it is closed (or the
	// client gives up), so that a test can keep a call in flight for as long as it needs.
	Gate <-chan struct{}
	// ConfidentialOnly: the practice's smart-configuration leaves client-public out of its
	// capabilities, and its token endpoint refuses a client that does not authenticate.
	ConfidentialOnly bool
	// AccessTokenTTL, when positive, replaces Options.AccessTokenTTL for this practice's new
	// tokens.
	AccessTokenTTL time.Duration
	// DamagedPDFs serves every PDF Binary cut off halfway, as a document whose upload broke off
	// is, in its raw form and in the Binary resource's data alike.
	DamagedPDFs bool
}

// notActivatedBody is eCW's exact wording, which clients match on.
const notActivatedBody = "FHIR app authentication is not enabled for this practice"

// SetFaults replaces the fault set of one practice (by code). Unknown codes are ignored.
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

// tokenFault answers a token request for p when a fault says it must fail, and reports whether
// it did.
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

// overLimit counts one request against p's per-minute bucket and reports whether it is over.
func (s *Server) overLimit(p *practice) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	limit := s.faults[p.code].RateLimit
	if limit <= 0 {
		return false
	}
	minute := s.now().Unix() / 60
	b := s.buckets[p.code]
	if b.minute != minute {
		b = bucket{minute: minute}
	}
	b.count++
	s.buckets[p.code] = b
	if b.count > limit {
		s.stats.RateLimited++
		return true
	}
	return false
}

type bucket struct {
	minute int64
	count  int
}

// fhirFault plays p's faults on a FHIR request, and reports whether it answered.
func (s *Server) fhirFault(w http.ResponseWriter, r *http.Request, p *practice) bool {
	s.mu.Lock()
	f := s.faults[p.code]
	burst := f.FailNext > 0
	if burst {
		f.FailNext--
		s.faults[p.code] = f
	}
	s.mu.Unlock()

	if f.Gate != nil {
		select {
		case <-f.Gate:
		case <-r.Context().Done():
			return true
		}
	}
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		}
	}
	switch {
	case f.Hang:
		<-r.Context().Done()
	case f.ResetConnections:
		resetConnection(w)
	case s.overLimit(p):
		writeOutcome(w, http.StatusTooManyRequests, "throttled", "rate limit exceeded for this practice; try again next minute")
	case f.RejectAccess:
		writeOutcome(w, http.StatusUnauthorized, "login", "access token is not accepted")
	case f.TooManyRequests:
		writeOutcome(w, http.StatusTooManyRequests, "throttled", "rate limit exceeded for this practice")
	case f.Unavailable:
		writeOutcome(w, http.StatusServiceUnavailable, "transient", "the practice's FHIR service is unavailable")
	case burst:
		writeOutcome(w, http.StatusInternalServerError, "exception", "internal error "+strconv.Itoa(f.FailNext))
	default:
		return false
	}
	return true
}

// resetConnection drops the connection with a TCP reset, as a failing load balancer would.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	c := conn
	if tc, ok := conn.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if tcp, ok := c.(*net.TCPConn); ok {
		tcp.SetLinger(0)
	}
	conn.Close()
}
