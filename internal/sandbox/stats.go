package sandbox

// Stats counts what the sandbox has seen, for tests.
type Stats struct {
	AuthCodeGrants int // token requests with grant_type=authorization_code, successful or not
	RefreshGrants  int // token requests with grant_type=refresh_token, successful or not
	RefreshReuse   int // refresh tokens presented again after they were used
	// PublicClientRequests counts token requests with no Authorization header that named the
	// registered client in the body (a public client), accepted or not.
	PublicClientRequests int
	FHIRRequests         int // requests under a known practice base, except its smart-configuration
	Unauthorized         int // FHIR requests answered 401
	RateLimited          int // requests answered 429 by the RateLimit bucket
	Directory            int // requests for the practice directory, answered 200 or 304
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}
