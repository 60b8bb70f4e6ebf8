package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/practice/directory"
	"github.com/healow-mcp/healow-mcp/practice/egress"
)

var sandboxHelp = &help{
	name:     "sandbox",
	synopsis: "run the built-in eClinicalWorks stand-in: HTTPS, synthetic patients",
	usage:    "healow sandbox --ca-file FILE [--addr HOST:PORT] [--token-ttl DURATION] [--fault CODE=FAULT]...",
	about: "It prints each practice's code and FHIR base URL on stdout, and on stderr what to export so " +
		"that healow trusts it (SSL_CERT_FILE), sends it tokens (HEALOW_ALLOWED_HOSTS) and finds its " +
		"practices in its directory (HEALOW_DIRECTORY_URL). It accepts the " +
		"app that HEALOW_CLIENT_ID, HEALOW_CLIENT_SECRET and HEALOW_REDIRECT_URI name, each defaulting to " +
		"the sandbox's own, and runs until interrupted.",
	example: "healow sandbox --ca-file /tmp/sandbox-ca.pem --fault AACJCD=rate-limited",
	env:     []string{"HEALOW_CLIENT_ID", "HEALOW_CLIENT_SECRET", "HEALOW_REDIRECT_URI"},
}

// runSandbox serves the built-in eClinicalWorks stand-in until stopped. Its OAuth client is the
// one in HEALOW_CLIENT_ID, HEALOW_CLIENT_SECRET and HEALOW_REDIRECT_URI when they are set, so one
// shell's exports serve both sides.
func runSandbox(ctx context.Context, args []string) error {
	fs := sandboxHelp.flags()
	addr := fs.String("addr", "127.0.0.1:8443", "the `HOST:PORT` to listen on")
	caFile := fs.String("ca-file", "", "the `FILE` to write the sandbox's CA certificate in; point SSL_CERT_FILE at it")
	ttl := fs.Duration("token-ttl", time.Hour, "how long the sandbox's access tokens live (short ones exercise refreshing)")
	faults := map[string]sandbox.Faults{}
	fs.Func("fault", "make a practice misbehave, as `CODE=FAULT` (repeatable); FAULT is one of "+strings.Join(slices.Sorted(maps.Keys(faultNames)), ", "),
		func(v string) error {
			code, name, _ := strings.Cut(v, "=")
			set, ok := faultNames[name]
			if code == "" || !ok {
				return fmt.Errorf("want CODE=FAULT, FAULT one of %s", strings.Join(slices.Sorted(maps.Keys(faultNames)), ", "))
			}
			f := faults[code]
			set(&f)
			faults[code] = f
			return nil
		})
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *caFile == "" || fs.NArg() > 0 {
		return fs.usageError()
	}
	client := sandbox.ClientFromEnv()
	if *ttl < time.Second {
		return errors.New("--token-ttl: at least 1s (expires_in is in whole seconds)")
	}
	s, err := sandbox.Start(sandbox.Options{Addr: *addr, Client: client, AccessTokenTTL: *ttl})
	if err != nil {
		return err
	}
	defer s.Close()
	for code, f := range faults {
		if !slices.ContainsFunc(s.Practices(), func(p sandbox.Practice) bool { return p.Code == code }) {
			return fmt.Errorf("--fault: the sandbox has no practice %s", code)
		}
		s.SetFaults(code, f)
	}
	if err := os.WriteFile(*caFile, s.CACertPEM(), 0o644); err != nil {
		return fmt.Errorf("writing the CA certificate: %w", err)
	}
	fmt.Fprintf(os.Stderr, "sandbox listening on %s; client id %q, redirect URI %s\n", s.URL(), client.ID, client.RedirectURIs[0])
	fmt.Fprintf(os.Stderr, "trust it with: export SSL_CERT_FILE=%s\n", *caFile)
	// healow sends tokens and the client secret to a server on this machine only when it is listed.
	fmt.Fprintf(os.Stderr, "allow it with: export %s=%s\n", egress.EnvVar, s.Host())
	fmt.Fprintf(os.Stderr, "find its practices with: export %s=%s\n", directory.EnvURL, s.DirectoryURL())
	for _, p := range s.Practices() {
		fmt.Printf("%s %s\n", p.Code, p.BaseURL)
	}
	<-ctx.Done()
	return nil
}

// faultNames are the faults --fault can set, named the way a person describes a sick practice.
var faultNames = map[string]func(*sandbox.Faults){
	"rate-limited":   func(f *sandbox.Faults) { f.TooManyRequests = true },    // every FHIR request answers 429
	"revoke-refresh": func(f *sandbox.Faults) { f.RevokeRefresh = true },      // every refresh answers invalid_grant
	"unavailable":    func(f *sandbox.Faults) { f.Unavailable = true },        // every FHIR request answers 503
	"reject-access":  func(f *sandbox.Faults) { f.RejectAccess = true },       // every FHIR request answers 401
	"deny-consent":   func(f *sandbox.Faults) { f.DenyConsent = true },        // the patient refuses consent
	"not-activated":  func(f *sandbox.Faults) { f.NotActivated = true },       // the practice has not enabled the app
	"slow":           func(f *sandbox.Faults) { f.Latency = 2 * time.Second }, // every FHIR request takes 2s
	// the practice does not list client-public and refuses a client without a secret
	"confidential-only": func(f *sandbox.Faults) { f.ConfidentialOnly = true },
}
