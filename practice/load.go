package practice

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/healow-mcp/healow-mcp/practice/smart"
	"github.com/healow-mcp/healow-mcp/vault"
)

// loadPractice reads a practice's metadata from the store and its access token from the
// keychain. A missing access token is not an error: a refresh will get one.
func loadPractice(ctx context.Context, o Options, id string) (vault.Practice, string, error) {
	meta, err := o.Store.Get(ctx, id)
	if err != nil {
		return vault.Practice{}, "", err
	}
	access, err := o.Secrets.Get(id, vault.AccessToken)
	if err != nil && !errors.Is(err, vault.ErrSecretNotFound) {
		return meta, "", fmt.Errorf("reading the access token of %q: %w", meta.Name, err)
	}
	return meta, access, nil
}

// load is the top of Serve: the actor's state is rebuilt from what is stored. A keychain that
// cannot be read does not stop the actor: it answers with that error and tries again later.
func (r *run) load(ctx context.Context) error {
	meta, access, err := loadPractice(ctx, r.a.opts, r.a.id)
	if err != nil && meta.ID == "" {
		return err
	}
	if err != nil {
		r.refreshErr = err
		r.noteError(err)
		r.log.Warn("keychain unavailable; will try again", "err", err)
	}
	r.setMeta(meta)
	r.access, r.expiry, r.obtained = access, meta.TokenExpiry, meta.LastRefresh
	if access == "" {
		r.expiry = time.Time{}
	}
	r.tokenGen++
	r.log.Info("practice loaded", "name", meta.Name, "token_expiry", r.expiry)
	return nil
}

// setMeta takes new metadata, its cached SMART configuration included when still fresh.
func (r *run) setMeta(meta vault.Practice) {
	if meta.PatientID != r.meta.PatientID {
		r.attachments, r.links = nil, nil // another patient's documents and pages must not open this one's
	}
	r.meta = meta
	r.fhir = withBasePolicy(r.a.opts.HTTP, meta.FHIRBaseURL)
	r.rate.rebase(meta.FHIRBaseURL)
	r.checkHosts()
	r.cfg = nil
	if len(meta.SMARTConfig) > 0 && r.now().Sub(meta.SMARTFetchedAt) < r.a.opts.ConfigMaxAge {
		if cfg, err := smart.ParseConfig(meta.SMARTConfig); err == nil {
			r.cfg = cfg
		}
	}
}

// adopt applies a reload. Tokens are taken when they are newer than the actor's own (another
// process refreshed) or when the actor had lost its grant (the practice was reconnected).
func (r *run) adopt(meta vault.Practice, access string, err error) {
	if err != nil {
		r.log.Warn("reload failed", "err", err)
		r.noteError(err)
		return
	}
	newer := meta.TokenExpiry.After(r.expiry)
	r.setMeta(meta)
	switch {
	case access == "":
	case access != r.access && (newer || r.reconnect != nil):
		r.access, r.expiry, r.obtained = access, meta.TokenExpiry, meta.LastRefresh
		r.tokenGen++
		r.reconnect = nil
		r.log.Info("took tokens stored by another process", "token_expiry", r.expiry)
		r.schedule()
	case access == r.access && newer:
		// The token held is the one the row now describes: it was read from the keychain
		// between another process's two writes of a new grant (the tokens, then the row), and
		// paired with the row before it. Its expiry and its grant are the row's.
		r.expiry, r.obtained = meta.TokenExpiry, meta.LastRefresh
		r.reconnect = nil
		r.log.Info("took the expiry stored with the token held", "token_expiry", r.expiry)
		r.schedule()
	}
}
