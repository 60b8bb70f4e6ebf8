package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/advice"
	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/supervisor/status"
	"github.com/healow-mcp/healow-mcp/vault"
)

// Exit statuses of healow status, for scripts and monitors.
const (
	statusHealthy   = 0 // every practice of every running server is ready or refreshing
	statusUnhealthy = 3 // some practice is not, or a running server did not answer
	statusNoServer  = 4 // no healow serve is running
)

// askTimeout bounds one status question to one server; a server answers within a second.
const askTimeout = 3 * time.Second

var statusHelp = &help{
	name:     "status",
	synopsis: "live health of every practice in every running healow serve",
	usage:    "healow status [--json] [--watch]",
	about: "Each running healow serve is shown as a tree of its services, with its pid and version, and what " +
		"to do for each practice that is not healthy. Stored practices that no server serves are listed as " +
		"not running, with what was last known of them. Exit status: 0 every practice of every running " +
		"server is healthy, 1 status itself failed, 3 some practice or server is not healthy, 4 no healow " +
		"serve is running.",
	example: "healow status --watch",
	env:     []string{"HEALOW_TOKEN_STORE", "NO_COLOR"},
}

// runStatus shows every practice actor of every running `healow serve`, and the stored
// practices no server runs.
func runStatus(ctx context.Context, args []string) error {
	fs := statusHelp.flags()
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	watch := fs.Bool("watch", false, "refresh every second until interrupted")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fs.usageError()
	}
	store, err := openStoreIfAny()
	if err != nil {
		return err
	}
	if store == nil {
		if *asJSON {
			writeJSON(os.Stdout, statusReport{Servers: []serverReport{}, NotRunning: []storedPractice{}}, true)
		} else {
			fmt.Println("No practice is connected and no healow serve has run yet: connect one with healow connect.")
		}
		return exitStatus(statusNoServer)
	}
	defer store.Close()
	// A damaged store is reported as status failing (exit 1), with what to do.
	if err := store.Check(ctx); err != nil {
		return err
	}
	s := statusRun{store: store, dir: status.SocketDir(store.Path()), out: os.Stdout,
		json: *asJSON, colour: painter(!*asJSON && isTerminal(os.Stdout)), now: time.Now}
	code := 0
	if *watch {
		code, err = s.watch(ctx, time.Second)
	} else {
		code, err = s.once(ctx)
	}
	if err != nil {
		return err
	}
	if code != statusHealthy {
		return exitStatus(code)
	}
	return nil
}

// statusRun is one healow status, with its output and clock as fields so tests can drive it.
type statusRun struct {
	store  *vault.Store
	dir    string // the servers' sockets
	out    io.Writer
	json   bool
	colour painter
	now    func() time.Time
}

// statusReport is what healow status shows, and its JSON.
type statusReport struct {
	// Healthy is true when a server runs and every practice of every running server is healthy.
	Healthy bool           `json:"healthy"`
	Servers []serverReport `json:"servers"`
	// NotRunning are the stored practices that no running server serves.
	NotRunning []storedPractice `json:"not_running"`
}

type serverReport struct {
	Socket string `json:"socket"`
	status.Process
	// Error is set when the server is alive but did not answer.
	Error     string            `json:"error,omitempty"`
	Tree      *status.Node      `json:"tree,omitempty"`
	Practices []status.Practice `json:"practices"`
}

type storedPractice struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	FHIRBaseURL string            `json:"fhir_base_url"`
	TokenExpiry time.Time         `json:"token_expiry"`
	LastRefresh time.Time         `json:"last_refresh"`
	LastKnown   *vault.KnownState `json:"last_known,omitempty"`
	TokenHost   string            `json:"token_endpoint_host,omitempty"`
	// ConnectedVia is "mcp" (the MCP tools), "cli" (healow connect) or absent (not recorded).
	ConnectedVia       string    `json:"connected_via,omitempty"`
	RefreshTokenExpiry time.Time `json:"refresh_token_expiry,omitzero"`
	// Warning says what to do soon: reconnect before the refresh token expires.
	Warning string `json:"warning,omitempty"`
}

func (s statusRun) once(ctx context.Context) (int, error) {
	r, err := s.collect(ctx)
	if err != nil {
		return 0, err
	}
	if s.json {
		return r.code(), writeJSON(s.out, r, true)
	}
	s.render(r)
	return r.code(), nil
}

// watch shows a fresh report every interval until ctx ends, and returns the last one's code.
// On a terminal each report replaces the last; elsewhere (and with --json, one per line) they
// follow each other.
func (s statusRun) watch(ctx context.Context, interval time.Duration) (int, error) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	code := 0
	for {
		r, err := s.collect(ctx)
		if ctx.Err() != nil {
			return code, nil
		}
		if err != nil {
			return code, err
		}
		code = r.code()
		switch {
		case s.json:
			if err := writeJSON(s.out, r, false); err != nil {
				return code, err
			}
		case bool(s.colour):
			fmt.Fprint(s.out, "\x1b[H\x1b[2J")
			s.render(r)
		default:
			fmt.Fprintf(s.out, "--- %s\n", s.now().Format(time.DateTime))
			s.render(r)
		}
		select {
		case <-ctx.Done():
			return code, nil
		case <-tick.C:
		}
	}
}

// code is the exit status the report calls for.
func (r statusReport) code() int {
	switch {
	case len(r.Servers) == 0:
		return statusNoServer
	case !r.Healthy:
		return statusUnhealthy
	}
	return statusHealthy
}

func (s statusRun) collect(ctx context.Context) (statusReport, error) {
	actx, cancel := context.WithTimeout(ctx, askTimeout)
	defer cancel()
	servers, err := status.AskAll(actx, s.dir, status.Request{Op: status.OpStatus})
	if err != nil {
		return statusReport{}, err
	}
	stored, err := s.store.List(ctx)
	if err != nil {
		return statusReport{}, err
	}
	known, err := s.store.KnownStates(ctx)
	if err != nil {
		return statusReport{}, err
	}
	r := statusReport{Healthy: true, Servers: []serverReport{}, NotRunning: []storedPractice{}}
	served := map[string]bool{}
	for _, sv := range servers {
		rep := serverReport{Socket: sv.Socket, Process: status.Process{PID: sv.PID}, Practices: []status.Practice{}}
		if sv.Reply != nil {
			rep.Process, rep.Tree = sv.Reply.Process, sv.Reply.Tree
			rep.Practices = append(rep.Practices, sv.Reply.Practices...)
		}
		if sv.Err != nil {
			rep.Error = "not answering: " + sv.Err.Error()
			r.Healthy = false
		}
		for _, p := range rep.Practices {
			served[p.ID] = true
			r.Healthy = r.Healthy && p.Healthy
		}
		r.Servers = append(r.Servers, rep)
	}
	if len(r.Servers) == 0 {
		r.Healthy = false
	}
	for _, p := range stored {
		if served[p.ID] {
			continue
		}
		sp := storedPractice{ID: p.ID, Name: p.Name, FHIRBaseURL: p.FHIRBaseURL, TokenExpiry: p.TokenExpiry, LastRefresh: p.LastRefresh,
			TokenHost: practice.TokenHost(p), ConnectedVia: p.ConnectedVia, RefreshTokenExpiry: practice.RefreshExpiry(p)}
		sp.Warning = practice.RefreshWarning(p.Name, p.FHIRBaseURL, sp.RefreshTokenExpiry, sp.RefreshTokenExpiry.Sub(s.now()), advice.Command)
		// A state seen before the practice was last reconnected says nothing about it now.
		if k, ok := known[p.ID]; ok && !k.At.Before(p.UpdatedAt) {
			sp.LastKnown = &k
		}
		r.NotRunning = append(r.NotRunning, sp)
	}
	return r, nil
}

// render prints the report as trees like a supervisor's: each process, its services, and under
// "practices" one aligned row per practice actor.
func (s statusRun) render(r statusReport) {
	now := s.now()
	var advice []string
	if len(r.Servers) == 0 {
		fmt.Fprintln(s.out, "No healow serve is running (an MCP client such as Claude Desktop starts one).")
	}
	for i, sv := range r.Servers {
		if i > 0 {
			fmt.Fprintln(s.out)
		}
		head := fmt.Sprintf("healow serve, pid %d", sv.PID)
		if !sv.Started.IsZero() {
			head += fmt.Sprintf(", version %s, started %s (up %s)", sv.Version, sv.Started.Local().Format(time.DateTime), span(now.Sub(sv.Started)))
		}
		fmt.Fprintln(s.out, head)
		if sv.Error != "" {
			fmt.Fprintln(s.out, "  "+s.colour.paint(red, sv.Error))
			advice = append(advice, fmt.Sprintf("pid %d: the server is running but did not answer within %s; see its log (stderr)", sv.PID, askTimeout))
			continue
		}
		byID := map[string]status.Practice{}
		for _, p := range sv.Practices {
			byID[p.ID] = p
			if p.Advice != "" {
				advice = append(advice, fmt.Sprintf("%s (pid %d): %s", p.Name, sv.PID, p.Advice))
			}
			if p.Warning != "" {
				advice = append(advice, fmt.Sprintf("%s (pid %d): %s", p.Name, sv.PID, p.Warning))
			}
		}
		tw := newTable(s.out)
		if sv.Tree != nil {
			s.node(tw, withAllPractices(*sv.Tree, sv.Practices), "", "", byID, now)
		}
		tw.Flush()
	}
	if len(r.NotRunning) > 0 {
		if len(r.Servers) > 0 {
			fmt.Fprintln(s.out)
		}
		fmt.Fprintln(s.out, "Not running (no running server serves these; from the store):")
		tw := newTable(s.out)
		fmt.Fprintln(tw, "  NAME\tID\tSTATE\tTOKEN\tREFRESHED\tLAST KNOWN")
		for _, p := range r.NotRunning {
			last := "nothing known"
			if k := p.LastKnown; k != nil {
				last = fmt.Sprintf("%s, %s by pid %d", k.State, ago(k.At, now), k.PID)
				if k.LastError != "" {
					last += ": " + shorten(k.LastError, 80)
				}
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.ID, s.colour.paint(plain, "not running"),
				left(p.TokenExpiry, now), ago(p.LastRefresh, now), last)
			if p.Warning != "" {
				advice = append(advice, fmt.Sprintf("%s (not running): %s", p.Name, p.Warning))
			}
		}
		tw.Flush()
	}
	s.viaTools(r)
	if len(advice) > 0 {
		fmt.Fprintln(s.out, "\nWhat to do:")
		for _, a := range advice {
			fmt.Fprintln(s.out, "  "+a)
		}
	}
}

// withAllPractices orders the practices supervisor's children by practice name, and adds the
// practices the registry knows but the supervisor no longer runs (stopped), so every practice
// has its row.
func withAllPractices(tree status.Node, ps []status.Practice) status.Node {
	for i, n := range tree.Children {
		if n.Name != "practices" {
			continue
		}
		seen := map[string]bool{}
		for _, c := range n.Children {
			seen[c.Practice] = true
		}
		children := []status.Node{}
		for _, p := range ps { // ordered by name
			children = append(children, status.Node{Name: "practice " + p.ID, Practice: p.ID})
			delete(seen, p.ID)
		}
		for _, c := range n.Children {
			if seen[c.Practice] { // an actor the registry has already let go
				children = append(children, c)
			}
		}
		tree.Children = append([]status.Node(nil), tree.Children...)
		tree.Children[i].Children = children
	}
	return tree
}

// node prints one service and its children with tree branches, as syncthing's printServiceTree.
// The practices supervisor's line carries the column titles of the practice rows below it.
func (s statusRun) node(tw io.Writer, n status.Node, lead, branch string, byID map[string]status.Practice, now time.Time) {
	switch p, ok := byID[n.Practice]; {
	case ok:
		fmt.Fprintf(tw, "%s%s\t%s\n", lead+branch, p.Name, strings.Join(s.cells(p, now), "\t"))
	case n.Name == "practices" && len(n.Children) > 0:
		fmt.Fprintf(tw, "%s%s\t%s\tTOKEN\tREFRESHED\tLAST REQUEST\tOK/FAILED\tP50/P95\tLEFT/MIN\tBREAKER\tRESTARTS\tLAST ERROR\n",
			lead+branch, n.Name, s.colour.paint(plain, "STATE"))
	default:
		fmt.Fprintln(tw, lead+branch+n.Name)
	}
	switch branch {
	case "├─ ":
		lead += "│  "
	case "└─ ":
		lead += "   "
	}
	for i, c := range n.Children {
		b := "├─ "
		if i == len(n.Children)-1 {
			b = "└─ "
		}
		s.node(tw, c, lead, b, byID, now)
	}
}

// cells are a practice's columns after its name.
func (s statusRun) cells(p status.Practice, now time.Time) []string {
	state := string(p.State)
	colour := green
	switch {
	case p.State == practice.StateRateLimited:
		state, colour = fmt.Sprintf("%s until %s", state, clockTime(p.RateLimitedUntil)), yellow
	case p.State == practice.StateCircuitOpen:
		state, colour = fmt.Sprintf("%s until %s", state, clockTime(p.CircuitOpenUntil)), red
	case p.State == practice.StateRefreshing, p.State == practice.StateStarting, p.State == practice.StateDegraded:
		colour = yellow
	case !p.Healthy:
		colour = red
	}
	request := "none yet"
	if !p.LastRequest.IsZero() {
		request = fmt.Sprintf("%s %d %s", ago(p.LastRequest, now), p.LastStatus, ms(p.LastLatency))
	}
	counts := fmt.Sprintf("%d/%d", p.Succeeded, p.Failed)
	if p.Retries > 0 {
		counts += fmt.Sprintf(" (%d retries)", p.Retries)
	}
	latency := "-"
	if p.LatencyP50 > 0 {
		latency = ms(p.LatencyP50) + "/" + ms(p.LatencyP95)
	}
	token := "-"
	if !p.TokenExpiry.IsZero() {
		token = left(p.TokenExpiry, now)
	}
	rate := fmt.Sprintf("%d/%d", p.RateLeft, p.RateLimit)
	if p.RateUnshared {
		rate += " local" // the store takes no reservations: this process counts alone
	}
	lastErr := "-"
	if p.LastError != "" {
		lastErr = ago(p.LastErrorAt, now) + ": " + shorten(p.LastError, 100)
	}
	return []string{s.colour.paint(colour, state), token, ago(p.LastRefresh, now), request, counts, latency,
		rate, fmt.Sprintf("%s %d", p.Breaker, p.BreakerFailures), fmt.Sprint(p.Restarts), lastErr}
}
