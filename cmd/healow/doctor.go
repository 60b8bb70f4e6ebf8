package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/healow-mcp/healow-mcp/practice/egress"
	"github.com/healow-mcp/healow-mcp/vault"
)

var doctorHelp = &help{
	name:     "doctor",
	synopsis: "check the setup, each check with what to do",
	usage:    "healow doctor [--json]",
	about: "One line each with PASS, WARN, FAIL or SKIP and what to do: the HEALOW_* variables, the keychain, " +
		"the token store's file modes, the redirect URI (a loopback port must be free), each connected practice " +
		"(its smart-configuration reachable, a refresh token held and how long it has left) and this machine's " +
		"clock against a practice's. Exit status: 0 when nothing failed (warnings are things to do soon, not " +
		"broken now), 3 when some check failed, 1 when doctor itself could not run.",
	example: "healow doctor",
	env: []string{"HEALOW_CLIENT_ID", "HEALOW_CLIENT_SECRET", "HEALOW_REDIRECT_URI", "HEALOW_ALLOWED_HOSTS",
		"HEALOW_TOKEN_STORE", "SSL_CERT_FILE"},
}

// statusFailed is doctor's exit status when a check failed: as healow status's for a practice
// that is not healthy.
const statusFailed = 3

// What a check found.
const (
	checkPass = "PASS"
	checkWarn = "WARN" // works now; something to do soon
	checkFail = "FAIL" // something does not work, or is not safe
	checkSkip = "SKIP" // could not be checked, for a reason another check gives
)

// check is one line of healow doctor: what was checked, what it found, and a sentence saying
// what it saw or what to do.
type check struct {
	Name   string `json:"check"`
	Status string `json:"status"`
	Detail string `json:"detail"`
}

// doctorReport is healow doctor's output, and its JSON.
type doctorReport struct {
	OK     bool    `json:"ok"` // no check failed
	Checks []check `json:"checks"`
}

// runDoctor checks the setup healow needs and says what to do about what is wrong.
func runDoctor(ctx context.Context, args []string) error {
	fs := doctorHelp.flags()
	asJSON := fs.Bool("json", false, "print JSON instead of lines")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fs.usageError()
	}
	d := doctor{getenv: os.Getenv, secrets: vault.NewKeychain(), now: time.Now}
	r := d.run(ctx)
	if *asJSON {
		if err := writeJSON(os.Stdout, r, true); err != nil {
			return err
		}
	} else {
		r.render(os.Stdout, painter(isTerminal(os.Stdout)))
	}
	if !r.OK {
		return exitStatus(statusFailed)
	}
	return nil
}

// doctor is one healow doctor, with its environment, keychain, clock and TLS trust as fields so
// that tests can run it against the sandbox.
type doctor struct {
	getenv  func(string) string
	secrets vault.Secrets
	now     func() time.Time
	roots   *x509.CertPool // nil: the system's, which honours SSL_CERT_FILE
}

func (d doctor) run(ctx context.Context) doctorReport {
	var r doctorReport
	add := func(c check) { r.Checks = append(r.Checks, c) }
	id := d.getenv("HEALOW_CLIENT_ID")
	if id == "" {
		add(check{"HEALOW_CLIENT_ID", checkFail, "not set: set it to the app's client id from its registration with eClinicalWorks"})
	} else {
		add(check{"HEALOW_CLIENT_ID", checkPass, "set"})
	}
	secretAt := len(r.Checks) // filled in once the practices are known
	add(check{})
	add(d.redirect())
	hosts, err := egress.Parse(d.getenv(egress.EnvVar))
	if err != nil {
		add(check{egress.EnvVar, checkFail, err.Error()})
	} else if len(hosts.Hosts()) == 0 {
		add(check{egress.EnvVar, checkPass, "not set: only eClinicalWorks' own servers receive the client secret and tokens"})
	} else {
		add(check{egress.EnvVar, checkPass, "eClinicalWorks' own servers and " + hosts.String()})
	}
	store, storeChecks := d.store(ctx)
	if store != nil {
		defer store.Close()
	}
	var stored []vault.Practice
	if store != nil {
		if stored, err = store.List(ctx); err != nil {
			storeChecks = append(storeChecks, check{"token store", checkFail, err.Error()})
		}
	}
	add(d.keychain(stored))
	r.Checks = append(r.Checks, storeChecks...)
	pr := d.practices(ctx, stored, hosts, id)
	r.Checks = append(r.Checks, pr.checks...)
	add(pr.clock)
	r.Checks[secretAt] = d.secret(pr.needSecret)

	r.OK = true
	for _, c := range r.Checks {
		r.OK = r.OK && c.Status != checkFail
	}
	return r
}

// secret: without HEALOW_CLIENT_SECRET, healow is a public client, which only a practice that
// lists client-public accepts.
func (d doctor) secret(needSecret []string) check {
	const name = "HEALOW_CLIENT_SECRET"
	switch {
	case d.getenv(name) != "":
		return check{name, checkPass, "set: healow connects as a confidential client"}
	case len(needSecret) > 0:
		return check{name, checkFail, fmt.Sprintf("not set, and %s do not list client-public (an app without a secret): set it to the app's client secret",
			strings.Join(needSecret, ", "))}
	}
	return check{name, checkPass, "not set: healow connects as a public client (PKCE, no secret), which a practice allows when its smart-configuration lists client-public; one that does not needs the secret"}
}

// redirect parses HEALOW_REDIRECT_URI and, for a loopback one, makes sure its port is free for
// healow connect to listen on.
func (d doctor) redirect() check {
	const name = "HEALOW_REDIRECT_URI"
	v := d.getenv(name)
	if v == "" {
		return check{name, checkFail, "not set: set it to the redirect URI registered for the app, such as http://127.0.0.1:8765/callback"}
	}
	u, err := url.Parse(v)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return check{name, checkFail, fmt.Sprintf("%q is not an absolute URL: set it to the redirect URI registered for the app, exactly", v)}
	}
	at, err := listenAt(v, d.getenv("HEALOW_CALLBACK_PORT"))
	if err != nil {
		return check{name, checkFail, err.Error()}
	}
	if at != nil {
		how := "loopback"
		if !strings.HasPrefix(v, "http:") {
			how = "forwarded to this machine by the page at " + u.Redacted() + " (HEALOW_CALLBACK_PORT)"
		}
		l, err := net.Listen("tcp", at.Addr)
		if err != nil {
			return check{name, checkWarn, fmt.Sprintf("%s, but %s is taken (%v): healow cannot catch the sign-in's answer "+
				"while another program listens there; stop it (or finish the sign-in waiting on it), or register another port", how, at.Addr, err)}
		}
		l.Close()
		return check{name, checkPass, fmt.Sprintf("%s: healow connect and connect_practice catch the sign-in's answer on %s, which is free", how, at.Addr)}
	}
	if u.Scheme != "https" {
		return check{name, checkFail, fmt.Sprintf("%s sends the authorization code in clear text to another machine: register an https or loopback (http://127.0.0.1:PORT/...) redirect URI", u.Redacted())}
	}
	return check{name, checkPass, "not on this machine: after signing in, paste the code or the address the browser lands on"}
}

// store checks the modes of the token store's folder and files before opening it (opening
// tightens them), then opens it. It returns nil when there is no store yet or it cannot be opened.
func (d doctor) store(ctx context.Context) (*vault.Store, []check) {
	path := d.getenv(vault.EnvTokenStore)
	if path == "" {
		var err error
		if path, err = vault.DefaultPath(); err != nil {
			return nil, []check{{"token store", checkFail, err.Error()}}
		}
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, []check{{"token store", checkPass, fmt.Sprintf("%s does not exist yet: it is made when the first practice is connected", path)}}
	}
	checks := []check{folderMode(filepath.Dir(path))}
	loose := looseFiles(path)
	store, err := vault.Open(path) // tightens what is loose
	if err != nil {
		return nil, append(checks, check{"token store", checkFail, err.Error()})
	}
	if len(loose) == 0 {
		checks = append(checks, check{"token store", checkPass, path + " is mode 0600"})
	} else if again := looseFiles(path); len(again) > 0 {
		checks = append(checks, check{"token store", checkFail, fmt.Sprintf("%s can be read by others on this machine: run chmod 600 on each", strings.Join(again, ", "))})
	} else {
		checks = append(checks, check{"token store", checkFail, fmt.Sprintf("%s could be read by others on this machine (it says which practices you use); "+
			"healow has just made it 0600, as it does whenever it opens the store: if it happens again, find what loosens it (a sync or backup tool)",
			strings.Join(loose, ", "))})
	}
	if err := store.Check(ctx); err != nil {
		checks = append(checks, check{"token store", checkFail, err.Error()})
	}
	return store, checks
}

// looseFiles lists the store's files (and SQLite's -wal and -shm) that others may read, with
// their modes.
func looseFiles(path string) []string {
	var loose []string
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o077 != 0 {
			loose = append(loose, fmt.Sprintf("%s (mode %04o)", p, fi.Mode().Perm()))
		}
	}
	return loose
}

// folderMode wants the store's folder the owner's alone. healow leaves a shared folder (the
// home folder, /tmp) as it is, since closing it would break other programs.
func folderMode(dir string) check {
	const name = "store folder"
	fi, err := os.Stat(dir)
	if err != nil {
		return check{name, checkFail, err.Error()}
	}
	perm := fi.Mode().Perm()
	switch {
	case perm&0o077 == 0:
		return check{name, checkPass, fmt.Sprintf("%s is mode %04o", dir, perm)}
	case vault.SharedFolder(dir):
		return check{name, checkWarn, fmt.Sprintf("%s is shared (mode %04o): the store's files are its owner's, but give it a folder of its own, "+
			"such as HEALOW_TOKEN_STORE=~/.healow-mcp/tokens.db", dir, perm)}
	}
	return check{name, checkFail, fmt.Sprintf("%s is mode %04o, open to others: run chmod 700 %s (healow does when it opens the store)", dir, perm, dir)}
}

// render prints one line per check, then a summary.
func (r doctorReport) render(w io.Writer, colour painter) {
	tw := newTable(w)
	counts := map[string]int{}
	for _, c := range r.Checks {
		counts[c.Status]++
		paint := map[string]string{checkPass: green, checkWarn: yellow, checkFail: red, checkSkip: plain}[c.Status]
		fmt.Fprintf(tw, "%s\t%s\t%s\n", colour.paint(paint, c.Status), c.Name, c.Detail)
	}
	tw.Flush()
	switch {
	case counts[checkFail] > 0:
		fmt.Fprintf(w, "\n%d failed, %d to do soon: fix what FAIL says, then run healow doctor again.\n", counts[checkFail], counts[checkWarn])
	case counts[checkWarn] > 0:
		fmt.Fprintf(w, "\nNothing failed; %d to do soon (WARN).\n", counts[checkWarn])
	default:
		fmt.Fprintln(w, "\nEverything passed.")
	}
}
