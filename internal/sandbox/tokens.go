package sandbox

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"slices"
	"strings"
	"time"
)

// authCode is what an authorization code stands for until it is redeemed.
type authCode struct {
	clientID    string
	redirectURI string
	challenge   string
	nonce       string
	practice    *practice
	scopes      []string
	expires     time.Time
}

// accessToken is bound to one practice: eCW's tokens open only the base
// they were issued for.
type accessToken struct {
	practice *practice
	grants   grants
	expires  time.Time
}

// refreshToken is single-use. A used one stays in the map until it expires
// so that a second presentation is told apart from a forged one (and
// counted in Stats.RefreshReuse).
type refreshToken struct {
	clientID string
	practice *practice
	scopes   []string
	expires  time.Time
	used     bool
}

// tokenResponse is the token endpoint's success body.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Patient      string `json:"patient,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
}

// randomToken returns 32 random bytes, base64url: the form of every code
// and token the sandbox hands out.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}

// pkceMatches checks RFC 7636 S256: BASE64URL(SHA256(verifier)) == challenge.
func pkceMatches(verifier, challenge string) bool {
	if verifier == "" {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

// issueCode stores c under a fresh code, valid for codeTTL.
func (s *Server) issueCode(c *authCode) string {
	code := randomToken()
	now := s.now()
	c.expires = now.Add(codeTTL)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	s.codes[code] = c
	return code
}

// issue mints an access token for p with scopes, and a refresh token
// carrying refreshScopes when offline_access was granted.
func (s *Server) issue(p *practice, clientID string, scopes, refreshScopes []string, nonce string, f Faults) tokenResponse {
	now := s.now()
	ttl := s.ttl
	if f.AccessTokenTTL > 0 {
		ttl = f.AccessTokenTTL
	}
	resp := tokenResponse{
		AccessToken: randomToken(),
		TokenType:   "Bearer",
		ExpiresIn:   max(int(ttl/time.Second), 1),
		Scope:       strings.Join(scopes, " "),
	}
	if !f.OmitPatient {
		resp.Patient = p.patientID
	}
	if slices.Contains(scopes, "openid") {
		resp.IDToken = s.idKey.sign(idTokenClaims{
			Issuer:   s.baseURL(p),
			Subject:  p.patientID,
			Audience: clientID,
			FHIRUser: s.baseURL(p) + "/Patient/" + p.patientID,
			Expires:  now.Add(ttl).Unix(),
			IssuedAt: now.Unix(),
			Nonce:    nonce,
		})
	}
	offline := slices.Contains(refreshScopes, "offline_access")
	if offline {
		resp.RefreshToken = randomToken()
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	s.access[resp.AccessToken] = &accessToken{practice: p, grants: grantsFor(scopes), expires: now.Add(ttl)}
	if offline {
		s.refresh[resp.RefreshToken] = &refreshToken{
			clientID: clientID, practice: p, scopes: refreshScopes, expires: now.Add(refreshTTL),
		}
	}
	return resp
}

// sweepLocked drops expired codes and tokens so a long-running sandbox stays
// bounded. It runs on every issuance; the maps hold only live entries, so
// the walk is short. s.mu must be held.
func (s *Server) sweepLocked(now time.Time) {
	for k, c := range s.codes {
		if !now.Before(c.expires) {
			delete(s.codes, k)
		}
	}
	for k, t := range s.access {
		if !now.Before(t.expires) {
			delete(s.access, k)
		}
	}
	for k, t := range s.refresh {
		if !now.Before(t.expires) {
			delete(s.refresh, k)
		}
	}
}

// lookupAccess returns the live token presented for practice p, or nil.
func (s *Server) lookupAccess(token string, p *practice) *accessToken {
	if token == "" {
		return nil
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.access[token]
	if t == nil || t.practice != p || !now.Before(t.expires) {
		return nil
	}
	return t
}
