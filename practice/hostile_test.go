package practice

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
)

// hostileECW is a fakeECW whose FHIR answers are the test's: route maps a path under the base
// ("Observation", "Patient/pat-1") to a handler. Patient/pat-1 stays healthy unless routed, so a
// test can show the actor still answers after a hostile one.
func hostileECW(t *testing.T, routes map[string]http.HandlerFunc) *fakeECW {
	t.Helper()
	f := newFakeECW(t)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", f.token)
	mux.HandleFunc("GET /fhir/r4/TEST/", func(w http.ResponseWriter, r *http.Request) {
		if h := routes[strings.TrimPrefix(r.URL.Path, "/fhir/r4/TEST/")]; h != nil {
			h(w, r)
			return
		}
		f.fhir(w, r)
	})
	f.srv.Config.Handler = mux
	return f
}

// stillHealthy fails unless the actor answers a plain read and says it is ready.
func stillHealthy(t *testing.T, h *harness) {
	t.Helper()
	ctx := context.Background()
	if _, err := h.actor.Fetch(ctx, Request{Resource: "Patient", ID: "pat-1"}); err != nil {
		t.Fatalf("the actor no longer answers a plain read: %v", err)
	}
	hl, err := h.actor.Health(ctx)
	if err != nil || hl.State != StateReady || hl.Restarts != 0 {
		t.Fatalf("health after the hostile answer: %+v, %v", hl, err)
	}
}

// endless writes zeros until the client hangs up, through w (maybe a gzip stream), at about
// 32 MiB a second: far past any bound at once, yet without filling memory if a bound were gone.
func endless(w interface{ Write([]byte) (int, error) }, flush func()) {
	chunk := make([]byte, 32<<10)
	for {
		if _, err := w.Write(chunk); err != nil {
			return
		}
		flush()
		time.Sleep(time.Millisecond)
	}
}

// A body that never ends, plain or as a gzip stream that inflates without end (a gzip bomb), is
// cut at MaxBody. The timeout is long on purpose: were the body read without its bound, the
// request would end by timing out instead, and the test would fail on the error it checks.
func TestEndlessBodiesEndAtTheBound(t *testing.T) {
	t.Parallel()
	f := hostileECW(t, map[string]http.HandlerFunc{
		"Observation": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/fhir+json")
			endless(w, w.(http.Flusher).Flush)
		},
		"DocumentReference": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/fhir+json")
			w.Header().Set("Content-Encoding", "gzip")
			gz, _ := gzip.NewWriterLevel(w, gzip.BestCompression)
			endless(gz, func() { gz.Flush(); w.(http.Flusher).Flush() })
		},
	})
	h := startActor(t, f, time.Now().Add(time.Hour), func(o *Options) {
		o.MaxBody = 1 << 20
		o.RequestTimeout = 5 * time.Second
	})
	for _, resource := range []string{"Observation", "DocumentReference"} {
		_, err := h.actor.Fetch(context.Background(), Request{Resource: resource})
		if !errors.Is(err, errBodyTooLarge) || !strings.Contains(err.Error(), "larger than 1 MiB") {
			t.Fatalf("%s: err = %v, want the body bound", resource, err)
		}
	}
	stillHealthy(t, h)
}

// A body that trickles forever ends with the request timeout, which covers reading the body and
// not only waiting for headers. The handler ends its reply cleanly once the connection goes;
// that made the transport hand over a cut body as complete now and then, which
// TestCutBodyIsAnErrorEveryTime plays every time.
func TestTricklingBodyEndsWithTheTimeout(t *testing.T) {
	t.Parallel()
	f := hostileECW(t, map[string]http.HandlerFunc{
		"Observation": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/fhir+json")
			for {
				if _, err := w.Write([]byte(" ")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		},
	})
	trickling := make(chan struct{}, 1)
	h := startActor(t, f, time.Now().Add(time.Hour), func(o *Options) {
		c := *f.srv.Client()
		c.Transport = headersIn{next: c.Transport, got: trickling}
		o.HTTP = &c
		o.RequestTimeout = time.Second // the headers come; the body never ends
		o.MaxRetries = -1              // no retry: one timeout is the point
	})
	done := make(chan error, 1)
	go func() {
		_, err := h.actor.Fetch(context.Background(), Request{Resource: "Observation"})
		done <- err
	}()
	<-trickling
	h.clock.(*actor.Fake).Advance(time.Second) // the request's deadline, on the actor's clock
	if err := <-done; err == nil || !strings.Contains(err.Error(), "reading the practice's answer") {
		t.Fatalf("err = %v, want a read that timed out", err)
	}
	carriesOn(t, h)
}

// carriesOn fails unless the actor, after one failed request, still answers and is ready. It
// asks the actor's state rather than the network: a plain read would have to fit in the short
// request timeout these tests set, which a loaded machine does not promise.
func carriesOn(t *testing.T, h *harness) {
	t.Helper()
	hl, err := h.actor.Health(context.Background())
	if err != nil || hl.State != StateReady || hl.Restarts != 0 || hl.InFlight != 0 || hl.Failed != 1 {
		t.Fatalf("health after the failed read: %+v, %v", hl, err)
	}
}

// A body cut short is an error every time, never a 200 with part of a document. When the
// request's deadline passes mid-body, Go's transport usually reports the deadline, but now and
// then (1 run in 4 of TestTricklingBodyEndsWithTheTimeout) it hands over the bytes so far with
// a clean EOF: the server ended its reply as the connection was torn down. That race cannot be
// forced through a real connection, so here the transport plays its outcome every time: part of
// a document, then a clean EOF once the request's own context has ended (with and without a
// Content-Length), and a body that ends before its Content-Length with no deadline at all.
func TestCutBodyIsAnErrorEveryTime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		length        int64
		afterDeadline bool
		want          string
	}{
		{"content-length, clean EOF after the deadline", 4096, true, "did not arrive in full within"},
		{"chunked, clean EOF after the deadline", -1, true, "did not arrive in full within"},
		{"content-length, clean EOF before it", 4096, false, "ended after 10 of the 4096 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeECW(t)
			answered := make(chan struct{}, 1)
			h := startActor(t, f, time.Now().Add(time.Hour), func(o *Options) {
				c := *f.srv.Client()
				c.Transport = cutTransport{next: c.Transport, length: tc.length, afterDeadline: tc.afterDeadline, answered: answered}
				o.HTTP = &c
				o.RequestTimeout = 100 * time.Millisecond // the cut read ends with it
				o.MaxRetries = -1                         // one attempt: its outcome is the point
			})
			type result struct {
				resp *Response
				err  error
			}
			done := make(chan result, 1)
			go func() {
				resp, err := h.actor.Fetch(context.Background(), Request{Resource: "DocumentReference", ID: "doc-1"})
				done <- result{resp, err}
			}()
			<-answered
			if tc.afterDeadline {
				h.clock.(*actor.Fake).Advance(100 * time.Millisecond) // the deadline passes mid-body
			}
			r := <-done
			resp, err := r.resp, r.err
			if err == nil || !strings.Contains(err.Error(), "reading the practice's answer") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("a cut body gave %v, %+v; want an error saying %q", err, resp, tc.want)
			}
			carriesOn(t, h)
		})
	}
}

// headersIn tells got when an answer's headers are in, for FHIR reads and searches.
type headersIn struct {
	next http.RoundTripper
	got  chan struct{}
}

func (h headersIn) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := h.next.RoundTrip(req)
	if err == nil && !strings.HasSuffix(req.URL.Path, "/metadata") {
		h.got <- struct{}{}
	}
	return resp, err
}

// cutTransport answers Binary reads with the first bytes of a document and then a clean EOF:
// once the request's context has ended when afterDeadline, at once otherwise. length is the
// Content-Length it announces (-1: none, as a chunked reply). Everything else goes to next.
type cutTransport struct {
	next          http.RoundTripper
	length        int64
	afterDeadline bool
	answered      chan struct{} // told when the cut answer is handed over
}

func (c cutTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.Contains(req.URL.Path, "/DocumentReference/") {
		return c.next.RoundTrip(req)
	}
	var wait <-chan struct{}
	if c.afterDeadline {
		wait = req.Context().Done()
	}
	c.answered <- struct{}{}
	return &http.Response{
		StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/pdf"}},
		ContentLength: c.length,
		Body:          &cutBody{part: []byte("%PDF-1.7\n%"), wait: wait},
		Request:       req,
	}, nil
}

type cutBody struct {
	part []byte
	wait <-chan struct{}
}

func (b *cutBody) Read(p []byte) (int, error) {
	if len(b.part) > 0 {
		n := copy(p, b.part)
		b.part = b.part[n:]
		return n, nil
	}
	if b.wait != nil {
		<-b.wait
	}
	return 0, io.EOF
}

func (b *cutBody) Close() error { return nil }

// Headers without end are refused by the client's header bound, and the actor carries on.
// cmd/healow's newHTTPClient sets that bound; TestHTTPClientBoundsHeaders there proves it does.
func TestHugeHeaderIsAClearError(t *testing.T) {
	t.Parallel()
	f := hostileECW(t, map[string]http.HandlerFunc{
		"Observation": func(w http.ResponseWriter, r *http.Request) {
			for i := range 64 {
				w.Header().Set(fmt.Sprintf("X-Filler-%d", i), strings.Repeat("a", 8<<10))
			}
			w.WriteHeader(http.StatusOK)
		},
	})
	h := startActor(t, f, time.Now().Add(time.Hour), func(o *Options) {
		c := *f.srv.Client()
		tr := c.Transport.(*http.Transport).Clone()
		tr.MaxResponseHeaderBytes = 64 << 10
		c.Transport = tr
		o.HTTP = &c
		o.MaxRetries = -1
	})
	_, err := h.actor.Fetch(context.Background(), Request{Resource: "Observation"})
	if err == nil || !strings.Contains(err.Error(), "reaching the practice") || !strings.Contains(err.Error(), "exceeded") {
		t.Fatalf("err = %v", err)
	}
	if _, err := h.actor.Fetch(context.Background(), Request{Resource: "Patient", ID: "pat-1"}); err != nil {
		t.Fatalf("the actor no longer answers: %v", err)
	}
}

// A practice that echoes the request's Authorization header into its OperationOutcome, as some
// error pages do, gets the token nowhere: not into the error a caller sees, not into Health.
func TestEchoedAuthorizationNeverReachesAnError(t *testing.T) {
	t.Parallel()
	echo := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/fhir+json")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"security","diagnostics":%q}]}`,
				"rejected Authorization: "+r.Header.Get("Authorization")+"\r\n(access_token="+strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")+")")
		}
	}
	f := hostileECW(t, map[string]http.HandlerFunc{"Observation": echo(http.StatusBadRequest), "Condition": echo(http.StatusUnauthorized)})
	h := startActor(t, f, time.Now().Add(time.Hour), nil)
	for _, resource := range []string{"Observation", "Condition"} {
		_, err := h.actor.Fetch(context.Background(), Request{Resource: resource})
		if err == nil || !strings.Contains(err.Error(), "rejected Authorization") {
			t.Fatalf("%s: err = %v, want the practice's words", resource, err)
		}
		hl, _ := h.actor.Health(context.Background())
		for _, text := range []string{err.Error(), hl.LastError} {
			for _, tok := range []string{"access-0", "access-1", "access-2"} {
				if strings.Contains(text, tok) {
					t.Fatalf("%s: %q carries the access token %s", resource, text, tok)
				}
			}
		}
	}
	if f.tokenCalls.Load() == 0 {
		t.Fatal("the 401 did not lead to a refresh, so the second token was never echoed")
	}
}

func TestDescribeOutcomeRedactsCredentials(t *testing.T) {
	t.Parallel()
	outcome := func(words string) []byte {
		return fmt.Appendf(nil, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"security","diagnostics":%q}]}`, words)
	}
	for _, tc := range []struct{ words, want string }{
		{"Authorization: Bearer eyJ0.eyJ1.sig was rejected", "error security: Authorization: Bearer [redacted] was rejected"},
		{"bearer\r\nabc-123 expired", "error security: bearer  [redacted] expired"},
		{"Authorization: Basic Y2xpZW50OnNlY3JldA==", "error security: Authorization: Basic [redacted]"},
		{"GET /Patient?access_token=abc&x=1", "error security: GET /Patient?access_token=[redacted]&x=1"},
		{`{"refresh_token": "rt-1"}`, `error security: {"refresh_token": "[redacted]"}`},
		{"no basic metabolic panel on file", "error security: no basic metabolic panel on file"},
		{"token tok-SECRET-1 is not known", "error security: token [redacted] is not known"},
	} {
		if got := describeOutcome(outcome(tc.words), "tok-SECRET-1"); got != tc.want {
			t.Errorf("describeOutcome(%q) = %q, want %q", tc.words, got, tc.want)
		}
	}
}
