package practice

import (
	"slices"
	"time"
)

// State is where a practice stands, in words a person can act on.
type State string

const (
	StateStarting       State = "starting"         // no access token yet
	StateReady          State = "ready"            // has a valid access token
	StateRefreshing     State = "refreshing"       // getting a new access token
	StateRateLimited    State = "rate-limited"     // the practice answered 429, or this minute's requests are spent
	StateNeedsReconnect State = "needs-reconnect"  // the grant is gone; run healow connect again
	StateCircuitOpen    State = "circuit-open"     // failing repeatedly; calls fail fast for a while
	StateDegraded       State = "degraded"         // the last refresh failed for a passing reason
	StateHostNotAllowed State = "host-not-allowed" // its FHIR server or token endpoint is not an allowed host
)

// Who holds a practice's requests back when its State is StateRateLimited.
const (
	LimitedByPractice = "practice" // it answered 429 and refuses requests until the minute turns
	LimitedByBudget   = "budget"   // the healow processes on this machine sent this minute's requests
)

// Health is a snapshot of one actor, with nothing secret and no patient data.
type Health struct {
	ID           string        `json:"id"`
	Name         string        `json:"name"`
	FHIRBaseURL  string        `json:"fhir_base_url"`
	TokenHost    string        `json:"token_endpoint_host,omitempty"`
	ConnectedVia string        `json:"connected_via,omitempty"` // vault.ViaMCP, vault.ViaCLI or unknown
	State        State         `json:"state"`
	TokenExpiry  time.Time     `json:"token_expiry"`
	TokenLeft    time.Duration `json:"token_left_ns"`
	LastRefresh  time.Time     `json:"last_refresh"`
	// RefreshTokenExpiry is when the refresh token runs out (see RefreshExpiry; zero: unknown),
	// RefreshTokenLeft how long that is from now.
	RefreshTokenExpiry time.Time     `json:"refresh_token_expiry,omitzero"`
	RefreshTokenLeft   time.Duration `json:"refresh_token_left_ns,omitempty"`
	RefreshCount       int           `json:"refreshes"`
	InFlight           int           `json:"in_flight"`
	Succeeded          int           `json:"succeeded"`
	Failed             int           `json:"failed"`
	Retries            int           `json:"retries"`
	LastRequest        time.Time     `json:"last_request"`
	LastStatus         int           `json:"last_status"`
	LastLatency        time.Duration `json:"last_latency_ns"`
	LatencyP50         time.Duration `json:"latency_p50_ns"`
	LatencyP95         time.Duration `json:"latency_p95_ns"`
	RateLimit          int           `json:"rate_limit_per_minute"`
	RateLeft           int           `json:"rate_left_this_minute"`   // as far as this process knows
	RateUnshared       bool          `json:"rate_unshared,omitempty"` // the store takes no reservations: counted in this process alone
	RateLimitedUntil   time.Time     `json:"rate_limited_until"`
	RateLimitedBy      string        `json:"rate_limited_by,omitempty"` // LimitedByPractice or LimitedByBudget
	Breaker            string        `json:"breaker"`
	BreakerFailures    int           `json:"breaker_consecutive_failures"`
	CircuitOpenUntil   time.Time     `json:"circuit_open_until"`
	Restarts           int           `json:"restarts"`
	LastError          string        `json:"last_error,omitempty"`
	LastErrorAt        time.Time     `json:"last_error_at"`
}

// latencyRing keeps the latest request latencies for the percentiles in Health.
type latencyRing struct {
	buf  [256]time.Duration
	n    int
	next int
}

func (l *latencyRing) add(d time.Duration) {
	l.buf[l.next] = d
	l.next = (l.next + 1) % len(l.buf)
	l.n = min(l.n+1, len(l.buf))
}

func (l *latencyRing) percentiles() (p50, p95 time.Duration) {
	if l.n == 0 {
		return 0, 0
	}
	s := slices.Clone(l.buf[:l.n])
	slices.Sort(s)
	return s[(l.n-1)*50/100], s[(l.n-1)*95/100]
}
