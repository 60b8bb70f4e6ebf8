package mcp

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/healow-mcp/healow-mcp/internal/advice"
	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/practice/smart"
)

// explain turns an error from below into a tool error the model can act on. Most errors already
// say what to do; this adds what they cannot know, such as a deadline that ran out.
func explain(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("the practice did not answer in time; try again, or ask for less: %w", err)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("the request was cancelled: %w", err)
	}
	return err
}

// target is what a failed request asked for, so that its error can name it.
type target struct {
	resource string
	id       string // "" for a search
	category string // the friendly category searched, if any
}

func (tg target) String() string {
	switch {
	case tg.resource == "":
		return "this page"
	case tg.id != "":
		return tg.resource + "/" + tg.id
	case tg.category != "":
		return tg.resource + " (" + tg.category + ")"
	}
	return tg.resource
}

// explainFetch explains a failed FHIR request. A practice's refusal is worded with what the
// actor knows about the connection: its name and base, to reconnect, and its granted scopes,
// to say which one is missing.
func (t *tools) explainFetch(ctx context.Context, a *practice.Actor, tg target, err error) error {
	var fe *practice.FHIRError
	if !errors.As(err, &fe) {
		return explain(err)
	}
	info, ierr := a.Info(ctx)
	if ierr != nil {
		return explain(err)
	}
	return explainFHIR(info, tg, fe, err, t.reg.Install())
}

// explainFHIR is the one place a FHIR status becomes advice, worded for how healow was
// installed. err wraps fe and keeps the practice's own words (its OperationOutcome) at the end.
func explainFHIR(info practice.Info, tg target, fe *practice.FHIRError, err error, how advice.Install) error {
	reconnect := how.Reconnect(info.Name, info.FHIRBaseURL)
	switch {
	case fe.Status == 403 || strings.Contains(strings.ToLower(fe.Outcome), "not supported for the selected scope"):
		need := smart.ScopeHint(tg.resource, tg.category)
		if tg.resource == "" && info.Requestable != nil && !asksForMore(info.Requestable, info.Scopes) {
			return fmt.Errorf("%q refused this page for want of a scope, and connecting again would ask for the same access: the practice withholds these records from this app: %w", info.Name, err)
		}
		if tg.resource == "" {
			return fmt.Errorf("%q refused this page for want of a scope; %s and allow access to this kind of record when signing in: %w", info.Name, reconnect, err)
		}
		// Advice to connect again is given only when connecting again would ask for what is missing.
		if have := smart.ScopeFor(info.Scopes, tg.resource, tg.category); have != "" {
			return fmt.Errorf("%q refused %s although the granted scope %s should cover it: the practice withholds this record from this app, and connecting again would ask for the same access: %w",
				info.Name, tg, have, err)
		}
		if info.Requestable != nil && !offers(info.Requestable, tg) {
			return fmt.Errorf("%q does not offer this app access to %s: its SMART configuration lists no scope that reads it (%s would), so connecting again would not help; the practice decides which records it shares with apps: %w",
				info.Name, tg, need, err)
		}
		also := ""
		if tg.category == "" && (tg.resource == "Observation" || tg.resource == "Condition") {
			also = " (or the category-qualified scope for this record's category)"
		}
		return fmt.Errorf("%q did not grant access to %s: reading it needs the scope %s%s, which is not among the scopes granted when the practice was connected. To add it, %s and allow that access when signing in: %w",
			info.Name, tg, need, also, reconnect, err)
	case fe.Status == 401:
		return fmt.Errorf("%q refused the access token even after renewing it, so the connection no longer works; %s: %w", info.Name, reconnect, err)
	case fe.Status == 404 && tg.id != "":
		return fmt.Errorf("%s was not found at %q: the id may be wrong or belong to someone else's record; take ids from this patient's search results: %w", tg, info.Name, err)
	case fe.Status == 404:
		return fmt.Errorf("%q does not serve %s: %w", info.Name, tg, err)
	case fe.Status == 410:
		return fmt.Errorf("%s was deleted at %q (often because it was entered in error); search again for the current records: %w", tg, info.Name, err)
	}
	return explain(err)
}

// asksForMore reports whether requestable (what connecting again would ask for) holds a scope
// that reads records and is not granted already.
func asksForMore(requestable, granted []string) bool {
	if slices.Contains(smart.Readable(granted), "*") {
		return false
	}
	for _, s := range requestable {
		if len(smart.Readable([]string{s})) > 0 && !slices.Contains(granted, s) {
			return true
		}
	}
	return false
}

// offers reports whether scopes (what connecting again would ask for) would read what tg names.
// Without a category, any category-qualified scope of the type may be the one that reads it.
func offers(scopes []string, tg target) bool {
	if tg.category != "" {
		return smart.ScopeFor(scopes, tg.resource, tg.category) != ""
	}
	for _, r := range smart.Readable(scopes) {
		if r == tg.resource || r == "*" {
			return true
		}
	}
	return false
}
