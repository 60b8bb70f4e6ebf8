package status

import (
	"fmt"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/advice"
	"github.com/healow-mcp/healow-mcp/practice"
)

// States only the supervisor can tell, besides the actor's own practice.State.
const (
	// StateRestarting: the actor did not answer; it is restarting after a failure.
	StateRestarting practice.State = "restarting"
	// StateStopped: the supervisor no longer runs the actor.
	StateStopped practice.State = "stopped"
)

// Practice is one practice's health as `healow status` and the practice_status tool show it.
// Nothing in it is secret and it holds no patient data: LastError is redacted. Build one with
// [Of].
type Practice struct {
	practice.Health
	// Healthy is true when the practice answers: ready, or refreshing its access token.
	Healthy bool `json:"healthy"`
	// Advice says what to do when it is not healthy.
	Advice string `json:"advice,omitempty"`
	// Warning says what to do soon, healthy or not: a refresh token that expires within
	// practice.RenewWithin.
	Warning string `json:"warning,omitempty"`
}

// Of is the status of the practice whose actor reported h, serving the patient patientID
// ("" when unknown): its last error with the patient's id and the records' URLs taken out,
// whether it answers, and what a person can do when it does not, in the words of how healow
// was installed.
func Of(h practice.Health, patientID string, how advice.Install) Practice {
	h.LastError = redact(h.LastError, h.FHIRBaseURL, patientID)
	p := Practice{Health: h, Healthy: Healthy(h.State), Advice: advise(h, how)}
	if h.State != practice.StateNeedsReconnect { // reconnecting is the advice already
		p.Warning = practice.RefreshWarning(h.Name, h.FHIRBaseURL, h.RefreshTokenExpiry, h.RefreshTokenLeft, how)
	}
	return p
}

// Healthy reports whether a practice in state s answers requests.
func Healthy(s practice.State) bool {
	return s == practice.StateReady || s == practice.StateRefreshing
}

// advise says, in a sentence, what a person can do about a practice in h's state.
func advise(h practice.Health, how advice.Install) string {
	switch h.State {
	case practice.StateHostNotAllowed:
		return "its server is not an allowed host (see the last error): list the host in HEALOW_ALLOWED_HOSTS and start the server again, or " + how.Forget(h.Name)
	case practice.StateNeedsReconnect:
		return "the practice no longer accepts this connection: " + how.Reconnect(h.Name, h.FHIRBaseURL)
	case practice.StateRateLimited:
		if h.RateLimitedBy == practice.LimitedByBudget {
			return fmt.Sprintf("wait: the healow processes on this machine have sent the practice this minute's %d requests (HEALOW_RATE_LIMIT, eCW's limit), so calls wait or fail until %s",
				h.RateLimit, clock(h.RateLimitedUntil))
		}
		return fmt.Sprintf("wait: the practice's rate limit was reached and it refuses requests until %s; if it keeps happening, lower HEALOW_RATE_LIMIT", clock(h.RateLimitedUntil))
	case practice.StateCircuitOpen:
		return fmt.Sprintf("the practice failed %d times in a row, so calls fail fast until %s, when one is let through to probe it; if it persists, its FHIR service is probably down", h.BreakerFailures, clock(h.CircuitOpenUntil))
	case practice.StateDegraded:
		return "renewing the access token failed for a passing reason (see the last error); it is tried again on its own"
	case practice.StateStarting:
		return "getting a first access token; it answers once one arrives"
	case StateRestarting:
		return "the practice's actor is restarting after a failure; if it persists, read the server's log (its stderr)"
	case StateStopped:
		return "this server stopped serving the practice; " + how.Restart() + " if it is still connected"
	}
	return ""
}

func clock(t time.Time) string {
	if t.IsZero() {
		return "soon"
	}
	return t.Local().Format("15:04:05")
}
