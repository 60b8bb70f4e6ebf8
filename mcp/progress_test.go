package mcp_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/mcp"
	"github.com/healow-mcp/healow-mcp/practice"
)

// progressSession connects the SDK's client to the real server over in-memory transports, the
// server's end through wrap when given, and hands on every progress notification it receives.
func progressSession(t *testing.T, env *testenv.Env, wrap func(sdk.Transport) sdk.Transport) (*sdk.ClientSession, <-chan *sdk.ProgressNotificationParams) {
	t.Helper()
	ctx := context.Background()
	notes := make(chan *sdk.ProgressNotificationParams, 64)
	st, ct := sdk.NewInMemoryTransports()
	var server sdk.Transport = st
	if wrap != nil {
		server = wrap(st)
	}
	ss, err := mcp.NewServer(env.Tree.Registry).Connect(ctx, server, nil)
	if err != nil {
		t.Fatal(err)
	}
	client := sdk.NewClient(&sdk.Implementation{Name: "test", Version: "v0"}, &sdk.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, r *sdk.ProgressNotificationClientRequest) { notes <- r.Params },
	})
	cs, err := client.Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close(); ss.Close() })
	return cs, notes
}

type callResult struct {
	res *sdk.CallToolResult
	err error
}

// callAsync runs a tool with a progress token (none when token is "") and delivers its result.
func callAsync(cs *sdk.ClientSession, name string, args map[string]any, token string) <-chan callResult {
	p := &sdk.CallToolParams{Name: name, Arguments: args}
	if token != "" {
		p.SetProgressToken(token)
	}
	done := make(chan callResult, 1)
	go func() {
		res, err := cs.CallTool(context.Background(), p)
		done <- callResult{res, err}
	}()
	return done
}

// next is the next notification, which comes at once or never.
func next(t *testing.T, notes <-chan *sdk.ProgressNotificationParams) *sdk.ProgressNotificationParams {
	t.Helper()
	select {
	case n := <-notes:
		return n
	case <-time.After(10 * time.Second): // a guard, not a wait: the notification is due already
		t.Fatal("no progress notification")
		return nil
	}
}

func succeeded(t *testing.T, r callResult) {
	t.Helper()
	if r.err != nil || r.res.IsError {
		t.Fatalf("call failed: %v %+v", r.err, r.res)
	}
}

// ordered checks that the notifications are the call's, with progress rising each time.
func ordered(t *testing.T, token string, notes []*sdk.ProgressNotificationParams) {
	t.Helper()
	last := 0.0
	for _, n := range notes {
		if n.ProgressToken != token || n.Progress <= last || n.Message == "" {
			t.Fatalf("notification %+v after progress %v (token %q)", n, last, token)
		}
		last = n.Progress
	}
}

// A search held by a retry or by the practice's 429 tells the client, when it asked for
// progress, what it waits for as it begins waiting, then that the page was read: in order,
// progress rising, nothing of the patient in the words.
func TestProgressOfASearchHeldByTheFaultsOfItsPractice(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		clock *actor.Fake
		fault sandbox.Faults
		wait  time.Duration // how far to move the clock once the wait is armed
		says  string
	}{
		{"a 500, retried", actor.NewFake(time.Now()), sandbox.Faults{FailNext: 1}, 5 * time.Second, "failed (HTTP 500): trying again at"},
		// 50 s into a minute, the hold until it turns lasts at most 11 s: the call is held.
		{"a 429, held until the minute turns", actor.NewFake(time.Now().Truncate(time.Minute).Add(time.Minute + 50*time.Second)),
			sandbox.Faults{TooManyRequests: true}, 12 * time.Second, "failed (HTTP 429, too many requests): trying again at"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env := testenv.Start(t, testenv.Options{Clock: c.clock})
			p := env.Sandbox.Practices()[0]
			env.Connect(t, p)
			env.Actor(t, p.Name)
			cs, notes := progressSession(t, env, nil)
			succeeded(t, <-callAsync(cs, "search_observation", nil, "")) // the CapabilityStatement is read once
			armed := c.clock.Timers()

			env.Sandbox.SetFaults(p.Code, c.fault)
			done := callAsync(cs, "search_observation", nil, "held")
			waiting := next(t, notes)
			env.Sandbox.SetFaults(p.Code, sandbox.Faults{})
			// The attempt before gave its deadline back; the wait is the one timer more.
			if err := c.clock.WaitTimers(context.Background(), armed+1); err != nil {
				t.Fatal(err)
			}
			c.clock.Advance(c.wait)
			succeeded(t, <-done)
			read := next(t, notes)

			ordered(t, "held", []*sdk.ProgressNotificationParams{waiting, read})
			for _, want := range []string{c.says, "attempt 2 of 3", p.Name} {
				if !strings.Contains(waiting.Message, want) {
					t.Errorf("%q does not say %q", waiting.Message, want)
				}
			}
			if want := "read 1 page of Observation from \"" + p.Name + "\", "; !strings.HasPrefix(read.Message, want) || read.Progress != 1 {
				t.Errorf("then %+v, want %q at 1", read, want)
			}
			for _, n := range []*sdk.ProgressNotificationParams{waiting, read} {
				if n.Total != 0 || strings.Contains(n.Message, p.PatientID) || strings.Contains(n.Message, p.PatientName) {
					t.Errorf("%+v: a total it cannot know, or the patient", n)
				}
			}
		})
	}
}

// A call without a progress token gets no notification: the first one the client sees belongs
// to the next call, which asked.
func TestNoProgressWithoutAToken(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	p := env.Sandbox.Practices()[0]
	env.Connect(t, p)
	env.Actor(t, p.Name)
	cs, notes := progressSession(t, env, nil)
	for _, tool := range []string{"search_observation", "fhir_search", "get_patient"} {
		args := map[string]any(nil)
		if tool == "fhir_search" {
			args = map[string]any{"resource": "Condition"}
		}
		succeeded(t, <-callAsync(cs, tool, args, ""))
	}
	succeeded(t, <-callAsync(cs, "fhir_search", map[string]any{"resource": "Condition"}, "asked"))
	if n := next(t, notes); n.ProgressToken != "asked" || n.Progress != 1 || !strings.HasPrefix(n.Message, "read 1 page of Condition from") {
		t.Fatalf("first notification: %+v", n)
	}
}

// stuckWrites is a server transport whose client stops reading: from the first progress
// notification on, every write waits until the test lets them go, as writes to a full pipe do.
type stuckWrites struct {
	sdk.Transport
	once    sync.Once
	stuck   chan struct{} // closed when the first notification is being written
	release chan struct{} // closed by the test
}

var _ sdk.Transport = (*stuckWrites)(nil)

func (s *stuckWrites) Connect(ctx context.Context) (sdk.Connection, error) {
	c, err := s.Transport.Connect(ctx)
	return stuckConn{c, s}, err
}

type stuckConn struct {
	sdk.Connection
	s *stuckWrites
}

func (c stuckConn) Write(ctx context.Context, msg jsonrpc.Message) error {
	if r, ok := msg.(*jsonrpc.Request); ok && r.Method == "notifications/progress" {
		c.s.once.Do(func() { close(c.s.stuck) })
	}
	select {
	case <-c.s.stuck:
		<-c.s.release
	default:
	}
	return c.Connection.Write(ctx, msg)
}

// A client that stops reading holds up its own call's result and nothing else: the request
// goroutine that reports a wait goes on, the actor answers, other sessions read the same
// practice and others; once the client reads again, what it is told is in order, the newest
// step having replaced those it was too slow for.
func TestAClientThatDoesNotReadBlocksNothingElse(t *testing.T) {
	t.Parallel()
	clk := actor.NewFake(time.Now())
	env := testenv.Start(t, testenv.Options{Clock: clk})
	ps := env.Sandbox.Practices()
	for _, p := range ps[:2] {
		env.Connect(t, p)
	}
	a := env.Actor(t, ps[0].Name)
	other := session(t, env)
	var page struct{ Returned int }
	callOK(t, other, "search_observation", map[string]any{"practice": ps[0].Name}, &page) // the CapabilityStatement is read once
	stuck := &stuckWrites{stuck: make(chan struct{}), release: make(chan struct{})}
	cs, notes := progressSession(t, env, func(st sdk.Transport) sdk.Transport { stuck.Transport = st; return stuck })
	armed := clk.Timers()

	env.Sandbox.SetFaults(ps[0].Code, sandbox.Faults{FailNext: 1})
	done := callAsync(cs, "search_observation", map[string]any{"practice": ps[0].Name}, "stuck")
	<-stuck.stuck // "attempt 2" is being written, and the client reads no more
	// The request goroutine that reported it goes on to arm its backoff, and then retries.
	if err := clk.WaitTimers(context.Background(), armed+1); err != nil {
		t.Fatal(err)
	}
	clk.Advance(5 * time.Second)
	if _, err := a.Health(context.Background()); err != nil {
		t.Fatalf("the actor does not answer: %v", err)
	}
	for _, p := range ps[:2] {
		callOK(t, other, "search_observation", map[string]any{"practice": p.Name}, &page)
	}
	select {
	case r := <-done:
		t.Fatalf("a result reached a client that reads nothing: %+v", r)
	default:
	}

	close(stuck.release)
	succeeded(t, <-done)
	var got []*sdk.ProgressNotificationParams
	for n := next(t, notes); ; n = next(t, notes) {
		got = append(got, n)
		if strings.HasPrefix(n.Message, "read 1 page") {
			break
		}
	}
	ordered(t, "stuck", got)
	if len(got) != 2 || !strings.Contains(got[0].Message, "attempt 2 of 3") {
		t.Fatalf("told %d: first %q", len(got), got[0].Message)
	}
	if h, _ := a.Health(context.Background()); h.Retries != 1 {
		t.Fatalf("health = %+v", h)
	}
}

// A result from a practice that is not healthy says so, with what the user can do, in the
// words practice_status uses; one from a healthy practice does not.
func TestResultFromAnUnhealthyPracticeSaysSo(t *testing.T) {
	t.Parallel()
	clk := actor.NewFake(time.Now())
	env := testenv.Start(t, testenv.Options{Clock: clk})
	ps := env.Sandbox.Practices()
	for _, p := range ps[:2] {
		env.Connect(t, p)
	}
	sick, well := ps[0], ps[1]
	env.Actor(t, sick.Name)
	env.Actor(t, well.Name)
	events, unsubscribe := env.Tree.Events.Subscribe(64)
	defer unsubscribe()
	// The token endpoint fails for a passing reason at the proactive refresh; the access token
	// still has 30 s to live, so the practice answers, degraded.
	env.Sandbox.SetFaults(sick.Code, sandbox.Faults{DenyConsent: true})
	clk.Advance(time.Hour - 30*time.Second)
	for e := range events {
		if e.Name == sick.Name && e.State == practice.StateDegraded {
			break
		}
	}
	cs := session(t, env)
	said := `"` + sick.Name + `" is degraded: renewing the access token failed for a passing reason`
	for _, c := range []struct {
		tool string
		args map[string]any
	}{
		{"search_observation", nil},
		{"get_patient", nil},
		{"fhir_get", map[string]any{"resource": "Patient", "id": sick.PatientID}},
		{"fhir_search", map[string]any{"resource": "Condition"}},
	} {
		for _, p := range []sandbox.Practice{sick, well} {
			args := map[string]any{"practice": p.Name}
			for k, v := range c.args {
				args[k] = v
			}
			if c.tool == "fhir_get" {
				args["id"] = p.PatientID
			}
			_, all, isErr := callFull(t, cs, c.tool, args)
			if isErr {
				t.Fatalf("%s at %s: %s", c.tool, p.Name, all)
			}
			all = strings.ReplaceAll(all, `\"`, `"`) // a note inside the JSON a tool returns
			if got := strings.Contains(all, said) && strings.Contains(all, "practice_status tells more"); got != (p == sick) {
				t.Errorf("%s at %s: says it is degraded: %v, in %.400s", c.tool, p.Name, got, all)
			}
		}
	}
	// A summary of both says it of the one, in its note, and still lists what each answered.
	var sum struct {
		Note      string
		Practices []struct{ Name, State string }
	}
	callOK(t, cs, "patient_summary", nil, &sum)
	if !strings.Contains(sum.Note, said) || strings.Contains(sum.Note, `"`+well.Name+`" is `) || len(sum.Practices) != 2 {
		t.Errorf("summary: note %q, practices %+v", sum.Note, sum.Practices)
	}
	for _, p := range sum.Practices {
		if p.State != "answered" {
			t.Errorf("summary: %+v", p)
		}
	}
}

// A summary counts practices: total is how many it asks, and the last notification before its
// result is the last practice answering. Pages read are steps in between, progress rising.
func TestProgressOfASummaryCountsPractices(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	ps := env.Sandbox.Practices()
	for _, p := range ps[:2] {
		env.Connect(t, p)
		env.Actor(t, p.Name)
	}
	cs, notes := progressSession(t, env, nil)
	succeeded(t, <-callAsync(cs, "patient_summary", nil, "sum"))
	var got []*sdk.ProgressNotificationParams
	for n := next(t, notes); ; n = next(t, notes) {
		got = append(got, n)
		if n.Progress == 2 {
			break
		}
	}
	ordered(t, "sum", got)
	last := got[len(got)-1]
	if !strings.HasSuffix(last.Message, "answered (2 of 2 practices done)") || len(got) < 3 {
		t.Fatalf("told %d, last %+v", len(got), last)
	}
	for _, n := range got {
		if n.Total != 2 {
			t.Fatalf("%+v: total is not the practices asked", n)
		}
		if strings.Contains(n.Message, ps[0].PatientName) || strings.Contains(n.Message, ps[1].PatientName) {
			t.Fatalf("%+v names the patient", n)
		}
	}
	select {
	case n := <-notes:
		t.Fatalf("told after the last practice answered: %+v", n)
	default:
	}
}
