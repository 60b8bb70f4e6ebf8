package sandbox

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func TestFaultRateLimitIsAWallClockMinuteBucket(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := startSandbox(t, Options{Now: clk.Now})
	p := practice0(t, s, 0)
	tok := connect(t, s, p, testScopes)
	s.SetFaults(p.Code, Faults{RateLimit: 3})
	u := p.BaseURL + "/Patient/" + p.PatientID
	for i := range 3 {
		if status, _, _ := fhirGet(t, s, u, tok.AccessToken, ""); status != http.StatusOK {
			t.Fatalf("request %d: %d", i, status)
		}
	}
	status, _, hdr := fhirGet(t, s, u, tok.AccessToken, "")
	if status != http.StatusTooManyRequests || hdr.Get("Retry-After") != "" {
		t.Fatalf("over the limit: %d, Retry-After %q", status, hdr.Get("Retry-After"))
	}
	// Token requests count too, and a 429 does not burn a single-use refresh token.
	if status, _ := refreshWith(t, s, tok.RefreshToken); status != http.StatusTooManyRequests {
		t.Fatalf("refresh over the limit: %d", status)
	}
	clk.Advance(time.Minute)
	if status, _ := refreshWith(t, s, tok.RefreshToken); status != http.StatusOK {
		t.Fatalf("refresh in the next minute: %d", status)
	}
	if s.Stats().RateLimited != 2 {
		t.Fatalf("stats: %+v", s.Stats())
	}
}

func TestFaultBurstOf5xxPasses(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	p := practice0(t, s, 0)
	tok := connect(t, s, p, testScopes)
	s.SetFaults(p.Code, Faults{FailNext: 2})
	u := p.BaseURL + "/Patient/" + p.PatientID
	for _, want := range []int{500, 500, 200} {
		if status, _, _ := fhirGet(t, s, u, tok.AccessToken, ""); status != want {
			t.Fatalf("status %d, want %d", status, want)
		}
	}
}

func TestFaultShortTokenLifetime(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	p := practice0(t, s, 0)
	s.SetFaults(p.Code, Faults{AccessTokenTTL: 2 * time.Second})
	if tok := connect(t, s, p, testScopes); tok.ExpiresIn != 2 {
		t.Fatalf("expires_in %d", tok.ExpiresIn)
	}
}

func TestFaultsThatBreakTheConnection(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	p := practice0(t, s, 0)
	tok := connect(t, s, p, testScopes)
	u := p.BaseURL + "/Patient/" + p.PatientID
	for name, f := range map[string]Faults{
		"reset":   {ResetConnections: true},
		"hang":    {Hang: true},
		"latency": {Latency: time.Minute},
	} {
		s.SetFaults(p.Code, f)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := s.HTTPClient().Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			t.Fatalf("%s: got an answer %d", name, resp.StatusCode)
		}
	}
	s.SetFaults(p.Code, Faults{Latency: 20 * time.Millisecond})
	start := time.Now()
	if status, _, _ := fhirGet(t, s, u, tok.AccessToken, ""); status != http.StatusOK || time.Since(start) < 20*time.Millisecond {
		t.Fatalf("latency fault: %d after %v", status, time.Since(start))
	}
}
