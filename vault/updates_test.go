package vault

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestRecordRefreshTouchesOnlyTokenColumns(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := openTestStore(t, clock)
	ctx := t.Context()
	p := samplePractice("Acme")
	p.SMARTConfig = []byte(`{"a":1}`)
	p.SMARTFetchedAt = clock.Now()
	if err := s.Save(ctx, p); err != nil {
		t.Fatal(err)
	}
	saved, err := s.Get(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}

	// Another process renames the practice through a second Store on the same file; a refresh
	// afterwards must not undo that.
	other := openStoreAt(t, s.Path(), clock)
	clock.Advance(time.Minute)
	renamed := saved
	renamed.Name = "Acme Renamed"
	if err := other.Save(ctx, renamed); err != nil {
		t.Fatal(err)
	}
	afterRename, err := s.Get(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}

	expiry := clock.Now().Add(time.Hour)
	at := clock.Now().Add(time.Second)
	scopes := []string{"openid", "patient/Observation.read"}
	if err := s.RecordRefresh(ctx, p.ID, expiry, scopes, at); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := afterRename
	want.TokenExpiry, want.Scopes, want.LastRefresh = expiry, scopes, at
	equalPractice(t, got, want)

	// nil scopes: the token response left them out, so the stored ones stay.
	expiry2 := expiry.Add(time.Hour)
	if err := s.RecordRefresh(ctx, p.ID, expiry2, nil, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err = s.Get(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Scopes, scopes) || !got.TokenExpiry.Equal(expiry2) {
		t.Errorf("after a refresh with nil scopes: Scopes = %v, expiry = %v; want %v, %v", got.Scopes, got.TokenExpiry, scopes, expiry2)
	}
	// An empty, non-nil list is stored as given.
	if err := s.RecordRefresh(ctx, p.ID, expiry2, []string{}, at); err != nil {
		t.Fatal(err)
	}
	if got, err = s.Get(ctx, p.ID); err != nil || got.Scopes == nil || len(got.Scopes) != 0 {
		t.Errorf("after a refresh with empty scopes: Scopes = %#v, %v; want []string{}", got.Scopes, err)
	}
}

func TestSaveSMARTConfigTouchesOnlyConfigColumns(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := openTestStore(t, clock)
	ctx := t.Context()
	p := samplePractice("Acme")
	if err := s.Save(ctx, p); err != nil {
		t.Fatal(err)
	}
	saved, err := s.Get(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	raw := []byte(`{"authorization_endpoint":"https://oauth/authorize","capabilities":["launch-standalone"]}`)
	fetched := clock.Now()
	if err := s.SaveSMARTConfig(ctx, p.ID, raw, fetched); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := saved
	want.SMARTConfig, want.SMARTFetchedAt = raw, fetched
	equalPractice(t, got, want)

	if err := s.SaveSMARTConfig(ctx, p.ID, []byte("<html>"), fetched); err == nil {
		t.Error("SaveSMARTConfig accepted a body that is not JSON")
	}
	if got, err := s.Get(ctx, p.ID); err != nil || !bytes.Equal(got.SMARTConfig, raw) {
		t.Errorf("after a rejected config: SMARTConfig = %q, %v; want the previous one", got.SMARTConfig, err)
	}
}

func TestGenerationCountsEveryWrite(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, nil)
	ctx := t.Context()
	// A second Store on the same file stands in for another process watching for changes.
	watcher := openStoreAt(t, s.Path(), nil)
	p := samplePractice("Acme")
	now := time.Now()
	steps := []struct {
		name string
		call func() error
	}{
		{"Save insert", func() error { return s.Save(ctx, p) }},
		{"Save update", func() error { return s.Save(ctx, p) }},
		{"RecordRefresh", func() error { return s.RecordRefresh(ctx, p.ID, now, nil, now) }},
		{"SaveSMARTConfig", func() error { return s.SaveSMARTConfig(ctx, p.ID, []byte(`{}`), now) }},
		{"Delete", func() error { return s.Delete(ctx, p.ID) }},
	}
	for i, st := range steps {
		if err := st.call(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		for _, store := range []*Store{s, watcher} {
			g, err := store.Generation(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if g != int64(i+1) {
				t.Errorf("after %s: Generation = %d, want %d", st.name, g, i+1)
			}
		}
	}
}

func TestContextCancelled(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Save(ctx, samplePractice("Acme")); !errors.Is(err, context.Canceled) {
		t.Errorf("Save with a cancelled context: err = %v, want context.Canceled", err)
	}
	if _, err := s.List(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("List with a cancelled context: err = %v, want context.Canceled", err)
	}
	if ps, err := s.List(t.Context()); err != nil || len(ps) != 0 {
		t.Errorf("List = %v, %v; want nothing saved", ps, err)
	}
}
