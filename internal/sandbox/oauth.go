package sandbox

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// handleAuthorize plays eCW's authorize endpoint and the patient at once:
// it validates the request and, unless a fault says otherwise, consents
// straight away with a 302 to the redirect URI carrying code and state.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "invalid_request: malformed query", http.StatusBadRequest)
		return
	}
	q := r.Form
	// Until client and redirect URI are known good, errors go to the user
	// agent, never to the redirect URI: that is what stops an attacker from
	// using the server as an open redirector.
	if q.Get("client_id") != s.client.ID {
		http.Error(w, "invalid_client: unknown client_id", http.StatusBadRequest)
		return
	}
	redirectURI := q.Get("redirect_uri")
	if !s.client.registered(redirectURI) {
		http.Error(w, "invalid_request: redirect_uri is not registered for this client", http.StatusBadRequest)
		return
	}
	state := q.Get("state")
	fail := func(code, desc string) {
		redirectTo(w, redirectURI, url.Values{"error": {code}, "error_description": {desc}}, state)
	}

	if q.Get("response_type") != "code" {
		fail("unsupported_response_type", "response_type must be code")
		return
	}
	if state == "" {
		fail("invalid_request", "state is required")
		return
	}
	if q.Get("code_challenge_method") != "S256" {
		fail("invalid_request", "PKCE with code_challenge_method=S256 is required")
		return
	}
	challenge := q.Get("code_challenge")
	if b, err := base64.RawURLEncoding.DecodeString(challenge); err != nil || len(b) != 32 {
		fail("invalid_request", "code_challenge must be a base64url SHA-256 digest")
		return
	}
	p := s.practiceForAud(q.Get("aud"))
	if p == nil {
		fail("invalid_request", "aud must be the FHIR base URL of a practice")
		return
	}
	scopes := strings.Fields(q.Get("scope"))
	if len(scopes) == 0 {
		fail("invalid_scope", "scope is required")
		return
	}
	for _, sc := range scopes {
		if !scopeSupported(sc) {
			fail("invalid_scope", "scope not supported by this practice: "+sc)
			return
		}
	}
	if s.faultsFor(p).DenyConsent {
		fail("access_denied", "the patient denied access")
		return
	}

	code := s.issueCode(&authCode{
		clientID:    s.client.ID,
		redirectURI: redirectURI,
		challenge:   challenge,
		nonce:       q.Get("nonce"),
		practice:    p,
		scopes:      scopes,
	})
	redirectTo(w, redirectURI, url.Values{"code": {code}}, state)
}

// practiceForAud finds the practice whose base is aud. A trailing slash is
// forgiven; anything else must match exactly, as eCW checks aud.
func (s *Server) practiceForAud(aud string) *practice {
	aud = strings.TrimSuffix(aud, "/")
	for _, p := range s.practices {
		if aud == s.baseURL(p) {
			return p
		}
	}
	return nil
}

// redirectTo answers 302 to redirectURI with params (and state, when
// there is one) added to whatever query it already has.
func redirectTo(w http.ResponseWriter, redirectURI string, params url.Values, state string) {
	u, err := url.Parse(redirectURI)
	if err != nil { // registered URIs parse; this guards a bad HEALOW_REDIRECT_URI
		http.Error(w, "server_error: registered redirect_uri does not parse", http.StatusInternalServerError)
		return
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if state != "" {
		q.Set("state", state)
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Location", u.String())
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

// handleToken is the token endpoint shared by every practice.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "malformed form body")
		return
	}
	form := r.PostForm
	grantType := form.Get("grant_type")
	s.mu.Lock()
	switch grantType {
	case "authorization_code":
		s.stats.AuthCodeGrants++
	case "refresh_token":
		s.stats.RefreshGrants++
	}
	s.mu.Unlock()

	// A confidential symmetric client authenticates with HTTP Basic, as at
	// eCW; credentials in the body alone are refused. A request with no
	// Authorization header at all is a public client (client-public), which
	// names itself in the body and is accepted only by a practice that
	// advertises client-public (checked once the practice is known).
	public := r.Header.Get("Authorization") == ""
	if public {
		if form.Get("client_secret") != "" {
			refuseClient(w, "client_secret in the body is not accepted: use HTTP Basic")
			return
		}
		if form.Get("client_id") != s.client.ID {
			refuseClient(w, "a public client must send its registered client_id")
			return
		}
		s.mu.Lock()
		s.stats.PublicClientRequests++
		s.mu.Unlock()
	} else {
		id, secret, ok := r.BasicAuth()
		if !ok || !s.client.authenticates(id, secret) {
			w.Header().Set("WWW-Authenticate", `Basic realm="healow sandbox"`)
			writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication with HTTP Basic failed")
			return
		}
		if cid := form.Get("client_id"); cid != "" && cid != s.client.ID {
			writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client_id does not match the authenticated client")
			return
		}
	}

	switch grantType {
	case "authorization_code":
		s.grantAuthCode(w, form, public)
	case "refresh_token":
		s.grantRefresh(w, form, public)
	case "":
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "grant_type is required")
	default:
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type not supported: "+grantType)
	}
}

func (s *Server) grantAuthCode(w http.ResponseWriter, form url.Values, public bool) {
	now := s.now()
	code := form.Get("code")
	if s.tokenOverLimit(w, func() *practice {
		if c := s.codes[code]; c != nil {
			return c.practice
		}
		return nil
	}) {
		return
	}
	s.mu.Lock()
	c := s.codes[code]
	delete(s.codes, code) // single use, whatever happens next
	var f Faults
	if c != nil {
		f = s.faults[c.practice.code]
	}
	s.mu.Unlock()

	if c == nil || !now.Before(c.expires) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "authorization code is unknown, already used or expired")
		return
	}
	if public && f.ConfidentialOnly {
		refuseClient(w, publicRefused)
		return
	}
	if tokenFault(w, f) {
		return
	}
	if c.clientID != s.client.ID {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "authorization code was issued to another client")
		return
	}
	if form.Get("redirect_uri") != c.redirectURI {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match the authorization request")
		return
	}
	if !pkceMatches(form.Get("code_verifier"), c.challenge) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match code_challenge")
		return
	}
	writeTokens(w, s.issue(c.practice, s.client.ID, c.scopes, c.scopes, c.nonce, f))
}

// grantRefresh rotates a refresh token: the presented one dies and a new
// one comes back, as eCW is reported to do.
func (s *Server) grantRefresh(w http.ResponseWriter, form url.Values, public bool) {
	now := s.now()
	// Checked before the token is claimed: a 429 must not burn a single-use refresh token.
	if s.tokenOverLimit(w, func() *practice {
		if rt := s.refresh[form.Get("refresh_token")]; rt != nil {
			return rt.practice
		}
		return nil
	}) {
		return
	}
	s.mu.Lock()
	rt := s.refresh[form.Get("refresh_token")]
	var f Faults
	problem, clientRefused := "", false
	switch {
	case rt == nil || !now.Before(rt.expires):
		problem = "refresh token is unknown or expired"
	case public && s.faults[rt.practice.code].ConfidentialOnly:
		// Refused before the token is claimed, as eCW would refuse the client outright.
		problem, clientRefused = publicRefused, true
	case rt.used:
		s.stats.RefreshReuse++
		problem = "refresh token was already used; refresh tokens are single-use"
	default:
		f = s.faults[rt.practice.code]
		if f.RevokeRefresh {
			delete(s.refresh, form.Get("refresh_token"))
			problem = "refresh token was revoked by the practice"
		} else if !f.NotActivated && !f.DenyConsent {
			rt.used = true // claimed under the lock, so two racing refreshes cannot both win
		}
	}
	s.mu.Unlock()

	if clientRefused {
		refuseClient(w, problem)
		return
	}
	if problem != "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", problem)
		return
	}
	if tokenFault(w, f) {
		return
	}
	scopes := rt.scopes
	if requested := strings.Fields(form.Get("scope")); len(requested) > 0 {
		for _, sc := range requested {
			if !slices.Contains(rt.scopes, sc) {
				writeOAuthError(w, http.StatusBadRequest, "invalid_scope", "scope was not granted originally: "+sc)
				return
			}
		}
		scopes = requested
	}
	writeTokens(w, s.issue(rt.practice, rt.clientID, scopes, rt.scopes, "", f))
}

// publicRefused is the answer of a practice that does not advertise client-public to a token
// request without client authentication.
const publicRefused = "this practice does not accept public clients: authenticate with HTTP Basic"

// refuseClient answers invalid_client with the Basic challenge RFC 6749 §5.2 describes.
func refuseClient(w http.ResponseWriter, desc string) {
	w.Header().Set("WWW-Authenticate", `Basic realm="healow sandbox"`)
	writeOAuthError(w, http.StatusUnauthorized, "invalid_client", desc)
}

func writeTokens(w http.ResponseWriter, resp tokenResponse) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, "application/json", resp)
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, "application/json", oauthError{Error: code, Description: desc})
}

// Consent plays the patient: it GETs an authorize URL (as built by the
// client) and returns the redirect URL the sandbox answered with, the
// Location of its 302, which carries code and state, or an error such as
// error=access_denied. It never contacts the redirect URI itself.
func (s *Server) Consent(ctx context.Context, authorizeURL string) (redirectURL string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authorizeURL, nil)
	if err != nil {
		return "", fmt.Errorf("sandbox consent: %w", err)
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		return "", fmt.Errorf("sandbox consent: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return "", fmt.Errorf("sandbox consent: authorize answered %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "", fmt.Errorf("sandbox consent: authorize answered 302 without a Location")
	}
	return loc, nil
}

// tokenOverLimit counts a token request against its practice's per-minute bucket (eCW counts
// /token too) and answers 429 when it is over. find runs under the lock.
func (s *Server) tokenOverLimit(w http.ResponseWriter, find func() *practice) bool {
	s.mu.Lock()
	p := find()
	s.mu.Unlock()
	if p == nil || !s.overLimit(p) {
		return false
	}
	writeOAuthError(w, http.StatusTooManyRequests, "too_many_requests", "rate limit exceeded for this practice; try again next minute")
	return true
}
