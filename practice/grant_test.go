package practice

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/advice"
	"github.com/healow-mcp/healow-mcp/internal/sandbox"
)

// Connecting records when the refresh token was issued, and a refresh that rotates it records
// the new one's; the actor's health counts eCW's 90 days from there.
func TestRefreshTokenIssueIsRecorded(t *testing.T) {
	t.Parallel()
	clock := newClock()
	w := newWorld(t, sandbox.Options{}, clock)
	connected := clock.Now()
	id, p := w.connect(t, 0)
	ctx := context.Background()
	meta, err := w.store.Get(ctx, id)
	if err != nil || !meta.RefreshIssuedAt.Equal(connected) {
		t.Fatalf("after connecting: refresh issued %v, want %v (%v)", meta.RefreshIssuedAt, connected, err)
	}
	a := w.serve(t, id, nil)
	clock.Advance(2 * time.Hour)
	refreshed := clock.Now()
	if _, err := a.Fetch(ctx, patientRead(p)); err != nil {
		t.Fatal(err)
	}
	meta, _ = w.store.Get(ctx, id)
	if !meta.RefreshIssuedAt.Equal(refreshed) {
		t.Fatalf("after a rotating refresh: refresh issued %v, want %v", meta.RefreshIssuedAt, refreshed)
	}
	h, err := a.Health(ctx)
	if err != nil || !h.RefreshTokenExpiry.Equal(refreshed.Add(RefreshTokenLife)) || h.RefreshTokenLeft != RefreshTokenLife {
		t.Fatalf("health: refresh token expiry %v, left %v (%v)", h.RefreshTokenExpiry, h.RefreshTokenLeft, err)
	}
}

func TestRefreshWarning(t *testing.T) {
	t.Parallel()
	expiry := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	for _, tc := range []struct {
		left time.Duration
		want string // "" for no warning
	}{
		{15 * day, ""},
		{RenewWithin + time.Second, ""},
		{RenewWithin, "expires in 14 days, on 2026-03-01"},
		{36 * time.Hour, "expires in a day"},
		{time.Hour, "expires within a day"},
		{0, "expired on 2026-03-01"},
	} {
		got := RefreshWarning("Sunrise", "https://fhir4.healow.com/fhir/r4/ABCDEF", expiry, tc.left, advice.Command)
		if tc.want == "" {
			if got != "" {
				t.Errorf("%v left: %q, want no warning", tc.left, got)
			}
			continue
		}
		if !strings.Contains(got, tc.want) || !strings.Contains(got, `healow connect --name "Sunrise" --fhir-base-url https://fhir4.healow.com/fhir/r4/ABCDEF`) {
			t.Errorf("%v left: %q, want %q and how to reconnect", tc.left, got, tc.want)
		}
		// Installed as the bundle, there is no command to run: the tool does it.
		inBundle := RefreshWarning("Sunrise", "https://fhir4.healow.com/fhir/r4/ABCDEF", expiry, tc.left, advice.Bundle)
		if !strings.Contains(inBundle, tc.want) || !strings.Contains(inBundle, "connect_practice tool") || strings.Contains(inBundle, "healow connect") {
			t.Errorf("%v left, in the bundle: %q", tc.left, inBundle)
		}
	}
	if got := RefreshWarning("Sunrise", "https://x", time.Time{}, 0, advice.Command); got != "" {
		t.Errorf("unknown expiry: %q", got)
	}
}
