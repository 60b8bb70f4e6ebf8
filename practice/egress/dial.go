package egress

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"syscall"
	"time"
)

// Addresses that are not on the public internet. A practice's server is; a model that names
// one of these, or a name that resolves to one, is reaching for this machine, its network or a
// cloud's metadata service (which hands out credentials).
var (
	cgnat       = netip.MustParsePrefix("100.64.0.0/10")
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")
	siteLocal   = netip.MustParsePrefix("fec0::/10")
	metadataIPs = []netip.Addr{netip.MustParseAddr("169.254.169.254"), netip.MustParseAddr("fd00:ec2::254")}
	// metadataNames resolve to a metadata service inside a cloud; refused by name, before any
	// lookup, so that a resolver that answers differently cannot matter.
	metadataNames = []string{"metadata.google.internal", "metadata"}
)

// internal says what kind of non-public address ip is, or "" when it is a public one.
func internal(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case slices.Contains(metadataIPs, ip.WithZone("")):
		return "cloud metadata"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast():
		return "link-local"
	case ip.IsPrivate(), cgnat.Contains(ip), siteLocal.Contains(ip):
		return "private network"
	case ip.IsUnspecified(), thisNetwork.Contains(ip):
		return "unspecified"
	case ip.IsMulticast():
		return "multicast"
	}
	return ""
}

// dialer is what DialContext copies for each connection: the timeouts of Go's default
// transport.
var dialer = net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}

// DialContext connects like net.Dialer, but refuses loopback, link-local, private, CGNAT,
// unspecified, multicast and cloud metadata addresses (IPv4-mapped forms included) unless the
// user listed the host as it is named in addr, or the address itself. The check runs on each
// address the dialer is about to connect to, after name resolution, so a name that resolves to
// a public address when it is checked and to an internal one when it is used (DNS rebinding)
// gains nothing. Use it as an http.Transport's DialContext.
func (p *Policy) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dialing %q: %w", addr, err)
	}
	if p.Listed(host) {
		return dialer.DialContext(ctx, network, addr)
	}
	if c, ok := canonical(host); ok && slices.Contains(metadataNames, c) {
		return nil, &refusal{fmt.Sprintf("refusing to connect to %s, a cloud metadata service; add it to %s only if you mean it", host, EnvVar)}
	}
	d := dialer
	d.Control = func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return &refusal{fmt.Sprintf("refusing to connect to %s: %q is not an address healow can check", host, address)}
		}
		ip := ap.Addr().WithZone("").Unmap()
		if p.Listed(ip.String()) {
			return nil
		}
		if kind := internal(ip); kind != "" {
			what := host
			if what != ip.String() {
				what = fmt.Sprintf("%s (%s)", host, ip)
			}
			return &refusal{fmt.Sprintf("refusing to connect to %s, a %s address: healow reaches such addresses only for hosts "+
				"listed in %s; add %s there if you trust it", what, kind, EnvVar, host)}
		}
		return nil
	}
	return d.DialContext(ctx, network, addr)
}
