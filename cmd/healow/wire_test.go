package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/healow-mcp/healow-mcp/practice/egress"
)

// The client every practice and OAuth request goes through refuses headers without end, well
// before Go's default of 10 MiB, and still talks to a practice with ordinary headers.
func TestHTTPClientBoundsHeaders(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/huge" {
			for i := range 128 { // 1 MiB
				w.Header().Set(fmt.Sprintf("X-Filler-%d", i), strings.Repeat("a", 8<<10))
			}
		}
		w.Header().Set("Set-Cookie", "lb="+strings.Repeat("b", 4<<10)) // a load balancer's, say
	}))
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	local, _ := egress.Parse("127.0.0.1")
	c := newHTTPClient(roots, local)
	resp, err := c.Get(srv.URL + "/huge")
	if err == nil {
		resp.Body.Close()
		t.Fatal("a 1 MiB header was read")
	}
	if !strings.Contains(err.Error(), "exceeded") {
		t.Fatalf("err = %v", err)
	}
	resp, err = c.Get(srv.URL + "/ordinary")
	if err != nil {
		t.Fatalf("ordinary headers: %v", err)
	}
	resp.Body.Close()
}

// The one client the binary uses connects to this machine, its network and the cloud metadata
// service only for hosts the user listed: a name that resolves to 127.0.0.1 (localhost) and
// 127.0.0.1 itself are refused, with the sentence, before any connection; listing either lets
// it through.
func TestHTTPClientRefusesInternalAddresses(t *testing.T) {
	t.Parallel()
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the listed localhost fails TLS: its certificate has no such name
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	get := func(c *http.Client, u string) error {
		resp, err := c.Get(u)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	strict := newHTTPClient(roots, nil)
	for _, u := range []string{"https://127.0.0.1:" + port + "/", "https://localhost:" + port + "/", "https://[::ffff:127.0.0.1]:" + port + "/",
		"https://169.254.169.254/latest/meta-data/", "https://metadata.google.internal/"} {
		err := get(strict, u)
		if !errors.Is(err, egress.ErrNotAllowed) || !strings.Contains(err.Error(), "HEALOW_ALLOWED_HOSTS") {
			t.Fatalf("%s: %v, want the refusal", u, err)
		}
	}
	if n := conns.Load(); n != 0 {
		t.Fatalf("%d connections reached the server", n)
	}
	for _, list := range []string{"127.0.0.1", "localhost"} {
		hosts, err := egress.Parse(list)
		if err != nil {
			t.Fatal(err)
		}
		err = get(newHTTPClient(roots, hosts), "https://"+list+":"+port+"/")
		if errors.Is(err, egress.ErrNotAllowed) || conns.Load() == 0 {
			t.Fatalf("listed %s: %v after %d connections", list, err, conns.Load())
		}
	}
}

// A bundle host may pass a setting the user left empty as its unexpanded template; healow reads
// that as unset (a public client), never as a secret to send.
func TestSettingsLeftAsTemplatesAreUnset(t *testing.T) {
	t.Setenv("HEALOW_CLIENT_ID", "app-1")
	t.Setenv("HEALOW_CLIENT_SECRET", "${user_config.client_secret}")
	t.Setenv("HEALOW_REDIRECT_URI", "http://127.0.0.1:8765/callback")
	t.Setenv("HEALOW_ALLOWED_HOSTS", "")
	c, err := clientFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if c.id != "app-1" || c.secret != "" || c.redirectURI != "http://127.0.0.1:8765/callback" {
		t.Fatalf("client = %q, %q, %q", c.id, c.secret, c.redirectURI)
	}
	t.Setenv("HEALOW_CLIENT_ID", "${user_config.client_id}")
	if _, err := clientFromEnv(); err == nil {
		t.Fatal("a client id left as its template was taken as set")
	}
	t.Setenv("HEALOW_CLIENT_ID", "app-1")
	t.Setenv("HEALOW_CLIENT_SECRET", "s3cret")
	if c, _ := clientFromEnv(); c.secret != "s3cret" {
		t.Fatalf("secret = %q", c.secret)
	}
}
