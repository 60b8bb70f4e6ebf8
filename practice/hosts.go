package practice

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/healow-mcp/healow-mcp/practice/egress"
	"github.com/healow-mcp/healow-mcp/practice/smart"
	"github.com/healow-mcp/healow-mcp/vault"
)

// hosts is the policy that decides where this process sends tokens and the client secret. It
// belongs to the registered client, so the connector, the actors and the token requests can
// never disagree; a nil client or policy allows eClinicalWorks' servers only.
func hosts(c *smart.Client) *egress.Policy {
	if c == nil {
		return nil
	}
	return c.Hosts
}

// checkHosts refuses a practice whose FHIR base, or whose token endpoint when cfg is known, the
// policy does not allow. Begin checks before any request and again after discovery; Complete
// checks once more before the code and the client secret go anywhere.
func (c *Connector) checkHosts(base string, cfg *smart.Config) error {
	p := hosts(c.OAuth)
	if err := p.CheckFHIRBase(base); err != nil {
		return fmt.Errorf("fhir_base_url: %w", err)
	}
	if cfg == nil {
		return nil
	}
	if err := p.CheckAuthServer(cfg.TokenEndpoint); err != nil {
		return fmt.Errorf("the practice's SMART configuration sends sign-ins to %s: %w", cfg.TokenEndpoint, err)
	}
	return nil
}

// checkHosts decides, when the actor takes new metadata, whether the practice may be served at
// all: a practice stored while its host was allowed (HEALOW_ALLOWED_HOSTS has shrunk since) gets
// no request with its token, and no refresh. It also notes the token endpoint's host, for status.
func (r *run) checkHosts() {
	r.refused, r.tokenHost = nil, TokenHost(r.meta)
	if err := hosts(r.a.opts.OAuth).CheckFHIRBase(r.meta.FHIRBaseURL); err != nil {
		r.refuse(err)
	}
}

// TokenHost is the host (with its port, if any) of the token endpoint that p's stored SMART
// configuration names: where its sign-ins and refreshes go. "" when none is stored.
func TokenHost(p vault.Practice) string {
	cfg, err := smart.ParseConfig(p.SMARTConfig)
	if err != nil {
		return ""
	}
	u, err := url.Parse(cfg.TokenEndpoint)
	if err != nil {
		return ""
	}
	return u.Host
}

// refuse stops serving the practice for a reason only the user can change (a host the policy
// does not allow): every request is answered with it at once, and nothing is retried, so the
// actor neither spins nor restarts.
func (r *run) refuse(err error) {
	r.refused = fmt.Errorf("%q (%s) is not served: %w. Otherwise %s",
		r.meta.Name, r.meta.ID, err, r.a.opts.Install.Forget(r.meta.Name))
	r.noteError(r.refused)
	r.log.Warn("not serving the practice: its host is not allowed", "err", err)
	r.armTimer(-1)
}

// refusedBy handles a refresh that the policy refused (the token endpoint's host is not
// allowed): the practice is refused as a whole and the callers waiting for the refresh are told
// why. It reports whether err was such a refusal.
func (r *run) refusedBy(err error, waiting []*fetchMsg) bool {
	if !errors.Is(err, egress.ErrNotAllowed) {
		return false
	}
	r.refuse(err)
	for _, m := range waiting {
		m.reply.Send(fetchReply{err: r.refused})
	}
	return true
}
