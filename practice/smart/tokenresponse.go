package smart

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/quote"
)

// Token is a parsed token response.
type Token struct {
	AccessToken  string
	TokenType    string // always "Bearer" in some capitalisation
	RefreshToken string // empty unless offline_access was granted; rotated on refresh
	IDToken      string
	Scopes       []string  // what was granted, which may be less than was asked
	Expiry       time.Time // zero when the server did not send expires_in
	// PatientID is the "patient" of the response or, when that is missing,
	// the id from the id_token's fhirUser claim. Empty when neither says;
	// refresh answers often omit it, so keep the one from the exchange.
	PatientID string
}

type wireToken struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type"`
	ExpiresIn    expiresIn `json:"expires_in"`
	Scope        string    `json:"scope"`
	RefreshToken string    `json:"refresh_token"`
	IDToken      string    `json:"id_token"`
	Patient      string    `json:"patient"`
}

// expiresIn accepts a number or a numeric string; some servers quote it.
type expiresIn int64

func (e *expiresIn) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	if s == "" || s == "null" {
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return errors.New("expires_in is not a number")
	}
	*e = expiresIn(f)
	return nil
}

// parseToken reads a 200 token response. Error messages name fields only:
// the body holds the tokens.
func parseToken(body []byte, now time.Time) (*Token, error) {
	var w wireToken
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, errors.New("the token endpoint answered 200 with a body that is not a valid token response; try again, and report it to the practice if it persists")
	}
	if w.AccessToken == "" {
		return nil, errors.New("the token endpoint answered without an access_token; try connecting again")
	}
	if !strings.EqualFold(w.TokenType, "Bearer") {
		kind := cleanText(redact(w.TokenType, []string{w.AccessToken, w.RefreshToken, w.IDToken}))
		return nil, fmt.Errorf("the token endpoint issued a token of type %s; only Bearer tokens are supported", quote.Quote(kind))
	}
	t := &Token{
		AccessToken:  w.AccessToken,
		TokenType:    w.TokenType,
		RefreshToken: w.RefreshToken,
		IDToken:      w.IDToken,
		Scopes:       strings.Fields(w.Scope),
		PatientID:    w.Patient,
	}
	if w.ExpiresIn > 0 {
		t.Expiry = now.Add(time.Duration(w.ExpiresIn) * time.Second)
	}
	if t.PatientID == "" && w.IDToken != "" {
		t.PatientID = patientFromIDToken(w.IDToken)
	}
	if t.PatientID != "" && !validPatientID(t.PatientID) {
		return nil, errors.New("the token response names a patient id that cannot be used in a FHIR URL; report this to the practice")
	}
	return t, nil
}

// patientFromIDToken reads the fhirUser claim of an id_token and returns the
// patient id it names, or "" when it names none.
//
// The signature is not verified, and need not be: the id_token came straight
// from the token endpoint, over TLS, in answer to a request authenticated
// with the client secret, so nobody but the authorization server could have
// put it there (OpenID Connect Core §3.1.3.7 allows TLS to stand in for the
// signature in this case). It is only read for the patient id, never
// trusted as proof of identity elsewhere.
func patientFromIDToken(idToken string) string {
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return ""
	}
	var claims struct {
		FHIRUser string `json:"fhirUser"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	return patientFromReference(claims.FHIRUser)
}

// patientFromReference accepts "Patient/<id>" or an absolute URL ending in
// "Patient/<id>".
func patientFromReference(ref string) string {
	segs := strings.Split(strings.TrimSuffix(ref, "/"), "/")
	if n := len(segs); n >= 2 && segs[n-2] == "Patient" {
		return segs[n-1]
	}
	return ""
}

// validPatientID refuses ids that would change the meaning of the URL they
// are put into. eCW's ids are opaque (one seen was 44 characters with '-'
// and '.'), so this is looser than FHIR's [A-Za-z0-9\-\.]{1,64}.
func validPatientID(id string) bool {
	if len(id) > 256 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c <= 0x20 || c >= 0x7f || strings.IndexByte("/?#%\\", c) >= 0 {
			return false
		}
	}
	return true
}
