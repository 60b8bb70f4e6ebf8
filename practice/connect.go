package practice

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/healow-mcp/healow-mcp/practice/fhir"
	"github.com/healow-mcp/healow-mcp/practice/smart"
	"github.com/healow-mcp/healow-mcp/vault"
)

// Connector runs SMART standalone launch for a new or returning practice: Begin makes the
// authorize URL, Complete trades the code for tokens and stores them. Pending authorizations
// live in memory, in the process that began them.
type Connector struct {
	Store   *vault.Store
	Secrets vault.Secrets
	OAuth   *smart.Client
	States  *smart.States
	Now     func() time.Time
	// Listen, when set, is where the browser's redirect reaches this machine: each sign-in
	// listens there for its code and completes itself. It is the registered redirect URI when
	// that is a loopback one, or the port the forwarding page sends it to (HEALOW_CALLBACK_PORT);
	// either way the token request names the registered redirect URI (OAuth.RedirectURI).
	Listen *smart.Loopback
}

// Authorization is a started launch: the URL to open in a browser and its state.
type Authorization struct {
	URL   string
	State string
	// Listening: healow listens for the redirect and completes the sign-in itself, so nothing
	// needs to be pasted.
	Listening bool
	// Replaced names the practice whose sign-in waited on the same port and was dropped for this one.
	Replaced string
}

// Begin starts a launch for `healow connect`; see BeginVia.
func (c *Connector) Begin(ctx context.Context, name, fhirBase string) (Authorization, error) {
	return c.BeginVia(ctx, vault.ViaCLI, name, fhirBase, nil)
}

// BeginVia discovers the practice's SMART configuration, chooses scopes and returns the URL the
// patient opens to consent. When the connector listens for the redirect (Listen), it does so
// before returning, and the code that arrives there is completed as via (see CompleteVia), then
// connected, when not nil, is told of the practice.
func (c *Connector) BeginVia(ctx context.Context, via, name, fhirBase string, connected func(context.Context, vault.Practice)) (Authorization, error) {
	name = strings.TrimSpace(name)
	if err := checkName(name); err != nil {
		return Authorization{}, err
	}
	base, err := smart.NormalizeBase(fhirBase)
	if err != nil {
		return Authorization{}, fmt.Errorf("fhir_base_url: %w", err)
	}
	if err := c.checkHosts(base, nil); err != nil {
		return Authorization{}, err
	}
	if old, err := c.Store.GetByName(ctx, name); err == nil && old.FHIRBaseURL != base {
		return Authorization{}, fmt.Errorf("name: %q is already connected to %s; choose another name for %s", name, old.FHIRBaseURL, base)
	} else if err != nil && !errors.Is(err, vault.ErrNotFound) {
		return Authorization{}, err
	}
	cfg, err := smart.Discover(ctx, c.OAuth.HTTP, base)
	if err != nil {
		return Authorization{}, err
	}
	if err := c.checkHosts(base, cfg); err != nil {
		return Authorization{}, err // before the user signs in for a connection that cannot finish
	}
	if err := c.OAuth.CheckAuth(cfg); err != nil {
		return Authorization{}, fmt.Errorf("%s: %w", base, err) // likewise: no secret, and the practice wants one
	}
	pkce, err := smart.NewPKCE()
	if err != nil {
		return Authorization{}, err
	}
	scopes := smart.Scopes(cfg)
	pending := smart.Pending{
		PracticeName: name, FHIRBase: base, Verifier: pkce.Verifier,
		Config: cfg, Scopes: scopes, Created: c.now(),
	}
	var state, replaced string
	if c.Listen != nil {
		finish := func(ctx context.Context, redirect, state string) smart.Outcome {
			p, err := c.CompleteVia(ctx, via, redirect, state)
			if err != nil {
				return smart.Outcome{Practice: name, Err: err}
			}
			if connected != nil {
				connected(ctx, p)
			}
			return smart.Outcome{Practice: p.Name, PracticeID: p.ID, PatientID: p.PatientID}
		}
		state, replaced, err = c.States.AddListening(ctx, pending, *c.Listen, finish)
	} else {
		state, err = c.States.Add(ctx, pending)
	}
	if err != nil {
		return Authorization{}, err
	}
	u, err := smart.AuthorizeURL(cfg, smart.AuthRequest{
		ClientID: c.OAuth.ClientID, RedirectURI: c.OAuth.RedirectURI, State: state,
		CodeChallenge: pkce.Challenge, Aud: base, Scopes: scopes,
	})
	if err != nil {
		c.States.Cancel(context.WithoutCancel(ctx), state) // its listener must not outlive it
		return Authorization{}, err
	}
	return Authorization{URL: u, State: state, Listening: c.Listen != nil, Replaced: replaced}, nil
}

// Complete finishes a launch for `healow connect`; see CompleteVia.
func (c *Connector) Complete(ctx context.Context, input, state string) (vault.Practice, error) {
	return c.CompleteVia(ctx, vault.ViaCLI, input, state)
}

// CompleteVia takes what the browser came back with, a bare code or the whole redirect URL, and
// the state of the authorization it answers (optional when the URL carries it). It stores the
// tokens in the keychain, then the metadata, recording that the practice was connected via
// (vault.ViaMCP or vault.ViaCLI), and returns the stored practice. A name that was connected
// before keeps its id.
//
// However it ends once the sign-in is taken, the sign-ins actor hears how (smart.States.Finish),
// for whoever waits on it.
func (c *Connector) CompleteVia(ctx context.Context, via, input, state string) (p vault.Practice, err error) {
	code, urlState, err := smart.ParseRedirect(input)
	var refused *smart.Error // the practice answered with an error: the sign-in is over
	if err != nil && (!errors.As(err, &refused) || urlState == "" && state == "") {
		return vault.Practice{}, err
	}
	switch {
	case urlState != "" && state != "" && urlState != state:
		return vault.Practice{}, errors.New("state: the redirect URL's state does not match the given state; use the URL of this authorization")
	case urlState != "":
		state = urlState
	case state == "":
		return vault.Practice{}, errors.New("state: give the state returned by connect_practice, or paste the whole redirect URL")
	}
	pending, err := c.States.Take(ctx, state)
	if err != nil {
		return vault.Practice{}, err
	}
	defer func() {
		o := smart.Outcome{Practice: pending.PracticeName, PracticeID: p.ID, PatientID: p.PatientID, Err: err}
		c.States.Finish(context.WithoutCancel(ctx), state, o)
	}()
	if refused != nil {
		return vault.Practice{}, refused
	}
	return c.complete(ctx, via, code, pending)
}

// complete trades the code of a taken sign-in for tokens and stores them.
func (c *Connector) complete(ctx context.Context, via, code string, p smart.Pending) (vault.Practice, error) {
	if err := c.checkHosts(p.FHIRBase, p.Config); err != nil {
		return vault.Practice{}, err
	}
	tok, err := c.OAuth.Exchange(ctx, p.Config, code, p.Verifier)
	if err != nil {
		return vault.Practice{}, err
	}
	if tok.PatientID == "" {
		return vault.Practice{}, errors.New("the practice did not say which patient was authorized (no patient in the token response and no fhirUser in the id_token); sign in as the patient and try again")
	}
	granted := tok.Scopes
	if len(granted) == 0 {
		granted = p.Scopes // RFC 6749 §5.1: scope omitted means as requested
	}
	if !readsPatientData(granted) {
		return vault.Practice{}, noDataGranted(p.PracticeName, p.Scopes, granted)
	}
	meta := vault.Practice{ID: vault.NewID(), Name: p.PracticeName, FHIRBaseURL: p.FHIRBase}
	fresh := true
	if old, err := c.Store.GetByName(ctx, p.PracticeName); err == nil {
		meta, fresh = old, false
	} else if !errors.Is(err, vault.ErrNotFound) {
		return vault.Practice{}, err
	}
	meta.ConnectedVia = via
	if err := c.storeSecrets(meta.ID, tok); err != nil {
		return vault.Practice{}, err
	}
	now := c.now()
	meta.PatientID, meta.Scopes, meta.TokenExpiry, meta.LastRefresh = tok.PatientID, granted, tok.Expiry, now
	meta.SMARTConfig, meta.SMARTFetchedAt = p.Config.Raw, now
	meta.RefreshIssuedAt = time.Time{}
	if tok.RefreshToken != "" {
		meta.RefreshIssuedAt = now
	}
	if err := c.Store.Save(ctx, meta); err != nil {
		if fresh {
			c.forget(meta.ID)
		}
		return vault.Practice{}, err
	}
	return c.Store.Get(ctx, meta.ID)
}

// readsPatientData reports whether granted scopes read any type that holds patient data.
func readsPatientData(granted []string) bool {
	for _, r := range smart.Readable(granted) {
		if r == "*" || fhir.IsResourceType(r) && fhir.HoldsPatientData(r) {
			return true
		}
	}
	return false
}

func noDataGranted(name string, asked, granted []string) error {
	got := strings.Join(granted, " ")
	if got == "" {
		got = "none"
	}
	return fmt.Errorf("%q: %w, so nothing was stored and it is not connected. Asked for: %s. Granted: %s. "+
		"Connect again and allow access to your records when signing in; if the sign-in page offered none, "+
		"the practice has not enabled this app for patients' records: ask the practice to",
		name, ErrNoDataGranted, strings.Join(asked, " "), got)
}

func (c *Connector) storeSecrets(id string, tok *smart.Token) error {
	if tok.RefreshToken != "" {
		if err := c.Secrets.Set(id, vault.RefreshToken, tok.RefreshToken); err != nil {
			return fmt.Errorf("storing the refresh token: %w", err)
		}
	} else if err := c.Secrets.Delete(id, vault.RefreshToken); err != nil {
		return err // an old grant's refresh token must not outlive it
	}
	if err := c.Secrets.Set(id, vault.AccessToken, tok.AccessToken); err != nil {
		return fmt.Errorf("storing the access token: %w", err)
	}
	return nil
}

func (c *Connector) forget(id string) {
	_ = c.Secrets.Delete(id, vault.AccessToken)
	_ = c.Secrets.Delete(id, vault.RefreshToken)
}

func (c *Connector) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func checkName(name string) error {
	if name == "" {
		return errors.New("name: give the practice a name, for example \"Sunrise Family Medicine\"")
	}
	if len(name) > 80 {
		return errors.New("name: at most 80 characters")
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return errors.New("name: only printable characters")
		}
	}
	return nil
}
