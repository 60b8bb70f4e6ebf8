package mcp

import (
	"context"
	"fmt"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/quote"
	"github.com/healow-mcp/healow-mcp/supervisor/status"
)

type statusIn struct {
	Practice string `json:"practice,omitempty" jsonschema:"name or id; leave out for all"`
}

type statusOut struct {
	Practices []healthOut `json:"practices"`
}

// healthOut is status.Practice shaped for a model: durations in milliseconds and
// seconds, times left out when they never happened.
type healthOut struct {
	ID                  string    `json:"id"`
	Name                string    `json:"name"`
	FHIRBaseURL         string    `json:"fhir_base_url"`
	State               string    `json:"state" jsonschema:"ready, refreshing, starting, rate-limited, circuit-open, degraded, needs-reconnect, host-not-allowed, restarting or stopped"`
	Healthy             bool      `json:"healthy" jsonschema:"whether the practice answers requests now (ready or refreshing)"`
	Advice              string    `json:"advice,omitempty" jsonschema:"what the user can do when the practice is not healthy"`
	Warning             string    `json:"warning,omitempty" jsonschema:"what the user should do soon, healthy or not: reconnect before the refresh token expires"`
	RefreshTokenExpiry  time.Time `json:"refresh_token_expiry,omitzero" jsonschema:"when the grant ends unless the practice is connected again (eClinicalWorks: 90 days)"`
	TokenExpiry         time.Time `json:"token_expiry,omitzero"`
	TokenSecondsLeft    int64     `json:"token_seconds_left" jsonschema:"seconds the current access token has left; it is renewed on its own"`
	LastRefresh         time.Time `json:"last_refresh,omitzero"`
	LastRequest         time.Time `json:"last_request,omitzero"`
	LastHTTPStatus      int       `json:"last_http_status,omitempty"`
	LastLatencyMS       int64     `json:"last_latency_ms"`
	LatencyP50MS        int64     `json:"latency_p50_ms"`
	LatencyP95MS        int64     `json:"latency_p95_ms"`
	Succeeded           int       `json:"succeeded" jsonschema:"requests that succeeded since the server started"`
	Failed              int       `json:"failed"`
	Retries             int       `json:"retries"`
	InFlight            int       `json:"in_flight"`
	RateLeftThisMinute  int       `json:"rate_left_this_minute" jsonschema:"requests that may still go to the practice this wall-clock minute, all healow processes together"`
	RateLimitedUntil    time.Time `json:"rate_limited_until,omitzero"`
	CircuitBreaker      string    `json:"circuit_breaker" jsonschema:"closed, open or half-open"`
	ConsecutiveFailures int       `json:"consecutive_failures"`
	CircuitOpenUntil    time.Time `json:"circuit_open_until,omitzero"`
	Restarts            int       `json:"restarts" jsonschema:"times the supervisor restarted the practice's actor"`
	LastError           string    `json:"last_error,omitempty"`
	LastErrorAt         time.Time `json:"last_error_at,omitzero"`
}

func toHealthOut(p status.Practice) healthOut {
	return healthOut{
		ID: p.ID, Name: p.Name, FHIRBaseURL: p.FHIRBaseURL, State: string(p.State), Healthy: p.Healthy, Advice: p.Advice,
		Warning: p.Warning, RefreshTokenExpiry: p.RefreshTokenExpiry,
		TokenExpiry: p.TokenExpiry, TokenSecondsLeft: int64(p.TokenLeft / time.Second), LastRefresh: p.LastRefresh,
		LastRequest: p.LastRequest, LastHTTPStatus: p.LastStatus, LastLatencyMS: p.LastLatency.Milliseconds(),
		LatencyP50MS: p.LatencyP50.Milliseconds(), LatencyP95MS: p.LatencyP95.Milliseconds(),
		Succeeded: p.Succeeded, Failed: p.Failed, Retries: p.Retries, InFlight: p.InFlight,
		RateLeftThisMinute: p.RateLeft, RateLimitedUntil: p.RateLimitedUntil,
		CircuitBreaker: p.Breaker, ConsecutiveFailures: p.BreakerFailures, CircuitOpenUntil: p.CircuitOpenUntil,
		Restarts: p.Restarts, LastError: p.LastError, LastErrorAt: p.LastErrorAt,
	}
}

type disconnectIn struct {
	Practice string `json:"practice" jsonschema:"name or id, even when only one is connected"`
}

type disconnectOut struct {
	Practice   string `json:"practice"`
	PracticeID string `json:"practice_id"`
	Revoked    bool   `json:"revoked" jsonschema:"whether the practice confirmed it revoked the grant"`
	Revocation string `json:"revocation" jsonschema:"what became of the grant at the practice"`
}

func (t *tools) addStatus(s *sdk.Server) {
	addTool(t, s, &sdk.Tool{
		Name: "practice_status",
		Description: "Why a practice fails or is slow: state (rate-limited or circuit open until when, needs-reconnect...), " +
			"advice for the user, latency, limits, last error, refresh token expiry.",
		OutputSchema: schemaFor[statusOut](),
		Annotations:  &sdk.ToolAnnotations{Title: "Practice health", ReadOnlyHint: true, IdempotentHint: true, DestructiveHint: ptr(false), OpenWorldHint: ptr(false)},
	}, t.status)
	addTool(t, s, &sdk.Tool{
		Name:        "disconnect_practice",
		Description: "Disconnects a practice for good: revokes the grant where it can, deletes its tokens. Only when the user asks.",
		Annotations: &sdk.ToolAnnotations{Title: "Disconnect a practice", ReadOnlyHint: false, IdempotentHint: true, DestructiveHint: ptr(true), OpenWorldHint: ptr(true)},
	}, t.disconnect)
}

func (t *tools) status(ctx context.Context, _ *sdk.CallToolRequest, in statusIn) (*sdk.CallToolResult, statusOut, error) {
	id := ""
	if in.Practice != "" {
		a, err := t.reg.Lookup(ctx, in.Practice)
		if err != nil {
			return nil, statusOut{}, explain(err)
		}
		id = a.ID()
	}
	all, err := t.reg.Status(ctx)
	if err != nil {
		return nil, statusOut{}, explain(err)
	}
	out := statusOut{Practices: []healthOut{}}
	for _, p := range all {
		if id == "" || p.ID == id {
			out.Practices = append(out.Practices, toHealthOut(p))
		}
	}
	return nil, out, nil
}

func (t *tools) disconnect(ctx context.Context, _ *sdk.CallToolRequest, in disconnectIn) (*sdk.CallToolResult, disconnectOut, error) {
	d, err := t.reg.Disconnect(ctx, in.Practice)
	if err != nil {
		return nil, disconnectOut{}, explain(err)
	}
	if d.ID == "" {
		return nil, disconnectOut{}, fmt.Errorf("practice: %s was not disconnected", quote.Quote(in.Practice))
	}
	return nil, disconnectOut{Practice: d.Name, PracticeID: d.ID, Revoked: d.Revoked, Revocation: d.Revocation}, nil
}
