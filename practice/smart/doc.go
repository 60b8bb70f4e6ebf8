// Package smart implements the parts of SMART App Launch 2.x that healow-mcp
// needs to act for one patient at an eClinicalWorks/healow FHIR R4 practice:
// discovery of .well-known/smart-configuration, the choice of scopes, PKCE,
// pending-authorization state, the authorize URL, and the token exchange and
// refresh of a confidential symmetric client (HTTP Basic, PKCE S256, aud), or of a
// public client (client_id in the body, PKCE S256) where the practice lists client-public.
//
// It depends on the standard library, practice/egress (the host policy) and
// practice/fhir (resource types and categories), both standard library only,
// holds no long-lived state apart from [States], and never puts a token, code,
// verifier or secret into an error message.
package smart
