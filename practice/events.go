package practice

import "time"

// Event is a change in a practice as its actor publishes it on Options.Events: a new state
// (refreshing, degraded, circuit-open, needs-reconnect...) or a renewed access token; or, as the
// registry publishes it, that the practice is no longer served. Nothing in it is secret. An MCP
// session may forward it as a notification; tests wait on it instead of polling.
type Event struct {
	Practice  string `json:"practice"` // the practice id
	Name      string `json:"name"`
	State     State  `json:"state"`
	From      State  `json:"from,omitempty"`      // the state before, when it changed
	Refreshed bool   `json:"refreshed,omitempty"` // a new access token arrived
	// Removed: the practice was disconnected (or its row removed by another process) and its
	// actor stopped; whoever keeps anything of its record drops it now.
	Removed bool      `json:"removed,omitempty"`
	At      time.Time `json:"at"`
}

// publish tells subscribers when the state has changed since it last did. The loop calls it
// after every message, result and timer.
func (r *run) publish() {
	s := r.currentState()
	if s == r.published {
		return
	}
	from := r.published
	r.published = s
	r.a.opts.Events.Publish(Event{Practice: r.a.id, Name: r.meta.Name, State: s, From: from, At: r.now()})
}

// publishRefreshed tells subscribers a new access token arrived.
func (r *run) publishRefreshed() {
	r.published = r.currentState()
	r.a.opts.Events.Publish(Event{Practice: r.a.id, Name: r.meta.Name, State: r.published, Refreshed: true, At: r.now()})
}
