package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/advice"
	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/practice/egress"
	"github.com/healow-mcp/healow-mcp/practice/smart"
	"github.com/healow-mcp/healow-mcp/vault"
)

// What healow doctor allows itself per practice, and how far a practice's clock may be from
// this machine's before it is pointed out: token expiry is judged by this machine's clock, and
// a Date header has whole seconds and travels for a while.
const (
	doctorRequestTimeout = 15 * time.Second
	maxClockSkew         = 2 * time.Minute
)

// keychain reads a secret through the same interface the server uses: one of a connected
// practice's, which proves the keychain is reachable and unlocked, or a missing one.
func (d doctor) keychain(stored []vault.Practice) check {
	const name = "keychain"
	// With no practice, an item nobody stores: asking for it still needs the keychain open.
	probe, what := "healow-doctor-probe", "no practice is connected, so it was asked for an item that does not exist"
	if len(stored) > 0 {
		probe, what = stored[0].ID, fmt.Sprintf("read %s's access token", stored[0].Name)
	}
	if _, err := d.secrets.Get(probe, vault.AccessToken); err != nil && !errors.Is(err, vault.ErrSecretNotFound) {
		return check{name, checkFail, "it cannot be read: " + err.Error()}
	}
	return check{name, checkPass, "reachable and unlocked (" + what + ")"}
}

// practiceChecks is what doctor found of the connected practices.
type practiceChecks struct {
	checks     []check
	clock      check
	needSecret []string // practices that do not list client-public
}

// practices checks each connected practice: its smart-configuration reachable, and its
// refresh token held and how long it has left. The first practice that answers with a Date
// header gives the clock check.
func (d doctor) practices(ctx context.Context, stored []vault.Practice, hosts *egress.Policy, clientID string) practiceChecks {
	var out practiceChecks
	dates := &dateRecorder{now: d.now}
	hc := newHTTPClient(d.roots, hosts)
	hc.Transport = dates.wrap(hc.Transport)
	client := &smart.Client{ClientID: clientID, ClientSecret: d.getenv("HEALOW_CLIENT_SECRET")}
	for _, p := range stored {
		name := "practice " + p.Name
		cfg := d.discover(ctx, hc, hosts, p, name, &out.checks)
		if cfg == nil { // the cached one says what it said when last read
			cfg, _ = smart.ParseConfig(p.SMARTConfig)
		}
		if cfg != nil && errors.Is(client.CheckAuth(cfg), smart.ErrSecretRequired) {
			out.needSecret = append(out.needSecret, p.Name)
		}
		out.checks = append(out.checks, d.token(p, name))
	}
	out.clock = dates.check(len(stored))
	return out
}

// discover fetches p's smart-configuration, as a refresh would, and adds the check; nil when it
// could not be read.
func (d doctor) discover(ctx context.Context, hc *http.Client, hosts *egress.Policy, p vault.Practice, name string, checks *[]check) *smart.Config {
	if err := hosts.CheckFHIRBase(p.FHIRBaseURL); err != nil {
		*checks = append(*checks, check{name, checkFail, err.Error()})
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, doctorRequestTimeout)
	defer cancel()
	cfg, err := smart.Discover(ctx, hc, p.FHIRBaseURL)
	if err != nil {
		*checks = append(*checks, check{name, checkFail, "its smart-configuration cannot be read, so its access token cannot be renewed: " + err.Error()})
		return nil
	}
	if err := hosts.CheckAuthServer(cfg.TokenEndpoint); err != nil {
		*checks = append(*checks, check{name, checkFail, err.Error()})
		return cfg
	}
	*checks = append(*checks, check{name, checkPass, "its smart-configuration answers at " + p.FHIRBaseURL})
	return cfg
}

// token looks at p's refresh token: held, and how long eCW's 90 days have left.
func (d doctor) token(p vault.Practice, name string) check {
	name += " token"
	reconnect := fmt.Sprintf("`healow connect --name %q --fhir-base-url %s`, or connect_practice from the chat", p.Name, p.FHIRBaseURL)
	_, err := d.secrets.Get(p.ID, vault.RefreshToken)
	switch {
	case errors.Is(err, vault.ErrSecretNotFound):
		return check{name, checkWarn, fmt.Sprintf("no refresh token is held (the practice granted no offline access; healow is reported to give none to an app "+
			"without a client secret), so it stops answering when its access token expires (%s): connect it again then (%s)",
			p.TokenExpiry.UTC().Format(time.DateTime+" UTC"), reconnect)}
	case err != nil:
		return check{name, checkFail, err.Error()}
	}
	expiry := practice.RefreshExpiry(p)
	if expiry.IsZero() {
		return check{name, checkPass, "holds a refresh token (when it was issued is not known)"}
	}
	now := d.now()
	if w := practice.RefreshWarning(p.Name, p.FHIRBaseURL, expiry, expiry.Sub(now), advice.Command); w != "" {
		status := checkWarn
		if !expiry.After(now) {
			status = checkFail
		}
		return check{name, status, w}
	}
	issued := "today"
	if days := int(now.Sub(p.RefreshIssuedAt) / (24 * time.Hour)); days > 0 {
		issued = fmt.Sprintf("%d days ago", days)
	}
	return check{name, checkPass, fmt.Sprintf("holds a refresh token issued %s; it expires on %s unless a refresh renews it",
		issued, expiry.UTC().Format(time.DateOnly))}
}

// dateRecorder keeps the first Date header a practice answers with, and this machine's time
// when it came.
type dateRecorder struct {
	now  func() time.Time
	mu   sync.Mutex
	host string
	skew time.Duration // the practice's clock minus this machine's
}

func (r *dateRecorder) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(req)
		if err != nil {
			return resp, err
		}
		at := r.now()
		if date, perr := http.ParseTime(resp.Header.Get("Date")); perr == nil {
			r.mu.Lock()
			if r.host == "" {
				r.host, r.skew = req.URL.Host, date.Sub(at.Truncate(time.Second))
			}
			r.mu.Unlock()
		}
		return resp, nil
	})
}

func (r *dateRecorder) check(practices int) check {
	const name = "clock"
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.host == "" && practices == 0:
		return check{name, checkSkip, "no practice is connected to compare this machine's clock with"}
	case r.host == "":
		return check{name, checkSkip, "no practice answered with its time (see above)"}
	}
	off := r.skew.Abs()
	if off <= maxClockSkew {
		return check{name, checkPass, fmt.Sprintf("this machine's clock is within %s of %s's", max(off, time.Second), r.host)}
	}
	way := "behind"
	if r.skew < 0 {
		way = "ahead of"
	}
	return check{name, checkWarn, fmt.Sprintf("this machine's clock is %s %s %s's: tokens are judged expired by it; turn on setting the time automatically",
		off.Round(time.Second), way, r.host)}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
