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
}

// Authorization is a started launch: the URL to open in a browser and its state.
type Authorization struct {
	URL   string
	State string
}

// Begin discovers the practice's SMART configuration, chooses scopes and returns the URL the
// patient opens to consent.
func (c *Connector) Begin(ctx context.Context, name, fhirBase string) (Authorization, error) {
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
	state, err := c.States.Add(ctx, smart.Pending{
		PracticeName: name, FHIRBase: base, Verifier: pkce.Verifier,
		Config: cfg, Scopes: scopes, Created: c.now(),
	})
	if err != nil {
		return Authorization{}, err
	}
	u, err := smart.AuthorizeURL(cfg, smart.AuthRequest{
		ClientID: c.OAuth.ClientID, RedirectURI: c.OAuth.RedirectURI, State: state,
		CodeChallenge: pkce.Challenge, Aud: base, Scopes: scopes,
	})
	if err != nil {
		return Authorization{}, err
	}
	return Authorization{URL: u, State: state}, nil
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
func (c *Connector) CompleteVia(ctx context.Context, via, input, state string) (vault.Practice, error) {
	code, urlState, err := smart.ParseRedirect(input)
	if err != nil {
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
	p, err := c.States.Take(ctx, state)
	if err != nil {
		return vault.Practice{}, err
	}
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
