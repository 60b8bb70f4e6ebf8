package vault

import (
	"bytes"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
)

// fakeClock is the clock these tests move by hand.
type fakeClock = actor.Fake

func newFakeClock() *fakeClock {
	// Nanoseconds and a non-UTC zone make sure both survive the round trip.
	return actor.NewFake(time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.FixedZone("EST", -5*3600)))
}

// openTestStore opens a store in a fresh temporary folder and closes it when the test ends.
func openTestStore(t *testing.T, clock *fakeClock) *Store {
	t.Helper()
	return openStoreAt(t, filepath.Join(t.TempDir(), "healow", "tokens.db"), clock)
}

func openStoreAt(t *testing.T, path string, clock *fakeClock) *Store {
	t.Helper()
	opts := Options{}
	if clock != nil {
		opts.Now = clock.Now
	}
	s, err := OpenWithOptions(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func samplePractice(name string) Practice {
	return Practice{
		ID:          NewID(),
		Name:        name,
		FHIRBaseURL: "https://fhir4.eclinicalworks.com/fhir/r4/JAFJCD",
		PatientID:   "Patient-123",
		Scopes:      []string{"launch/patient", "openid", "fhirUser", "offline_access", "patient/*.read"},
		TokenExpiry: time.Date(2026, 3, 14, 16, 9, 26, 1, time.UTC),
		LastRefresh: time.Date(2026, 3, 14, 15, 0, 0, 999999999, time.Local),

		RefreshIssuedAt: time.Date(2026, 3, 14, 15, 0, 0, 999999999, time.Local),
	}
}

// equalPractice compares practices the way they are meant to round-trip: times with Equal
// (the zone is not kept), everything else exactly.
func equalPractice(t *testing.T, got, want Practice) {
	t.Helper()
	times := []struct {
		name      string
		got, want time.Time
	}{
		{"TokenExpiry", got.TokenExpiry, want.TokenExpiry},
		{"CreatedAt", got.CreatedAt, want.CreatedAt},
		{"UpdatedAt", got.UpdatedAt, want.UpdatedAt},
		{"LastRefresh", got.LastRefresh, want.LastRefresh},
		{"SMARTFetchedAt", got.SMARTFetchedAt, want.SMARTFetchedAt},
		{"RefreshIssuedAt", got.RefreshIssuedAt, want.RefreshIssuedAt},
	}
	for _, tt := range times {
		if !tt.got.Equal(tt.want) {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if got.ID != want.ID || got.Name != want.Name || got.FHIRBaseURL != want.FHIRBaseURL || got.PatientID != want.PatientID ||
		got.ConnectedVia != want.ConnectedVia {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if !reflect.DeepEqual(got.Scopes, want.Scopes) {
		t.Errorf("Scopes = %#v, want %#v", got.Scopes, want.Scopes)
	}
	if !bytes.Equal(got.SMARTConfig, want.SMARTConfig) {
		t.Errorf("SMARTConfig = %q, want %q", got.SMARTConfig, want.SMARTConfig)
	}
}
