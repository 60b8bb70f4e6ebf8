package vault

import (
	"crypto/rand"
	"errors"
	"strings"
	"time"
)

// Practice is the non-secret metadata of one connected practice. It deliberately has no token
// fields: tokens live in [Secrets], so the SQLite file never holds one.
type Practice struct {
	ID          string    // "pr_" + 10 lowercase base32 chars (see NewID), stable across reconnects
	Name        string    // user-chosen, unique case-insensitively
	FHIRBaseURL string    // the practice's FHIR R4 base URL
	PatientID   string    // the FHIR Patient id the tokens were granted for
	Scopes      []string  // granted scopes
	TokenExpiry time.Time // access token expiry

	// CreatedAt and UpdatedAt are set by Store.Save from the store's clock; values passed in
	// are ignored. LastRefresh is when the tokens were last refreshed (zero if never).
	CreatedAt, UpdatedAt, LastRefresh time.Time
	// RefreshIssuedAt is when the refresh token in the keychain was issued: at connecting, and
	// again at each refresh that rotated it. Zero when none was issued (or not known).
	RefreshIssuedAt time.Time

	SMARTConfig    []byte    // raw JSON of the practice's .well-known/smart-configuration (non-secret)
	SMARTFetchedAt time.Time // when SMARTConfig was fetched

	// ConnectedVia is how the practice was last connected: ViaMCP, ViaCLI, or "" when that was
	// not recorded (before healow recorded it).
	ConnectedVia string
}

// How a practice was connected. A model can be misled into connecting a practice through the
// MCP tools, so those are shown to the user.
const (
	ViaMCP = "mcp" // the connect_practice and complete_oauth tools
	ViaCLI = "cli" // healow connect
)

// ErrNotFound is returned, possibly wrapped, when no practice has the given id or name.
var ErrNotFound = errors.New("practice not found")

// ErrNameTaken is returned, wrapped, by [Store.Save] when another practice already has the name
// (compared case-insensitively).
var ErrNameTaken = errors.New("practice name already taken")

const (
	idPrefix = "pr_"
	idChars  = 10
	// base32Lower is RFC 4648's base32 alphabet, lowercased so ids read well in URLs and
	// keychain entries.
	base32Lower = "abcdefghijklmnopqrstuvwxyz234567"
)

// NewID returns a fresh practice id: "pr_" followed by 10 lowercase base32 characters (50 bits)
// from crypto/rand.
func NewID() string {
	// rand.Text draws each character uniformly from the standard base32 alphabet.
	return idPrefix + strings.ToLower(rand.Text()[:idChars])
}

// ValidID reports whether id has the shape NewID produces.
func ValidID(id string) bool {
	rest, ok := strings.CutPrefix(id, idPrefix)
	if !ok || len(rest) != idChars {
		return false
	}
	for _, c := range []byte(rest) {
		if strings.IndexByte(base32Lower, c) < 0 {
			return false
		}
	}
	return true
}

// nameKey is the form in which names are compared: case-insensitive, and blind to the stray
// spaces a user types around a name.
func nameKey(name string) string {
	return strings.ToLower(strings.TrimSpace(name))
}
