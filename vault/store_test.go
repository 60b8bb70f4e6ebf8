package vault

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestSaveGetRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(p *Practice)
	}{
		{"full", func(p *Practice) {
			p.SMARTConfig = []byte(`{"token_endpoint":"https://x/token"}`)
			p.SMARTFetchedAt = time.Unix(1700000000, 123456789)
		}},
		{"nil scopes", func(p *Practice) { p.Scopes = nil }},
		{"empty scopes", func(p *Practice) { p.Scopes = []string{} }},
		{"scopes with odd characters", func(p *Practice) { p.Scopes = []string{"a b", `"q"`, "ü", ""} }},
		{"zero times", func(p *Practice) { p.TokenExpiry, p.LastRefresh = time.Time{}, time.Time{} }},
		{"far future expiry", func(p *Practice) { p.TokenExpiry = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC) }},
		{"unicode name", func(p *Practice) { p.Name = "Praxis Müller & Söhne" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			s := openTestStore(t, clock)
			ctx := t.Context()
			p := samplePractice("Acme Family Medicine")
			tt.mutate(&p)
			if err := s.Save(ctx, p); err != nil {
				t.Fatal(err)
			}
			want := p
			want.CreatedAt, want.UpdatedAt = clock.Now(), clock.Now()
			got, err := s.Get(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			equalPractice(t, got, want)
			if got.CreatedAt.Location() != time.UTC {
				t.Errorf("CreatedAt location = %v, want UTC", got.CreatedAt.Location())
			}
		})
	}
}

func TestSaveUpdateKeepsCreatedAt(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := openTestStore(t, clock)
	ctx := t.Context()
	p := samplePractice("Acme")
	created := clock.Now()
	if err := s.Save(ctx, p); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	p.Name = "Acme Renamed"
	p.PatientID = "Patient-456"
	p.CreatedAt = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) // ignored: the store owns it
	if err := s.Save(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := p
	want.CreatedAt, want.UpdatedAt = created, clock.Now()
	equalPractice(t, got, want)
	if ps, err := s.List(ctx); err != nil || len(ps) != 1 {
		t.Fatalf("List = %d practices, %v; want 1: Save of an existing id must update it", len(ps), err)
	}
}

func TestSaveRejectsInvalidPractice(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, nil)
	tests := []struct {
		name   string
		mutate func(p *Practice)
	}{
		{"empty id", func(p *Practice) { p.ID = "" }},
		{"id without prefix", func(p *Practice) { p.ID = "abcdefghijklm" }},
		{"id upper case", func(p *Practice) { p.ID = "pr_ABCDEFGHIJ" }},
		{"id too short", func(p *Practice) { p.ID = "pr_abc" }},
		{"id not base32", func(p *Practice) { p.ID = "pr_abcdefgh01" }},
		{"blank name", func(p *Practice) { p.Name = "  " }},
		{"smart config not JSON", func(p *Practice) { p.SMARTConfig = []byte(`{"truncated":`) }},
	}
	for _, tt := range tests {
		p := samplePractice("Acme")
		tt.mutate(&p)
		if err := s.Save(t.Context(), p); err == nil {
			t.Errorf("%s: Save succeeded, want an error", tt.name)
		}
	}
	if ps, err := s.List(t.Context()); err != nil || len(ps) != 0 {
		t.Errorf("List = %v, %v; want nothing saved", ps, err)
	}
	if g, err := s.Generation(t.Context()); err != nil || g != 0 {
		t.Errorf("Generation = %d, %v; want 0 after only failed saves", g, err)
	}
}

func TestNamesAreUniqueCaseInsensitively(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, nil)
	ctx := t.Context()
	acme := samplePractice("Acme Clinic")
	if err := s.Save(ctx, acme); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		p       Practice
		wantErr error
	}{
		{"same name new id", samplePractice("Acme Clinic"), ErrNameTaken},
		{"other case new id", samplePractice("ACME clinic"), ErrNameTaken},
		{"surrounding spaces", samplePractice(" acme clinic "), ErrNameTaken},
		{"same id other case", func() Practice { p := acme; p.Name = "ACME CLINIC"; return p }(), nil},
		{"different name", samplePractice("Acme Clinic 2"), nil},
	}
	for _, tt := range tests {
		err := s.Save(ctx, tt.p)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: Save err = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	// Renaming an existing practice onto another's name is a clash too.
	other, err := s.GetByName(ctx, "acme clinic 2")
	if err != nil {
		t.Fatal(err)
	}
	other.Name = "acme CLINIC"
	if err := s.Save(ctx, other); !errors.Is(err, ErrNameTaken) {
		t.Errorf("rename onto a taken name: err = %v, want ErrNameTaken", err)
	}
}

func TestGetByName(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, nil)
	ctx := t.Context()
	p := samplePractice("Riverside Pediatrics")
	if err := s.Save(ctx, p); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Riverside Pediatrics", "riverside pediatrics", "RIVERSIDE PEDIATRICS", " Riverside Pediatrics "} {
		got, err := s.GetByName(ctx, name)
		if err != nil || got.ID != p.ID {
			t.Errorf("GetByName(%q) = %s, %v; want %s", name, got.ID, err, p.ID)
		}
	}
	if _, err := s.GetByName(ctx, "Riverside"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetByName of a prefix: err = %v, want ErrNotFound", err)
	}
}

func TestListOrderedByName(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, nil)
	ctx := t.Context()
	if ps, err := s.List(ctx); err != nil || len(ps) != 0 {
		t.Fatalf("List of an empty store = %v, %v", ps, err)
	}
	for _, name := range []string{"charlie", "Bravo", "alpha", "Delta"} {
		if err := s.Save(ctx, samplePractice(name)); err != nil {
			t.Fatal(err)
		}
	}
	ps, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	if want := []string{"alpha", "Bravo", "charlie", "Delta"}; !reflect.DeepEqual(names, want) {
		t.Errorf("List names = %v, want %v", names, want)
	}
}

func TestMissingPractice(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, nil)
	ctx := t.Context()
	missing := NewID()
	at := time.Now()
	tests := []struct {
		name string
		call func() error
	}{
		{"Get", func() error { _, err := s.Get(ctx, missing); return err }},
		{"GetByName", func() error { _, err := s.GetByName(ctx, "nobody"); return err }},
		{"Delete", func() error { return s.Delete(ctx, missing) }},
		{"RecordRefresh", func() error { return s.RecordRefresh(ctx, missing, at, []string{"openid"}, at) }},
		{"RecordRefresh nil scopes", func() error { return s.RecordRefresh(ctx, missing, at, nil, at) }},
		{"SaveSMARTConfig", func() error { return s.SaveSMARTConfig(ctx, missing, []byte(`{}`), at) }},
	}
	for _, tt := range tests {
		if err := tt.call(); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", tt.name, err)
		}
	}
	if g, err := s.Generation(ctx); err != nil || g != 0 {
		t.Errorf("Generation = %d, %v; failed writes must not bump it", g, err)
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, nil)
	ctx := t.Context()
	keep, gone := samplePractice("keep"), samplePractice("gone")
	for _, p := range []Practice{keep, gone} {
		if err := s.Save(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, gone.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete: err = %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx, keep.ID); err != nil {
		t.Errorf("the other practice: %v", err)
	}
	// The name is free again.
	again := samplePractice("GONE")
	if err := s.Save(ctx, again); err != nil {
		t.Errorf("reusing a deleted practice's name: %v", err)
	}
}
