package sandbox

import (
	"net/http"
	"slices"
)

// smartConfiguration mirrors the fields eCW publishes at
// <base>/.well-known/smart-configuration. It has no revocation,
// introspection or management endpoint because eCW has none.
type smartConfiguration struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	Capabilities                      []string `json:"capabilities"`
}

// ecwCapabilities is eCW's published list, verbatim. Like eCW, the sandbox
// advertises more than a patient-facing confidential client can use (it
// lists client_secret_post, yet the token endpoint insists on Basic), which
// keeps the client honest about reading only what it relies on.
var ecwCapabilities = []string{
	"launch-ehr", "launch-standalone", "client-public", "client-confidential-symmetric",
	"client-confidential-asymmetric", "context-ehr-patient", "context-ehr-encounter",
	"context-standalone-patient", "context-standalone-encounter", "context-banner",
	"context-style", "context-passthrough-banner", "context-passthrough-style",
	"permission-offline", "permission-patient", "permission-user", "permission-v1",
	"permission-v2", "sso-openid-connect", "authorize-post",
}

func (s *Server) oauthURL(endpoint string) string { return s.url + "/oauth/oauth2/" + endpoint }

func (s *Server) handleSmartConfig(w http.ResponseWriter, r *http.Request) {
	p := s.byCode[r.PathValue("code")]
	if p == nil {
		writeOutcome(w, http.StatusNotFound, "not-found", "unknown practice code")
		return
	}
	scopes, _ := supportedScopes()
	capabilities := ecwCapabilities
	if s.faultsFor(p).ConfidentialOnly {
		capabilities = slices.DeleteFunc(slices.Clone(capabilities), func(c string) bool { return c == "client-public" })
	}
	writeJSON(w, http.StatusOK, "application/json", smartConfiguration{
		Issuer:                            s.baseURL(p),
		AuthorizationEndpoint:             s.oauthURL("authorize"),
		TokenEndpoint:                     s.oauthURL("token"),
		JWKSURI:                           s.oauthURL("jwks"),
		ResponseTypesSupported:            []string{"code", "id_token"},
		GrantTypesSupported:               []string{"authorization_code", "client_credentials", "refresh_token"},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt"},
		CodeChallengeMethodsSupported:     []string{"S256"},
		ScopesSupported:                   scopes,
		Capabilities:                      capabilities,
	})
}

// handleRootSmartConfig answers 400 as eCW's hosts do: discovery works only
// under a practice base, so a client must know the practice code first.
func (s *Server) handleRootSmartConfig(w http.ResponseWriter, _ *http.Request) {
	writeOutcome(w, http.StatusBadRequest, "invalid",
		"smart-configuration is served only under a practice base, /fhir/r4/<PRACTICECODE>")
}
