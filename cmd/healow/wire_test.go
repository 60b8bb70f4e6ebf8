package main

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
	c := newHTTPClient(roots)
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
