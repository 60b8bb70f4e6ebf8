package practice

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/practice/smart"
	"github.com/healow-mcp/healow-mcp/vault"
)

// launch is one started authorization and what the patient's browser came back with.
type launch struct {
	auth     Authorization
	redirect string
}

func (w *world) connector(t testing.TB, clock actor.Clock) *Connector {
	return &Connector{Store: w.store, Secrets: w.secrets, OAuth: w.opts.OAuth, States: states(t, actor.OrReal(clock))}
}

func (w *world) launch(t *testing.T, c *Connector, p sandbox.Practice) launch {
	t.Helper()
	auth, err := c.Begin(context.Background(), p.Name, p.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	redirect, err := w.sb.Consent(context.Background(), auth.URL)
	if err != nil {
		t.Fatal(err)
	}
	return launch{auth, redirect}
}

func withState(redirect, state string) string {
	u, _ := url.Parse(redirect)
	q := u.Query()
	q.Set("state", state)
	u.RawQuery = q.Encode()
	return u.String()
}

func codeOf(redirect string) string {
	u, _ := url.Parse(redirect)
	return u.Query().Get("code")
}

// A redirect is good once: completing it again is refused before any token request.
func TestCompletedStateCannotBeReplayed(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sandbox.Options{})
	c := w.connector(t, nil)
	l := w.launch(t, c, w.sb.Practices()[0])
	ctx := context.Background()
	if _, err := c.Complete(ctx, l.redirect, ""); err != nil {
		t.Fatal(err)
	}
	grants := w.sb.Stats().AuthCodeGrants
	for _, try := range []struct{ input, state string }{{l.redirect, ""}, {codeOf(l.redirect), l.auth.State}, {l.redirect, l.auth.State}} {
		if _, err := c.Complete(ctx, try.input, try.state); !errors.Is(err, smart.ErrStateUnknown) {
			t.Fatalf("replay: err = %v, want ErrStateUnknown", err)
		}
	}
	if n := w.sb.Stats().AuthCodeGrants - grants; n != 0 {
		t.Fatalf("a replayed redirect sent %d token requests", n)
	}
}

// A state nobody issued, or one a character away from an issued one, is refused before the code
// goes anywhere; the real one still completes afterwards.
func TestGuessedStateIsRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sandbox.Options{})
	c := w.connector(t, nil)
	l := w.launch(t, c, w.sb.Practices()[0])
	s := l.auth.State
	flipped := "A" + s[1:]
	if s[0] == 'A' {
		flipped = "B" + s[1:]
	}
	ctx := context.Background()
	for _, guess := range []string{flipped, s[:len(s)-1], s + "A", strings.ToUpper(s), "state", "%00"} {
		if _, err := c.Complete(ctx, withState(l.redirect, guess), ""); !errors.Is(err, smart.ErrStateUnknown) {
			t.Fatalf("state %q: err = %v, want ErrStateUnknown", guess, err)
		}
	}
	if n := w.sb.Stats().AuthCodeGrants; n != 0 {
		t.Fatalf("guessed states sent %d token requests", n)
	}
	if _, err := c.Complete(ctx, l.redirect, ""); err != nil {
		t.Fatalf("the issued state no longer completes: %v", err)
	}
}

// A state is bound to the practice it was made for: a redirect that carries one practice's state
// cannot finish another's, and a code brought to another practice's state fails at the token
// endpoint (its PKCE verifier belongs to the other launch) and stores nothing.
func TestStateCannotFinishAnotherPractice(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sandbox.Options{})
	c := w.connector(t, nil)
	ps := w.sb.Practices()
	a, b := w.launch(t, c, ps[0]), w.launch(t, c, ps[1])
	ctx := context.Background()
	if _, err := c.Complete(ctx, a.redirect, b.auth.State); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("A's redirect with B's state: err = %v", err)
	}
	if n := w.sb.Stats().AuthCodeGrants; n != 0 {
		t.Fatalf("a mismatched state sent %d token requests", n)
	}
	if _, err := c.Complete(ctx, codeOf(a.redirect), b.auth.State); !errors.Is(err, smart.ErrInvalidGrant) {
		t.Fatalf("A's code on B's state: err = %v, want invalid_grant", err)
	}
	for _, p := range ps[:2] {
		if got, err := w.store.GetByName(ctx, p.Name); !errors.Is(err, vault.ErrNotFound) {
			t.Fatalf("%s was stored from a mixed-up launch: %+v", p.Name, got)
		}
	}
	// The failed try spent B's state: a state is never good twice, even after a failure.
	if got, err := c.Complete(ctx, b.redirect, ""); !errors.Is(err, smart.ErrStateUnknown) {
		t.Fatalf("B's state still completes: %+v, %v", got, err)
	}
}

// A code that arrives after its state expired is refused, before the code goes anywhere.
func TestCodeAfterTheStateExpiredIsRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sandbox.Options{})
	clock := newClock()
	c := w.connector(t, clock)
	ps := w.sb.Practices()
	late, inTime := w.launch(t, c, ps[0]), w.launch(t, c, ps[1])
	clock.Advance(smart.StateTTL - time.Second)
	if _, err := c.Complete(context.Background(), inTime.redirect, ""); err != nil {
		t.Fatalf("a code a second before expiry: %v", err)
	}
	grants := w.sb.Stats().AuthCodeGrants
	clock.Advance(time.Second)
	_, err := c.Complete(context.Background(), late.redirect, "")
	if !errors.Is(err, smart.ErrStateExpired) || !strings.Contains(err.Error(), "start the connection again") {
		t.Fatalf("err = %v, want ErrStateExpired", err)
	}
	if n := w.sb.Stats().AuthCodeGrants - grants; n != 0 {
		t.Fatalf("an expired state sent %d token requests", n)
	}
}
