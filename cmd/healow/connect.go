package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/practice/directory"
	"github.com/healow-mcp/healow-mcp/practice/smart"
	"github.com/healow-mcp/healow-mcp/vault"
)

var connectHelp = &help{
	name:     "connect",
	synopsis: "connect a practice through its SMART on FHIR sign-in",
	usage:    "healow connect (--name NAME --fhir-base-url URL | --code CODE [--name NAME]) [--no-browser]",
	about: "It prints the sign-in URL on a line of its own and opens it in a browser. With a loopback " +
		"HEALOW_REDIRECT_URI it catches the answer itself; otherwise paste the code, or the whole URL the " +
		"browser was sent to. A running healow serve picks the practice up within a second. A practice's " +
		"FHIR base URL is https://fhir4.healow.com/fhir/r4/ followed by its six-letter code; --code looks the " +
		"code up in the practice directory (see healow find) and, when the directory does not list a " +
		"six-letter code, tries it at that address.",
	example: `healow connect --name "Sunrise Family Medicine" --fhir-base-url https://fhir4.healow.com/fhir/r4/ABCDEF
healow connect --code ABCDEF`,
	env: []string{"HEALOW_CLIENT_ID", "HEALOW_CLIENT_SECRET", "HEALOW_REDIRECT_URI", "HEALOW_CALLBACK_PORT", "HEALOW_ALLOWED_HOSTS",
		"HEALOW_TOKEN_STORE", "HEALOW_DIRECTORY_URL", "SSL_CERT_FILE"},
}

// runConnect connects a practice: it prints the authorize URL, then takes the code from a
// redirect to this machine (a loopback HEALOW_REDIRECT_URI, or HEALOW_CALLBACK_PORT behind the
// forwarding page) or from what the user pastes on stdin.
func runConnect(ctx context.Context, args []string) error {
	fs := connectHelp.flags()
	name := fs.String("name", "", "the practice's `NAME` here, e.g. \"Sunrise Family Medicine\"; an existing name is reconnected in place")
	base := fs.String("fhir-base-url", "", "the practice's FHIR base `URL`, e.g. https://fhir4.healow.com/fhir/r4/ABCDEF")
	code := fs.String("code", "", "instead of --fhir-base-url: the practice's `CODE`, e.g. ABCDEF, looked up in the practice directory (--name then defaults to the practice's name there)")
	noBrowser := fs.Bool("no-browser", false, "print the URL without opening a browser")
	timeout := fs.Duration("timeout", smart.StateTTL, "how long to wait for the sign-in")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (*name == "" && *code == "") || (*base == "") == (*code == "") || fs.NArg() > 0 {
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
	if *code != "" {
		dir, err := newDirectory(os.Getenv(directory.EnvURL), store.Path(), nil, c.hosts)
		if err != nil {
			return err
		}
		stop := running(ctx, dir)
		*name, *base, err = byCode(ctx, dir, *code, *name, os.Stderr)
		stop()
		if err != nil {
			return err
		}
	}
	conn := newConnector(c, store, vault.NewKeychain(), newHTTPClient(nil, c.hosts))
	// This sign-in, in flight. The browser hears how it went before the process ends: the
	// actor waits for its page.
	defer running(ctx, conn.States)()

	browse := openBrowser
	if *noBrowser {
		browse = nil
	}
	return connect(ctx, connectRun{
		conn: conn, name: *name, base: *base, timeout: *timeout,
		browse: browse, in: os.Stdin, out: os.Stdout, msg: os.Stderr,
	})
}

// connectRun is one healow connect, with its terminal and browser as fields so that tests can
// play the user.
type connectRun struct {
	conn       *practice.Connector // with Listen set, the sign-in catches its own redirect
	name, base string
	timeout    time.Duration
	browse     func(url string) // nil: only print the URL
	in         io.Reader
	out, msg   io.Writer
}

func connect(ctx context.Context, r connectRun) error {
	// With a redirect to this machine, Begin listens before the URL is shown, so the browser can
	// never arrive first.
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
	var o smart.Outcome
	if auth.Listening {
		o, err = awaitRedirect(ctx, r.conn, auth.State)
	} else {
		fmt.Fprint(r.msg, "Then paste the code, or the whole URL the browser was sent to, and press Enter: ")
		var p vault.Practice
		p, err = awaitPaste(ctx, r.in, r.conn, auth.State)
		o = smart.Outcome{Practice: p.Name, PracticeID: p.ID, PatientID: p.PatientID}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer from the browser within %s; run healow connect again", r.timeout)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(r.out, "Connected %q (practice id %s), patient %s.\n", o.Practice, o.PracticeID, o.PatientID)
	return nil
}

// awaitRedirect waits for the sign-in's listener to receive the redirect and complete it (see
// smart.States.AddListening); the browser is shown how it went.
func awaitRedirect(ctx context.Context, conn *practice.Connector, state string) (smart.Outcome, error) {
	w, err := conn.States.Wait(ctx, state)
	if err != nil {
		return smart.Outcome{}, err
	}
	return *w.Ended, w.Ended.Err
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
