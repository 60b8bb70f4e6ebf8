package smart

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/healow-mcp/healow-mcp/internal/jsonscan"
)

// Config is a practice's parsed .well-known/smart-configuration.
type Config struct {
	Issuer                   string
	AuthorizationEndpoint    string
	TokenEndpoint            string
	JWKSURI                  string
	RevocationEndpoint       string
	ScopesSupported          []string
	Capabilities             []string
	CodeChallengeMethods     []string
	TokenEndpointAuthMethods []string
	GrantTypes               []string

	// Raw is the document as fetched, so the caller can cache it and later
	// rebuild the Config with ParseConfig.
	Raw []byte
}

// wireConfig mirrors the JSON field names of the SMART App Launch 2.x
// well-known document. Fields this package has no use for are ignored.
type wireConfig struct {
	Issuer                   string   `json:"issuer"`
	AuthorizationEndpoint    string   `json:"authorization_endpoint"`
	TokenEndpoint            string   `json:"token_endpoint"`
	JWKSURI                  string   `json:"jwks_uri"`
	RevocationEndpoint       string   `json:"revocation_endpoint"`
	ScopesSupported          []string `json:"scopes_supported"`
	Capabilities             []string `json:"capabilities"`
	CodeChallengeMethods     []string `json:"code_challenge_methods_supported"`
	TokenEndpointAuthMethods []string `json:"token_endpoint_auth_methods_supported"`
	GrantTypes               []string `json:"grant_types_supported"`
}

// ParseConfig parses a smart-configuration document and checks what this
// client depends on: authorization and token endpoints present and absolute
// https URLs without userinfo; S256 among code_challenge_methods_supported.
// Errors name the field and the rule that failed. How this client authenticates
// depends on whether it has a secret, so Client.CheckAuth checks that.
func ParseConfig(raw []byte) (*Config, error) {
	var w wireConfig
	if err := json.Unmarshal(raw, &w); err != nil {
		what := "is not valid JSON"
		if errors.As(err, new(*json.UnmarshalTypeError)) {
			what = "is not a SMART configuration"
		}
		return nil, fmt.Errorf("smart-configuration %s (%s): check that the FHIR base URL points at a FHIR server", what, jsonscan.Why(err))
	}
	if err := checkEndpoint("authorization_endpoint", w.AuthorizationEndpoint, true); err != nil {
		return nil, err
	}
	if err := checkEndpoint("token_endpoint", w.TokenEndpoint, true); err != nil {
		return nil, err
	}
	// A revocation endpoint would receive tokens, so it gets the same rule;
	// it is optional (eCW publishes none).
	if err := checkEndpoint("revocation_endpoint", w.RevocationEndpoint, false); err != nil {
		return nil, err
	}
	if !slices.Contains(w.CodeChallengeMethods, "S256") {
		return nil, errors.New("smart-configuration: code_challenge_methods_supported must include S256 (PKCE is required and plain is never used); this server does not look like a SMART App Launch 2 server")
	}
	return &Config{
		Issuer:                   w.Issuer,
		AuthorizationEndpoint:    w.AuthorizationEndpoint,
		TokenEndpoint:            w.TokenEndpoint,
		JWKSURI:                  w.JWKSURI,
		RevocationEndpoint:       w.RevocationEndpoint,
		ScopesSupported:          w.ScopesSupported,
		Capabilities:             w.Capabilities,
		CodeChallengeMethods:     w.CodeChallengeMethods,
		TokenEndpointAuthMethods: w.TokenEndpointAuthMethods,
		GrantTypes:               w.GrantTypes,
		Raw:                      slices.Clone(raw),
	}, nil
}

func checkEndpoint(field, value string, required bool) error {
	if value == "" {
		if required {
			return fmt.Errorf("smart-configuration: %s is missing; the server cannot be used for SMART standalone launch", field)
		}
		return nil
	}
	if _, err := checkHTTPSURL(value); err != nil {
		return fmt.Errorf("smart-configuration: %s: %w", field, err)
	}
	return nil
}

// Has reports whether the server lists capability (e.g.
// "context-standalone-patient") in its capabilities.
func (c *Config) Has(capability string) bool {
	return c != nil && slices.Contains(c.Capabilities, capability)
}

// SupportsV2 reports whether the server understands SMART v2 scopes
// ("patient/X.rs"), which it signals with the permission-v2 capability.
func (c *Config) SupportsV2() bool { return c.Has("permission-v2") }
