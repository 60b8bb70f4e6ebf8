package smart

import (
	"context"
	"crypto/subtle"
	"fmt"
	"html"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Loopback is where the browser's redirect reaches this machine (RFC 8252 §7.3): the address a
// sign-in listens on, and the path the redirect comes to.
type Loopback struct {
	Addr string // host:port
	Path string
}

// CallbackPath is the path the forwarding page (redirect/index.html) sends the browser to.
const CallbackPath = "/callback"

// LoopbackOf returns where to listen when the redirect URI points at this machine: plain http to
// localhost or a loopback address.
func LoopbackOf(redirectURI string) (Loopback, bool) {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Scheme != "http" {
		return Loopback{}, false
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return Loopback{}, false
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	path := u.Path
	if path == "" {
		path = "/"
	}
	return Loopback{Addr: net.JoinHostPort(host, port), Path: path}, true
}

// Outcome is how a sign-in ended: the practice it connected, or why it did not.
type Outcome struct {
	Practice   string // the practice's name
	PracticeID string // its id in the store
	PatientID  string // the patient who consented
	Err        error
}

// Finish completes a sign-in whose redirect reached its listener: it trades the code in redirect
// (the URL the browser came to) for tokens and stores them. The States actor hands it the state
// it listened for.
type Finish func(ctx context.Context, redirect, state string) Outcome

// catcher listens for one sign-in's redirect. The browser gets a short page; a request for
// another path or without the sign-in's state is refused and changes nothing, so a page or
// program on this machine that guesses the port can neither finish nor spoil the sign-in.
type catcher struct {
	at     Loopback
	state  string
	finish Finish
	l      net.Listener
	srv    *http.Server
	busy   atomic.Bool // a redirect with the right state is being finished
}

// listen binds at, then serves it in a goroutine of its own until close.
func listen(at Loopback, state string, finish Finish) (*catcher, error) {
	l, err := net.Listen("tcp", at.Addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s for the sign-in's redirect (%w). Most likely another program is using that port, "+
			"perhaps another healow (healow serve in another MCP client, or healow connect) waiting for a sign-in of its own: "+
			"finish or close that one (a sign-in waits at most %v), or register a redirect with another port and set it in "+
			"HEALOW_REDIRECT_URI (or HEALOW_CALLBACK_PORT)", at.Addr, err, StateTTL)
	}
	c := &catcher{at: at, state: state, finish: finish, l: l}
	c.srv = &http.Server{
		Handler:           c,
		ReadHeaderTimeout: 10 * time.Second,
		// Its own errors (a browser that hangs up) say nothing a user needs, and stderr is the log.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	// Each answer ends its connection, so closing the listener ends the server once the pages
	// being written have gone out.
	c.srv.SetKeepAlivesEnabled(false)
	go c.srv.Serve(l)
	return c, nil
}

// stop closes the listener: no new connection is taken, and a page being written still goes out.
func (c *catcher) stop() { c.l.Close() }

// pageGrace bounds how long a stopping actor waits for the pages being written: the browser
// that brought the code should hear how it went even when the process ends right after (healow
// connect does). It is a bound on local I/O, on the wall clock.
const pageGrace = 2 * time.Second

// shutdown ends the server once the pages being written have gone out, when the actor stops.
func (c *catcher) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), pageGrace)
	defer cancel()
	if c.srv.Shutdown(ctx) != nil {
		c.srv.Close()
	}
}

func (c *catcher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != c.at.Path || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		page(w, http.StatusNotFound, "Nothing is here. healow-mcp listens on this address only for the answer of a sign-in it started.")
		return
	}
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(c.state)) != 1 {
		page(w, http.StatusBadRequest, "This is not the sign-in healow-mcp is waiting for, so it was ignored. "+
			"Open the most recent sign-in link healow gave you; an earlier one no longer works.")
		return
	}
	if !c.busy.CompareAndSwap(false, true) {
		page(w, http.StatusConflict, "This sign-in is already being finished: see the other tab, or ask your assistant to list the practices.")
		return
	}
	// The exchange is not cancelled when the browser leaves: the code would be spent for nothing.
	ctx := context.WithoutCancel(r.Context())
	o := c.finish(ctx, "http://redirect"+r.URL.RequestURI(), c.state)
	if o.Err != nil {
		// A redirect refused before the sign-in was taken (a malformed code) leaves it waiting
		// for a good one; one that was taken has closed the listener anyway.
		c.busy.Store(false)
		msg := o.Err.Error()
		if code := q.Get("code"); code != "" {
			msg = strings.ReplaceAll(msg, code, "[code]") // never show the code, whatever a server said
		}
		page(w, http.StatusBadRequest, "The practice was not connected: "+msg+
			". Go back to your assistant (or terminal) and start connecting again.")
		return
	}
	page(w, http.StatusOK, fmt.Sprintf("%s is connected to healow-mcp. You can close this tab and go back to your assistant.", o.Practice))
}

func page(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><meta charset=\"utf-8\"><title>healow-mcp</title><p>%s</p>\n", html.EscapeString(msg))
}
