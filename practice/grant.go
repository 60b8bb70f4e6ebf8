package practice

import (
	"fmt"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/advice"
	"github.com/healow-mcp/healow-mcp/vault"
)

// RefreshTokenLife is how long eClinicalWorks' refresh tokens last from issue (90 days, as eCW
// documents); after it the patient must sign in again.
const RefreshTokenLife = 90 * 24 * time.Hour

// RenewWithin is how long before its refresh token expires a practice is pointed out, so the
// patient can reconnect it before the connection ends rather than after.
const RenewWithin = 14 * 24 * time.Hour

// RefreshExpiry is when the refresh token of p expires, counted from when the one in the keychain
// was issued; zero when none is known to have been.
func RefreshExpiry(p vault.Practice) time.Time {
	if p.RefreshIssuedAt.IsZero() {
		return time.Time{}
	}
	return p.RefreshIssuedAt.Add(RefreshTokenLife)
}

// RefreshWarning says what to do about a practice whose refresh token expires at expiry, left
// from now: "" when that is further off than RenewWithin (or not known).
func RefreshWarning(name, fhirBase string, expiry time.Time, left time.Duration, how advice.Install) string {
	if expiry.IsZero() || left > RenewWithin {
		return ""
	}
	renew := how.Reconnect(name, fhirBase) + " to renew it"
	when := expiry.UTC().Format(time.DateOnly)
	switch days := int(left / (24 * time.Hour)); {
	case left <= 0:
		return fmt.Sprintf("its refresh token expired on %s (eClinicalWorks' last 90 days), so it works only until its access token runs out: %s", when, renew)
	case days == 0:
		return fmt.Sprintf("its refresh token expires within a day, on %s (eClinicalWorks' last 90 days): %s", when, renew)
	case days == 1:
		return fmt.Sprintf("its refresh token expires in a day, on %s (eClinicalWorks' last 90 days): before then, %s", when, renew)
	default:
		return fmt.Sprintf("its refresh token expires in %d days, on %s (eClinicalWorks' last 90 days): before then, %s", days, when, renew)
	}
}
