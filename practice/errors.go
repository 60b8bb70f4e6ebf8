package practice

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors that the MCP layer turns into tool errors a person can act on.
var (
	// ErrNeedsReconnect: the practice revoked the grant or the refresh token lapsed; only a new
	// authorization helps.
	ErrNeedsReconnect = errors.New("the practice needs to be connected again")
	// ErrCircuitOpen: the practice failed repeatedly and is being left alone for a while.
	ErrCircuitOpen = errors.New("the practice is unavailable for now")
	// ErrOutsideBase: a URL would have taken the practice's token outside its FHIR base.
	ErrOutsideBase = errors.New("URL outside the practice's FHIR base")
	// ErrRateLimited: the practice's rate limit frees too late for a caller to be held until then.
	ErrRateLimited = errors.New("the practice's rate limit is used up for now")
	// ErrStopped: the actor was removed (the practice was disconnected) or the server is stopping.
	ErrStopped = errors.New("the practice is not being served")
	// ErrNoDataGranted: a sign-in ended with scopes that read none of the patient's records, so
	// the connection would be useless; nothing was stored.
	ErrNoDataGranted = errors.New("the practice granted no access to the patient's records")
)

// FHIRError is a non-2xx answer from a practice's FHIR server.
type FHIRError struct {
	Status     int
	Outcome    string        // the OperationOutcome in words, or "" when the body was not one
	RetryAfter time.Duration // from a Retry-After header, if any
}

func (e *FHIRError) Error() string {
	var what string
	switch {
	case e.Status == 401:
		what = "the practice did not accept the access token"
	case e.Status == 403 || strings.Contains(strings.ToLower(e.Outcome), "not supported for the selected scope"):
		what = "the practice refused: the granted scopes do not cover this request"
	case e.Status == 404:
		what = "not found at this practice"
	case e.Status == 410:
		what = "the resource was deleted at this practice"
	case e.Status == 429:
		what = "the practice's rate limit (250 requests a minute) was reached; try again after the minute turns"
	case e.Status >= 500:
		what = "the practice's FHIR server failed; try again later"
	default:
		what = "the practice refused the request"
	}
	if e.Outcome == "" {
		return fmt.Sprintf("HTTP %d: %s", e.Status, what)
	}
	return fmt.Sprintf("HTTP %d: %s (%s)", e.Status, what, e.Outcome)
}
