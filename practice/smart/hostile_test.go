package smart

import (
	"compress/gzip"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A token endpoint that answers with a redirect is not followed: the form with the code or
// refresh token would go along on a 307 or 308, to any host.
func TestTokenEndpointRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	t.Cleanup(other.Close)
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		for _, to := range []string{other.URL + "/steal", "/oauth/oauth2/other"} {
			var here atomic.Int32
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if here.Add(1) == 1 {
					http.Redirect(w, r, to, status)
				}
			}))
			c := &Client{HTTP: srv.Client(), ClientID: testClientID, ClientSecret: testClientSecret, RedirectURI: testRedirect, Hosts: localHosts}
			cfg := &Config{TokenEndpoint: srv.URL + "/oauth/oauth2/token"}
			_, err := c.Refresh(context.Background(), cfg, testRefresh)
			srv.Close()
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("redirect (HTTP %d)", status)) {
				t.Errorf("%d to %s: err = %v", status, to, err)
			}
			if n := here.Load(); n != 1 {
				t.Errorf("%d to %s: the token endpoint's host saw %d requests, want 1", status, to, n)
			}
		}
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("a redirect was followed to another host %d times", n)
	}
}

// A smart-configuration fetched over https is never taken from a redirect to plain http, where
// anyone on the way could name their own token endpoint and collect the client secret.
func TestDiscoveryRefusesARedirectToHTTP(t *testing.T) {
	t.Parallel()
	var plainHits atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainHits.Add(1)
		fmt.Fprint(w, `{"authorization_endpoint":"https://evil.example/a","token_endpoint":"https://evil.example/t","code_challenge_methods_supported":["S256"]}`)
	}))
	t.Cleanup(plain.Close)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+r.URL.Path, http.StatusMovedPermanently)
	}))
	t.Cleanup(srv.Close)
	_, err := Discover(context.Background(), srv.Client(), srv.URL+"/fhir/r4/FEIGCD")
	if err == nil || !strings.Contains(err.Error(), "http://") || !strings.Contains(err.Error(), "clear text") {
		t.Fatalf("err = %v", err)
	}
	if plainHits.Load() != 0 {
		t.Fatal("the plain-http redirect was followed")
	}
}

// A server that echoes the whole request into its error, Authorization header and form body
// included, gets none of the secrets into the error message: not the client secret, raw or
// as the base64 of HTTP Basic, nor the code, verifier or refresh token.
func TestEchoedTokenRequestNeverReachesAnError(t *testing.T) {
	t.Parallel()
	basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(testClientID) + ":" + url.QueryEscape(testClientSecret)))
	for _, tc := range []struct {
		status      int
		contentType string
		json        bool
	}{
		{http.StatusBadRequest, "application/json", true},
		{http.StatusUnauthorized, "application/json", true},
		{http.StatusBadRequest, "text/plain", false},
		{http.StatusInternalServerError, "application/json", true},
	} {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			echo := "Authorization: " + r.Header.Get("Authorization") + "\n" + string(body)
			w.Header().Set("Content-Type", tc.contentType)
			w.WriteHeader(tc.status)
			if tc.json {
				fmt.Fprintf(w, `{"error":"access_denied","error_description":%q}`, echo)
			} else {
				fmt.Fprint(w, echo)
			}
		}))
		c := &Client{HTTP: srv.Client(), ClientID: testClientID, ClientSecret: testClientSecret, RedirectURI: testRedirect, Hosts: localHosts}
		cfg := &Config{TokenEndpoint: srv.URL + "/oauth/oauth2/token"}
		_, errX := c.Exchange(context.Background(), cfg, testCode, testVerifier)
		_, errR := c.Refresh(context.Background(), cfg, testRefresh)
		srv.Close()
		for _, err := range []error{errX, errR} {
			if err == nil {
				t.Fatalf("HTTP %d: no error", tc.status)
			}
			for _, s := range append(allSecrets, basic, url.QueryEscape(testVerifier)) {
				if strings.Contains(err.Error(), s) {
					t.Errorf("HTTP %d %s: the error %q carries %q", tc.status, tc.contentType, err, s)
				}
			}
		}
	}
}

// endlessBody answers 200 with zeros until the client hangs up, gzipped when gz is set.
func endlessBody(gz bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var out io.Writer = w
		flush := w.(http.Flusher).Flush
		if gz {
			w.Header().Set("Content-Encoding", "gzip")
			z := gzip.NewWriter(w)
			out, flush = z, func() { z.Flush(); w.(http.Flusher).Flush() }
		}
		chunk := []byte(strings.Repeat(" ", 32<<10))
		for {
			if _, err := out.Write(chunk); err != nil {
				return
			}
			flush()
			time.Sleep(time.Millisecond) // about 32 MiB a second: past the bound at once
		}
	}
}

// A discovery document or token answer without end, plain or as a gzip stream that inflates
// without end, stops at the bound with an error that says so. The deadline only keeps a missing
// bound from hanging the test.
func TestEndlessAnswersStopAtTheBound(t *testing.T) {
	t.Parallel()
	for _, gz := range []bool{false, true} {
		srv := httptest.NewTLSServer(endlessBody(gz))
		// Only a backstop: the bound ends each read long before it, even on a loaded machine.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_, errD := Discover(ctx, srv.Client(), srv.URL+"/fhir/r4/FEIGCD")
		c := &Client{HTTP: srv.Client(), ClientID: testClientID, ClientSecret: testClientSecret, RedirectURI: testRedirect, Hosts: localHosts}
		_, errT := c.Refresh(ctx, &Config{TokenEndpoint: srv.URL + "/token"}, testRefresh)
		cancel()
		srv.Close()
		for _, err := range []error{errD, errT} {
			if err == nil || !strings.Contains(err.Error(), "larger than") {
				t.Errorf("gzip %v: err = %v, want the body bound", gz, err)
			}
		}
	}
}
