package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/practice/smart"
	"github.com/healow-mcp/healow-mcp/vault"
)

var connectHelp = &help{
	name:     "connect",
	synopsis: "connect a practice through its SMART on FHIR sign-in",
	usage:    "healow connect --name NAME --fhir-base-url URL [--no-browser] [--timeout DURATION]",
	about: "It prints the sign-in URL on a line of its own and opens it in a browser. With a loopback " +
		"HEALOW_REDIRECT_URI it catches the answer itself; otherwise paste the code, or the whole URL the " +
		"browser was sent to. A running healow serve picks the practice up within a second. A practice's " +
		"FHIR base URL is https://fhir4.healow.com/fhir/r4/ followed by its six-letter code.",
	example: `healow connect --name "Sunrise Family Medicine" --fhir-base-url https://fhir4.healow.com/fhir/r4/ABCDEF`,
	env: []string{"HEALOW_CLIENT_ID", "HEALOW_CLIENT_SECRET", "HEALOW_REDIRECT_URI", "HEALOW_ALLOWED_HOSTS",
		"HEALOW_TOKEN_STORE", "SSL_CERT_FILE"},
}

// runConnect connects a practice: it prints the authorize URL, then takes the code from a
// loopback redirect (when HEALOW_REDIRECT_URI is one) or from what the user pastes on stdin.
func runConnect(ctx context.Context, args []string) error {
	fs := connectHelp.flags()
	name := fs.String("name", "", "the practice's `NAME` here, e.g. \"Sunrise Family Medicine\"; an existing name is reconnected in place")
	base := fs.String("fhir-base-url", "", "the practice's FHIR base `URL`, e.g. https://fhir4.healow.com/fhir/r4/ABCDEF")
	noBrowser := fs.Bool("no-browser", false, "print the URL without opening a browser")
	timeout := fs.Duration("timeout", smart.StateTTL, "how long to wait for the sign-in")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" || *base == "" || fs.NArg() > 0 {
		return fs.usageError()
	}
	c, err := clientFromEnv()
	if err != nil {
		return err
	}
	store, err := openStore()
	if err != nil {
		return err
	}
	defer store.Close()
	conn := newConnector(c, store, vault.NewKeychain(), newHTTPClient(nil, c.hosts))
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	go conn.States.Serve(ctx) // this sign-in, in flight

	browse := openBrowser
	if *noBrowser {
		browse = nil
	}
	return connect(ctx, connectRun{
		conn: conn, name: *name, base: *base, redirectURI: c.redirectURI, timeout: *timeout,
		browse: browse, in: os.Stdin, out: os.Stdout, msg: os.Stderr,
	})
}

// connectRun is one healow connect, with its terminal and browser as fields so that tests can
// play the user.
type connectRun struct {
	conn        *practice.Connector
	name, base  string
	redirectURI string
	timeout     time.Duration
	browse      func(url string) // nil: only print the URL
	in          io.Reader
	out, msg    io.Writer
}

func connect(ctx context.Context, r connectRun) error {
	var l net.Listener
	if addr, ok := loopback(r.redirectURI); ok {
		// Listen before the URL is shown, so the browser can never arrive first.
		var err error
		if l, err = net.Listen("tcp", addr); err != nil {
			return fmt.Errorf("listening on %s for the redirect (HEALOW_REDIRECT_URI): %w; is another healow connect running?", addr, err)
		}
		defer l.Close()
	}
	auth, err := r.conn.Begin(ctx, r.name, r.base)
	if err != nil {
		return err
	}
	fmt.Fprintln(r.msg, "Open this URL in a browser, sign in as the patient and allow access:")
	fmt.Fprintln(r.out, auth.URL)
	if r.browse != nil {
		r.browse(auth.URL)
	}

	// The timeout is the user's time to sign in: it starts once the URL is shown, so a slow
	// discovery of the practice's endpoints (bounded by the HTTP client) does not eat into it.
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	var p vault.Practice
	if l != nil {
		p, err = awaitRedirect(ctx, l, r.redirectURI, r.conn, auth.State)
	} else {
		fmt.Fprint(r.msg, "Then paste the code, or the whole URL the browser was sent to, and press Enter: ")
		p, err = awaitPaste(ctx, r.in, r.conn, auth.State)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer from the browser within %s; run healow connect again", r.timeout)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(r.out, "Connected %q (practice id %s), patient %s.\n", p.Name, p.ID, p.PatientID)
	return nil
}

// loopback returns the listen address when the redirect URI points at this machine.
func loopback(redirectURI string) (string, bool) {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Scheme != "http" {
		return "", false
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", false
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(host, port), true
}

// awaitRedirect serves exactly the redirect URI's path until one redirect carries this launch's
// state, completes it, and shows the browser a short page with the outcome.
func awaitRedirect(ctx context.Context, l net.Listener, redirectURI string, conn *practice.Connector, state string) (vault.Practice, error) {
	u, _ := url.Parse(redirectURI)
	path := u.Path
	if path == "" {
		path = "/"
	}
	type outcome struct {
		p   vault.Practice
		err error
	}
	done := make(chan outcome, 1)
	mux := http.NewServeMux()
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("state") != state {
			page(w, http.StatusBadRequest, "This sign-in does not belong to the healow connect that is waiting. Start again from its URL.")
			select {
			case done <- outcome{err: errors.New("state mismatch: the browser came back from a sign-in this healow connect did not start; run it again and use the URL it prints")}:
			default:
			}
			return
		}
		p, err := conn.Complete(r.Context(), "http://redirect"+r.URL.RequestURI(), state)
		if err != nil {
			page(w, http.StatusBadRequest, "The practice was not connected: "+err.Error())
		} else {
			page(w, http.StatusOK, fmt.Sprintf("%s is connected. You can close this tab.", p.Name))
		}
		select {
		case done <- outcome{p, err}:
		default:
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	defer func() { // let the browser's page go out before the process ends
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	select {
	case o := <-done:
		return o.p, o.err
	case <-ctx.Done():
		return vault.Practice{}, ctx.Err()
	}
}

func page(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><title>healow-mcp</title><p>%s</p>\n", html.EscapeString(msg))
}

// awaitPaste asks for the code or the whole redirect URL on stdin.
func awaitPaste(ctx context.Context, in io.Reader, conn *practice.Connector, state string) (vault.Practice, error) {
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(in).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case s := <-line:
		if s == "" {
			return vault.Practice{}, errors.New("nothing was pasted; run healow connect again")
		}
		return conn.Complete(ctx, s, state)
	case <-ctx.Done():
		return vault.Practice{}, ctx.Err()
	}
}

func openBrowser(u string) {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", u)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		cmd = exec.Command("xdg-open", u)
	}
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "(could not open a browser; open the URL above yourself)")
		return
	}
	go cmd.Wait()
}
