package practice

import "time"

// State is where a practice stands, in words a person can act on.
type State string

const (
	StateStarting       State = "starting"        // loading its metadata and token
	StateReady          State = "ready"           // has a valid access token
	StateRefreshing     State = "refreshing"      // getting a new access token
	StateNeedsReconnect State = "needs-reconnect" // the grant is gone; run healow connect again
	StateCircuitOpen    State = "circuit-open"    // failing repeatedly; calls fail fast for a while
	StateDegraded       State = "degraded"        // the last refresh failed for a passing reason
)

// Health is a snapshot of one actor, with nothing secret and no patient data.
type Health struct {
	ID           string        `json:"id"`
	Name         string        `json:"name"`
	FHIRBaseURL  string        `json:"fhir_base_url"`
	State        State         `json:"state"`
	TokenExpiry  time.Time     `json:"token_expiry"`
	TokenLeft    time.Duration `json:"token_left_ns"`
	LastRefresh  time.Time     `json:"last_refresh"`
	InFlight     int           `json:"in_flight"`
	Succeeded    int           `json:"succeeded"`
	Failed       int           `json:"failed"`
	LastRequest  time.Time     `json:"last_request"`
	LastStatus   int           `json:"last_status"`
	LimiterLeft  float64       `json:"limiter_tokens_left"`
	Breaker      string        `json:"breaker"`
	Restarts     int           `json:"restarts"`
	LastError    string        `json:"last_error,omitempty"`
	LastErrorAt  time.Time     `json:"last_error_at"`
	LastLatency  time.Duration `json:"last_latency_ns"`
	RefreshCount int           `json:"refreshes"`
}
