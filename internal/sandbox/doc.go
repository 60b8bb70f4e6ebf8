// Package sandbox is an HTTPS stand-in for eClinicalWorks: one OAuth server
// and several practices' FHIR R4 bases, laid out the way eCW lays them out.
//
// It exists so the project's tests, `healow demo` and `healow sandbox` can
// exercise the real SMART standalone-launch client end to end without a real
// practice, real credentials or real patient data. Everything it serves is
// synthetic and deterministic: the same practice code always yields the same
// patient and the same records.
//
// The sandbox copies eCW's observable behaviour where it matters to a client
// (single-use rotating refresh tokens, access_denied as HTTP 500, the
// "not enabled" plain-text 400, category-qualified scopes including eCW's
// social-history typo, relative Binary URLs) and lets tests switch on the
// failures a real practice produces through [Faults].
//
// It never logs a token, code, secret or patient identifier.
package sandbox
