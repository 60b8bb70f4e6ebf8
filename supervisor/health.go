package supervisor

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/practice"
)

// States only the supervisor can tell, besides the actor's own practice.State.
const (
	// StateRestarting: the actor did not answer; it is restarting after a failure.
	StateRestarting practice.State = "restarting"
	// StateStopped: the supervisor no longer runs the actor.
	StateStopped practice.State = "stopped"
)

// PracticeStatus is one practice's health as `healow status` and the practice_status tool show
// it. Nothing in it is secret and it holds no patient data: LastError is redacted.
type PracticeStatus struct {
	practice.Health
	// Healthy is true when the practice answers: ready, or refreshing its access token.
	Healthy bool `json:"healthy"`
	// Advice says what to do when it is not healthy.
	Advice string `json:"advice,omitempty"`
}

// Healthy reports whether a practice in state s answers requests.
func Healthy(s practice.State) bool {
	return s == practice.StateReady || s == practice.StateRefreshing
}

// Status collects every practice's health at once, ordered by name, each with what to do when it
// is not healthy. An actor that does not answer before ctx ends (at most two seconds) is reported
// as restarting, and one the supervisor no longer runs as stopped.
func (r *Registry) Status(ctx context.Context) ([]PracticeStatus, error) {
	m := &namesMsg{reply: actor.NewReply[map[string]string]()}
	names, err := actor.Ask(ctx, r.box, regMsg(m), m.reply)
	if err != nil {
		return nil, err
	}
	running := r.running(ctx)
	return fanOut(ctx, r, func(ctx context.Context, a *practice.Actor) (PracticeStatus, error) {
		h, err := a.Health(ctx)
		patient := ""
		if err == nil {
			if i, err := a.Info(ctx); err == nil {
				patient = i.PatientID
			}
		} else {
			h = practice.Health{ID: a.ID(), Name: names[a.ID()], State: StateRestarting, LastError: err.Error()}
		}
		if running != nil && !running[a.ID()] {
			h.State = StateStopped
		}
		h.LastError = redact(h.LastError, h.FHIRBaseURL, patient)
		return PracticeStatus{Health: h, Healthy: Healthy(h.State), Advice: advise(h)}, nil
	})
}

// running lists the practice actors the supervisor runs, or nil if it cannot tell in time.
func (r *Registry) running(ctx context.Context) map[string]bool {
	got := make(chan map[string]bool, 1)
	go func() { // Services waits for the supervisor's loop, which has no deadline of its own
		ids := map[string]bool{}
		for _, s := range r.practices.Services() {
			if a, ok := s.(*practice.Actor); ok {
				ids[a.ID()] = true
			}
		}
		got <- ids
	}()
	select {
	case ids := <-got:
		return ids
	case <-ctx.Done():
		return nil
	}
}

// advise says, in a sentence, what a person can do about a practice in h's state.
func advise(h practice.Health) string {
	switch h.State {
	case practice.StateHostNotAllowed:
		return fmt.Sprintf("its server is not an allowed host (see the last error): list the host in HEALOW_ALLOWED_HOSTS and start the server again, or forget the practice with `healow disconnect %q`", h.Name)
	case practice.StateNeedsReconnect:
		return fmt.Sprintf("the practice no longer accepts this connection: run `healow connect --name %q --fhir-base-url %s` again", h.Name, h.FHIRBaseURL)
	case practice.StateRateLimited:
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
		return "this server stopped serving the practice; restart the MCP client (or healow serve) if it is still connected"
	}
	return ""
}

func clock(t time.Time) string {
	if t.IsZero() {
		return "soon"
	}
	return t.Local().Format("15:04:05")
}

// A URL in an error, without the punctuation that may follow it in a sentence.
var urlPattern = regexp.MustCompile("https?://[^\\s\"'<>`]+")

// redact keeps patient data out of an error meant for status output: a URL inside the practice's
// FHIR base becomes the base and "/…" (its path names records), any other URL loses its query,
// and the patient's id is replaced wherever it stands alone.
func redact(msg, base, patientID string) string {
	base = strings.TrimRight(base, "/")
	msg = urlPattern.ReplaceAllStringFunc(msg, func(u string) string {
		trimmed := strings.TrimRight(u, ".,;:)]")
		tail := u[len(trimmed):]
		switch {
		case base != "" && trimmed == base:
		case base != "" && strings.HasPrefix(trimmed, base):
			trimmed = base + "/…"
		default:
			if i := strings.IndexAny(trimmed, "?#"); i >= 0 {
				trimmed = trimmed[:i]
			}
		}
		return trimmed + tail
	})
	if patientID != "" {
		re := regexp.MustCompile(`(^|[^\w-])` + regexp.QuoteMeta(patientID) + `($|[^\w-])`)
		for re.MatchString(msg) { // overlapping matches, such as "id id", need a second pass
			msg = re.ReplaceAllString(msg, "${1}<patient>${2}")
		}
	}
	return msg
}
