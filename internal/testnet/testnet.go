// Package testnet lets tests give httptest servers host names. Every httptest TLS server shares
// one certificate, valid for example.com and *.example.com, so a client that dials
// "fhir.example.com" to one server and "evil.example.com" to another verifies both, and a test
// can tell hosts apart where the address (127.0.0.1 for all of them) cannot.
package testnet

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
)

// Names maps host names to the addresses of local servers.
type Names struct {
	mu    sync.Mutex
	addrs map[string]string // host name → "127.0.0.1:port"
}

// Set makes host (such as "evil.example.com") reach the server listening at addr.
func (n *Names) Set(host, addr string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.addrs == nil {
		n.addrs = map[string]string{}
	}
	n.addrs[strings.ToLower(host)] = addr
}

// Client returns a client like c (an httptest server's Client, which trusts the test
// certificate) whose connections to the names set here go to their servers. Other hosts are
// dialed as usual.
func (n *Names) Client(c *http.Client) *http.Client {
	t := c.Transport.(*http.Transport).Clone()
	var d net.Dialer
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		n.mu.Lock()
		to, ok := n.addrs[strings.ToLower(host)]
		n.mu.Unlock()
		if ok {
			addr = to
		}
		return d.DialContext(ctx, network, addr)
	}
	cc := *c
	cc.Transport = t
	return &cc
}
