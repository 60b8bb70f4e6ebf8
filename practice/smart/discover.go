package smart

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxBody bounds every response body this package reads, so a misbehaving
// server cannot make the process buffer without limit.
const maxBody = 1 << 20

// Discover fetches {fhirBase}/.well-known/smart-configuration and parses it
// with ParseConfig. fhirBase must be an absolute https URL without query or
// fragment (a trailing slash is tolerated). hc carries the TLS trust and
// timeouts; nil means http.DefaultClient.
func Discover(ctx context.Context, hc *http.Client, fhirBase string) (*Config, error) {
	base, err := NormalizeBase(fhirBase)
	if err != nil {
		return nil, err
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	hc = httpsRedirectsOnly(hc)
	endpoint := base + "/.well-known/smart-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("building the discovery request for %s: %w", endpoint, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching %s failed (%w): check the address and your network connection", endpoint, err)
	}
	defer resp.Body.Close()
	body, err := readBounded(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		// eCW answers 400 at a host root and only serves the document under
		// a practice path, so the likeliest cause is a base without the code.
		return nil, fmt.Errorf("fetching %s answered HTTP %d: check that the FHIR base URL includes the practice code, e.g. https://fhir4.healow.com/fhir/r4/FEIGCD", endpoint, resp.StatusCode)
	}
	cfg, err := ParseConfig(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", endpoint, err)
	}
	return cfg, nil
}

// readBounded reads at most maxBody bytes and fails, rather than silently
// truncating, when there is more.
func readBounded(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading the response body: %w", err)
	}
	if len(b) > maxBody {
		return nil, fmt.Errorf("the response body is larger than %d bytes, which no SMART server should send", maxBody)
	}
	return b, nil
}

// httpsRedirectsOnly returns a client like hc that follows a redirect only to an https URL on
// the same host. The document names the endpoints that receive the client secret and the
// tokens; fetched over plain http, anyone on the way could name their own, and fetched from
// another host, that host would, while the user allowed only the practice's.
func httpsRedirectsOnly(hc *http.Client) *http.Client {
	c := *hc
	next := hc.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if _, err := checkHTTPSURL(req.URL.String()); err != nil {
			return fmt.Errorf("refusing the redirect to %s: %w", req.URL.Redacted(), err)
		}
		if from := via[0].URL; !sameHost(req.URL, from) {
			return fmt.Errorf("refusing the redirect from %s to another host, %s: the practice's SMART configuration is "+
				"read only from its own FHIR server; report it to the practice", from.Host, req.URL.Host)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 5 {
			return errors.New("stopped after 5 redirects")
		}
		return nil
	}
	return &c
}

// sameHost compares host names the way DNS does: without case or a trailing dot. The port may
// differ; what the user allows is a host.
func sameHost(a, b *url.URL) bool {
	name := func(u *url.URL) string { return strings.TrimSuffix(u.Hostname(), ".") }
	return strings.EqualFold(name(a), name(b))
}
