package smart

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

func TestLoopbackOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		uri  string
		want Loopback
		ok   bool
	}{
		{"http://127.0.0.1:8765/callback", Loopback{"127.0.0.1:8765", "/callback"}, true},
		{"http://localhost/cb", Loopback{"localhost:80", "/cb"}, true},
		{"http://[::1]:9000", Loopback{"[::1]:9000", "/"}, true},
		{"https://127.0.0.1:8765/callback", Loopback{}, false},
		{"http://example.org:8765/callback", Loopback{}, false},
		{"http://10.0.0.1:8765/callback", Loopback{}, false},
		{"::not a url", Loopback{}, false},
	} {
		got, ok := LoopbackOf(tc.uri)
		if got != tc.want || ok != tc.ok {
			t.Errorf("LoopbackOf(%q) = %+v, %v", tc.uri, got, ok)
		}
	}
}

func freeLoopback(t *testing.T) Loopback {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return Loopback{Addr: l.Addr().String(), Path: "/callback"}
}

func fetch(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// finisher completes a sign-in as the connector does: it takes it, tells how it ended, and
// returns that; it fails with fail when set.
func finisher(s *States, calls *atomic.Int32, fail error) Finish {
	return func(ctx context.Context, redirect, state string) Outcome {
		calls.Add(1)
		p, err := s.Take(ctx, state)
		o := Outcome{Practice: p.PracticeName, PracticeID: "pr_1", PatientID: "pat"}
		if err = errors.Join(err, fail); err != nil {
			o = Outcome{Practice: p.PracticeName, Err: err}
		}
		s.Finish(ctx, state, o)
		return o
	}
}

// The listener answers its sign-in's redirect once, and refuses, with a page and no change,
// anything on another path or without the state; a failure is shown without the code, whatever
// the server said; waiters hear how it ended, and the port is free again.
func TestListenerFinishesOnlyItsSignIn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, fail := range []error{nil, errors.New(`the server said "bad code SECRETCODE"`)} {
		s := serveStates(t, newFakeClock())
		at := freeLoopback(t)
		var calls atomic.Int32
		state, replaced, err := s.AddListening(ctx, Pending{PracticeName: "Acme"}, at, finisher(s, &calls, fail))
		if err != nil || replaced != "" {
			t.Fatal(err, replaced)
		}
		base := "http://" + at.Addr
		for _, u := range []string{base + "/other?code=SECRETCODE&state=" + state, base + "/callback?code=SECRETCODE&state=nope", base + "/callback?code=SECRETCODE"} {
			if status, page := fetch(t, u); status < 400 || strings.Contains(page, "SECRETCODE") || calls.Load() != 0 {
				t.Fatalf("%s: %d %s, finished %d times", u, status, page, calls.Load())
			}
		}
		waited := make(chan Waited, 1)
		go func() { w, _ := s.Wait(ctx, state); waited <- w }()
		status, page := fetch(t, base+"/callback?code=SECRETCODE&state="+state)
		if fail == nil && (status != http.StatusOK || !strings.Contains(page, "Acme is connected")) ||
			fail != nil && (status != http.StatusBadRequest || !strings.Contains(page, "not connected") || strings.Contains(page, "SECRETCODE")) {
			t.Fatalf("failing with %v: the browser was shown %d %s", fail, status, page)
		}
		if w := <-waited; w.Ended == nil || (w.Ended.Err == nil) != (fail == nil) {
			t.Fatalf("the waiter heard %+v", w)
		}
		if status, _ := fetch(t, base+"/callback?state="+state); status != 0 {
			t.Fatalf("the listener outlived its sign-in: %d", status)
		}
		if calls.Load() != 1 {
			t.Fatalf("finished %d times", calls.Load())
		}
	}
}

// A sign-in's listener closes when it lapses, is replaced on its port or is canceled, and each
// says so to Take and Wait.
func TestListenerEnds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	s := serveStates(t, clock)
	at := freeLoopback(t)
	var calls atomic.Int32
	first, _, err := s.AddListening(ctx, Pending{PracticeName: "Acme"}, at, finisher(s, &calls, nil))
	if err != nil {
		t.Fatal(err)
	}
	second, replaced, err := s.AddListening(ctx, Pending{PracticeName: "Beta"}, at, finisher(s, &calls, nil))
	if err != nil || replaced != "Acme" {
		t.Fatalf("replacing: %q, %v", replaced, err)
	}
	if w, err := s.Wait(ctx, first); err != nil || !errors.Is(w.Ended.Err, ErrStateReplaced) {
		t.Fatalf("the replaced sign-in: %+v, %v", w, err)
	}
	if _, err := s.Take(ctx, first); !errors.Is(err, ErrStateReplaced) {
		t.Fatalf("Take of the replaced sign-in: %v", err)
	}
	if err := s.Cancel(ctx, second); err != nil {
		t.Fatal(err)
	}
	if status, _ := fetch(t, "http://"+at.Addr+"/callback?state="+second); status != 0 {
		t.Fatalf("a canceled sign-in's listener answers: %d", status)
	}
	if _, err := s.Take(ctx, second); !errors.Is(err, ErrStateCanceled) {
		t.Fatalf("Take of the canceled sign-in: %v", err)
	}

	third, _, err := s.AddListening(ctx, Pending{PracticeName: "Gamma"}, at, finisher(s, &calls, nil))
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() {
		w, err := s.Wait(ctx, third)
		if err == nil {
			err = w.Ended.Err
		}
		waited <- err
	}()
	clock.Advance(StateTTL)
	if err := <-waited; !errors.Is(err, ErrStateExpired) {
		t.Fatalf("the waiter of a lapsed sign-in heard %v", err)
	}
	if status, _ := fetch(t, "http://"+at.Addr+"/callback?state="+third); status != 0 || calls.Load() != 0 {
		t.Fatalf("a lapsed sign-in's listener answers: %d", status)
	}
	if _, err := s.Wait(ctx, "never-issued"); !errors.Is(err, ErrStateUnknown) {
		t.Fatalf("Wait on an unknown state: %v", err)
	}
}

// BenchmarkSignInThroughListener is what a sign-in's listener costs, beyond the OAuth exchange
// (here a no-op): bind the port, take the browser's redirect, answer the page, close.
func BenchmarkSignInThroughListener(b *testing.B) {
	ctx := context.Background()
	s := NewStates(nil)
	run, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { s.Serve(run); close(done) }()
	defer func() { stop(); <-done }()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	at := Loopback{Addr: l.Addr().String(), Path: "/callback"}
	l.Close()
	var calls atomic.Int32
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for b.Loop() {
		state, _, err := s.AddListening(ctx, Pending{PracticeName: "Acme"}, at, finisher(s, &calls, nil))
		if err != nil {
			b.Fatal(err)
		}
		resp, err := client.Get("http://" + at.Addr + "/callback?code=c&state=" + state)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatal(resp.Status)
		}
	}
}
