package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/advice"
	"github.com/healow-mcp/healow-mcp/internal/version"
	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/practice/directory"
	"github.com/healow-mcp/healow-mcp/practice/egress"
	"github.com/healow-mcp/healow-mcp/practice/smart"
	"github.com/healow-mcp/healow-mcp/supervisor"
	"github.com/healow-mcp/healow-mcp/vault"
)

// client is the app's registration, and where its secret and tokens may go, from the
// environment.
type client struct {
	id, secret, redirectURI string
	hosts                   *egress.Policy  // nil: eClinicalWorks' servers only
	listen                  *smart.Loopback // where sign-ins listen for their redirect; nil: pasted
}

func clientFromEnv() (client, error) {
	c := client{
		id:          setting("HEALOW_CLIENT_ID"),
		secret:      setting("HEALOW_CLIENT_SECRET"),
		redirectURI: setting("HEALOW_REDIRECT_URI"),
	}
	// The secret is optional: without it healow is a public client, which a practice accepts when
	// its smart-configuration lists client-public (eClinicalWorks' do); connecting one that does
	// not says to set the secret.
	var missing []string
	for _, v := range []struct{ name, value string }{
		{"HEALOW_CLIENT_ID", c.id}, {"HEALOW_REDIRECT_URI", c.redirectURI},
	} {
		if v.value == "" {
			missing = append(missing, v.name)
		}
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("set %s: the app's registration with eClinicalWorks (for the sandbox, see the README)", strings.Join(missing, ", "))
	}
	var err error
	if c.listen, err = listenFromEnv(c.redirectURI); err != nil {
		return c, err
	}
	c.hosts, err = hostsFromEnv()
	return c, err
}

// setting reads one of the app's settings from the environment. An MCP bundle's host fills
// them from the settings the user gave; some hosts pass a setting left empty as its template,
// "${user_config.client_secret}", instead of an empty string, and that is no secret.
func setting(name string) string {
	v := os.Getenv(name)
	if strings.HasPrefix(v, "${user_config.") && strings.HasSuffix(v, "}") {
		return ""
	}
	return v
}

// hostsFromEnv reads HEALOW_ALLOWED_HOSTS, the hosts besides eClinicalWorks' that may receive
// the client secret and tokens. A malformed list stops healow: guessing what it meant could
// allow what its author did not.
func hostsFromEnv() (*egress.Policy, error) {
	return egress.Parse(os.Getenv(egress.EnvVar))
}

// maxResponseHeaderBytes bounds the headers of one answer from a practice or its OAuth server.
const maxResponseHeaderBytes = 64 << 10

// newHTTPClient verifies TLS always. roots nil means the system's, which honours SSL_CERT_FILE.
// It connects to loopback, private, link-local and metadata addresses only for the hosts listed
// in hosts, checking each address as it dials (see egress.Policy.DialContext).
func newHTTPClient(roots *x509.CertPool, hosts *egress.Policy) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = hosts.DialContext
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}
	t.ResponseHeaderTimeout = 30 * time.Second
	// Bodies are bounded where they are read; headers only here. Go's default lets a server
	// send 10 MiB of them per answer, held in memory, and eCW's are a few hundred bytes.
	t.MaxResponseHeaderBytes = maxResponseHeaderBytes
	// Concurrent calls to one practice reuse their connections instead of paying a TLS
	// handshake each (the default keeps two idle connections per host).
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: t, Timeout: 60 * time.Second}
}

// app is everything serve and demo share.
type app struct {
	Tree      *supervisor.Tree
	Connector *practice.Connector
}

// newConnector runs SMART launches as the registered client; serve, demo and connect share it.
func newConnector(c client, store *vault.Store, secrets vault.Secrets, hc *http.Client) *practice.Connector {
	oauth := &smart.Client{HTTP: hc, ClientID: c.id, ClientSecret: c.secret, RedirectURI: c.redirectURI, Hosts: c.hosts}
	return &practice.Connector{Store: store, Secrets: secrets, OAuth: oauth, States: smart.NewStates(nil), Listen: c.listen}
}

// newApp wires the tree. statusDir, when set, is where the server answers healow status; dir,
// when set, is the practice directory find_practice searches.
func newApp(c client, store *vault.Store, secrets vault.Secrets, hc *http.Client, tuning practice.Options, log *slog.Logger, statusDir string, dir *directory.Directory) app {
	conn := newConnector(c, store, secrets, hc)
	po := tuning
	po.Store, po.Secrets, po.OAuth, po.HTTP, po.Logger = store, secrets, conn.OAuth, hc, log
	// Every practice's answers share one memory budget: 128 MiB is eight answers at the 16 MiB
	// body bound, or hundreds of ordinary ones, and keeps the process within a few hundred MB
	// however many large answers arrive at once (see practice.DefaultBudget).
	po.Budget = practice.NewBudget(practice.DefaultBudget)
	tree := supervisor.New(supervisor.Options{
		Practice:  po,
		Connector: conn,
		Directory: dir,
		Logger:    log,
		StatusDir: statusDir,
		Version:   version.String(),
	})
	return app{Tree: tree, Connector: conn}
}

// tuningFromEnv reads the settings a person may need to change: HEALOW_RATE_LIMIT (requests per
// minute per practice, eCW's 250 by default) and HEALOW_REQUEST_TIMEOUT (per FHIR request, 30s);
// and HEALOW_INSTALL, which the MCP bundle sets so that advice names the tools alone.
func tuningFromEnv() (practice.Options, error) {
	var o practice.Options
	var err error
	if o.Install, err = advice.Parse(os.Getenv(advice.EnvVar)); err != nil {
		return o, err
	}
	if v := os.Getenv("HEALOW_RATE_LIMIT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return o, fmt.Errorf("HEALOW_RATE_LIMIT=%q: want a whole number of requests per minute, such as 250", v)
		}
		o.RequestsPerMinute = n
	}
	if v := os.Getenv("HEALOW_REQUEST_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return o, fmt.Errorf("HEALOW_REQUEST_TIMEOUT=%q: want a duration such as 30s", v)
		}
		o.RequestTimeout = d
	}
	return o, nil
}

// newLogger writes text logs to stderr: stdout belongs to the MCP protocol.
func newLogger() *slog.Logger {
	level := slog.LevelInfo
	if v := os.Getenv("HEALOW_LOG_LEVEL"); v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			fmt.Fprintf(os.Stderr, "healow: HEALOW_LOG_LEVEL=%q is not debug, info, warn or error; using info\n", v)
		}
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// newDirectory is the practice directory at url ("" for healow's), kept in the folder of the
// token store at storePath. It is fetched with healow's own HTTP client (TLS verified, no
// connection to this machine or the local network unless hosts lists it), and nothing else: no
// token or secret ever goes with it.
func newDirectory(url, storePath string, roots *x509.CertPool, hosts *egress.Policy) (*directory.Directory, error) {
	hc := newHTTPClient(roots, hosts)
	hc.Timeout = 0 // 15 MB on a slow line may take minutes; the directory bounds a download itself
	return directory.New(directory.Options{URL: url, Folder: filepath.Dir(storePath), HTTP: hc})
}

// running runs an actor that a command uses outside the tree (the practice directory, the
// sign-ins) until stop, which waits for it to end.
func running(ctx context.Context, a interface{ Serve(context.Context) error }) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Serve(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

func openStore() (*vault.Store, error) {
	path, err := vault.DefaultPath()
	if err != nil {
		return nil, err
	}
	s, err := vault.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening the token store %s (set HEALOW_TOKEN_STORE to use another file): %w", path, err)
	}
	return s, nil
}
