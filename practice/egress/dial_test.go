package egress

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// listen accepts connections on 127.0.0.1 and counts them.
func listen(t *testing.T) (port string, accepted *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	accepted = &atomic.Int32{}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	_, port, _ = net.SplitHostPort(l.Addr().String())
	return port, accepted
}

// A name that resolves to loopback (localhost here) and a loopback address are refused unless
// listed, before any connection is made; listing the name or the address lets them through.
func TestDialRefusesLoopbackUnlessListed(t *testing.T) {
	t.Parallel()
	port, accepted := listen(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var none *Policy
	for _, host := range []string{"localhost", "127.0.0.1", "::ffff:127.0.0.1"} {
		c, err := none.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
		if err == nil {
			c.Close()
			t.Fatalf("%s: connected", host)
		}
		if !errors.Is(err, ErrNotAllowed) || !strings.Contains(err.Error(), "loopback") || !strings.Contains(err.Error(), EnvVar) {
			t.Fatalf("%s: %v, want a refusal that says loopback and %s", host, err, EnvVar)
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Fatalf("%d connections reached the listener", n)
	}
	for _, list := range []string{"localhost", "127.0.0.1"} {
		p, err := Parse(list)
		if err != nil {
			t.Fatal(err)
		}
		host := "localhost"
		if list == "127.0.0.1" {
			host = "127.0.0.1"
		}
		c, err := p.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
		if err != nil {
			t.Fatalf("listed %s: %v", list, err)
		}
		c.Close()
	}
	// Listing the address also lets a name that resolves to it through.
	p, _ := Parse("127.0.0.1")
	c, err := p.DialContext(ctx, "tcp4", net.JoinHostPort("localhost", port))
	if err != nil {
		t.Fatalf("localhost with 127.0.0.1 listed: %v", err)
	}
	c.Close()
}

// Cloud metadata is refused by address and by name, without a connection or a lookup.
func TestDialRefusesMetadata(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var none *Policy
	for _, addr := range []string{"169.254.169.254:80", "[fd00:ec2::254]:80", "[::ffff:169.254.169.254]:80", "metadata.google.internal:80", "Metadata.Google.Internal.:80"} {
		c, err := none.DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			t.Fatalf("%s: connected", addr)
		}
		if !errors.Is(err, ErrNotAllowed) || !strings.Contains(err.Error(), "metadata") {
			t.Fatalf("%s: %v, want a refusal naming the metadata service", addr, err)
		}
	}
}

func TestInternal(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		"127.0.0.1": "loopback", "127.9.9.9": "loopback", "::1": "loopback", "::ffff:127.0.0.1": "loopback",
		"169.254.1.1": "link-local", "fe80::1": "link-local",
		"10.0.0.1": "private network", "172.16.0.1": "private network", "172.31.255.255": "private network",
		"192.168.1.1": "private network", "fc00::1": "private network", "fd12::1": "private network",
		"100.64.0.1": "private network", "100.127.255.255": "private network", "fec0::1": "private network",
		"::ffff:10.0.0.1": "private network",
		"0.0.0.0":         "unspecified", "::": "unspecified", "0.1.2.3": "unspecified",
		"169.254.169.254": "cloud metadata", "fd00:ec2::254": "cloud metadata",
		"224.0.0.1": "link-local", "239.1.1.1": "multicast",
		"8.8.8.8": "", "172.32.0.1": "", "100.128.0.1": "", "2606:4700::1111": "", "192.0.2.1": "",
	} {
		if got := internal(netip.MustParseAddr(addr)); got != want {
			t.Errorf("internal(%s) = %q, want %q", addr, got, want)
		}
	}
}
