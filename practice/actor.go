// Package practice runs one actor per connected practice. The actor alone owns that practice's
// SMART configuration, access token, count of each minute's requests and circuit breaker;
// callers reach it only through the typed methods below, which exchange messages with its loop.
package practice

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/advice"
	"github.com/healow-mcp/healow-mcp/practice/smart"
	"github.com/healow-mcp/healow-mcp/vault"
)

// Defaults for Options fields left zero.
const (
	DefaultRequestsPerMinute = 250 // eCW's limit per practice base URL, token requests included
	DefaultRefreshBefore     = 60 * time.Second
	DefaultMaxBody           = 16 << 20
	DefaultConfigMaxAge      = 24 * time.Hour
	DefaultRequestTimeout    = 30 * time.Second
	DefaultMaxRetries        = 2                // so at most three attempts of a GET
	DefaultMaxRetryWait      = 20 * time.Second // longest a caller is held for retries
	DefaultBreakerFailures   = 5                // consecutive failures that open the circuit
	DefaultBreakerCooldown   = 30 * time.Second
	DefaultLeaseTTL          = 30 * time.Second
)

// Options are what every practice actor shares: where secrets and metadata live, how to reach
// the network, and how patient to be with a sick practice.
type Options struct {
	Store   *vault.Store
	Secrets vault.Secrets
	// OAuth is the registered client; its HTTP client also fetches smart-configurations, and its
	// Hosts policy decides which FHIR bases may receive a practice's token (nil: eCW's only).
	OAuth *smart.Client
	// HTTP sends FHIR requests. The actor adds a redirect policy that never leaves the base.
	HTTP *http.Client
	// Clock is the one source of time: now, the refresh timer, backoffs, holds and request
	// deadlines. nil means the wall clock.
	Clock actor.Clock
	// Events, when set, receives the actor's state changes.
	Events *actor.Bus[Event]
	Logger *slog.Logger

	// RequestsPerMinute is the practice's rate limit per wall-clock minute, token requests
	// included, kept for every process that shares Store (eCW counts per FHIR base URL for the
	// app as a whole).
	RequestsPerMinute int
	RefreshBefore     time.Duration // refresh this long before the access token expires
	MaxBody           int64         // largest FHIR answer read, in bytes
	ConfigMaxAge      time.Duration // refetch the SMART configuration after this long
	RequestTimeout    time.Duration // per FHIR request
	MaxRetries        int           // retries of a GET after a 429, a 5xx or a transport error
	MaxRetryWait      time.Duration // total time a caller may be held by retries
	BreakerFailures   int           // consecutive failures that open the circuit breaker
	BreakerCooldown   time.Duration // how long an open circuit refuses calls before a probe
	LeaseTTL          time.Duration // how long a refresh lease holds against other processes
	// Budget bounds the answer bytes held at once by every actor sharing it; nil means the one
	// budget of the process (DefaultBudget).
	Budget *Budget
	// Holder names this process in refresh leases; empty means one chosen per process.
	Holder string
	// Install is how healow was installed, which decides whether its errors send a person to
	// the healow command or only to the MCP tools.
	Install advice.Install

	// onDispatch, for tests, runs in the actor's loop as each request is dispatched.
	onDispatch func(Request)
	// crashAt, for tests, stops a refresh at a named step as if the process died there.
	crashAt func(step string) bool
	// onLeaseRenewed, for tests, runs each time a refresh renews its lease.
	onLeaseRenewed func()
}

func (o Options) withDefaults() Options {
	o.Clock = actor.OrReal(o.Clock)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.HTTP == nil {
		o.HTTP = http.DefaultClient
	}
	if o.Holder == "" {
		o.Holder = processHolder
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.RefreshBefore, DefaultRefreshBefore)
	def(&o.ConfigMaxAge, DefaultConfigMaxAge)
	def(&o.RequestTimeout, DefaultRequestTimeout)
	def(&o.MaxRetryWait, DefaultMaxRetryWait)
	def(&o.BreakerCooldown, DefaultBreakerCooldown)
	def(&o.LeaseTTL, DefaultLeaseTTL)
	if o.RequestsPerMinute == 0 {
		o.RequestsPerMinute = DefaultRequestsPerMinute
	}
	if o.MaxBody == 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.Budget == nil {
		o.Budget = processBudget
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = DefaultMaxRetries
	}
	if o.BreakerFailures == 0 {
		o.BreakerFailures = DefaultBreakerFailures
	}
	return o
}

// processHolder tells this process's refresh leases from another's.
var processHolder = fmt.Sprintf("pid %d %s", os.Getpid(), rand.Text()[:8])

// Actor is one practice's actor. It is a suture service: Serve rebuilds its state from the store
// and the keychain each time it starts.
type Actor struct {
	id   string
	opts Options
	log  *slog.Logger
	box  *actor.Mailbox[request]

	// Touched only by Serve, which suture never runs twice at once. The rate window outlives a
	// restart: the requests the practice saw this minute still count.
	restarts int
	rate     *window
}

// New returns the actor for the stored practice id. It does nothing until Serve runs.
func New(id string, opts Options) *Actor {
	opts = opts.withDefaults()
	return &Actor{
		id:   id,
		opts: opts,
		log:  opts.Logger.With("practice", id),
		box:  actor.NewMailbox[request](),
		rate: newWindow(opts.RequestsPerMinute),
	}
}

// ID is the stored practice id.
func (a *Actor) ID() string { return a.id }

// String names the actor in supervisor events.
func (a *Actor) String() string { return "practice " + a.id }

// Close tells waiting and future callers that this actor will not answer again. The registry
// calls it when it removes the actor from the tree.
func (a *Actor) Close() { a.box.Close(ErrStopped) }

// Fetch performs one FHIR read or search and returns the 2xx answer; any other status is a
// *FHIRError. A 401 leads to one token refresh and one retry.
func (a *Actor) Fetch(ctx context.Context, req Request) (*Response, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	m := &fetchMsg{ctx: ctx, req: req, reply: actor.NewReply[fetchReply]()}
	r, err := actor.Ask(ctx, a.box, request(m), m.reply)
	if err != nil {
		// The actor may still answer, later: what the answer holds goes back then.
		m.reply.Abandon(func(r fetchReply) { r.resp.Release() })
		return nil, err
	}
	return r.resp, r.err
}

// Info describes the connection: who the patient is and what was granted.
func (a *Actor) Info(ctx context.Context) (Info, error) {
	m := &infoMsg{reply: actor.NewReply[Info]()}
	return actor.Ask(ctx, a.box, request(m), m.reply)
}

// Health is answered from the actor's own state at once, even while requests are in flight.
func (a *Actor) Health(ctx context.Context) (Health, error) {
	m := &healthMsg{reply: actor.NewReply[Health]()}
	return actor.Ask(ctx, a.box, request(m), m.reply)
}

// Reload tells the actor that its stored metadata or secrets changed (another process refreshed
// or reconnected the practice). It returns once the actor has read them again and taken what is
// newer.
func (a *Actor) Reload(ctx context.Context) error {
	m := reloadMsg{reply: actor.NewReply[struct{}]()}
	_, err := actor.Ask(ctx, a.box, request(m), m.reply)
	return err
}

// request is the closed set of messages a caller can send to the actor.
type request interface{ isRequest() }

type fetchMsg struct {
	ctx   context.Context
	req   Request
	reply *actor.Reply[fetchReply]

	first        time.Time // when the actor first took it, bounding retries
	notBefore    time.Time // a retry's backoff
	retries      int       // retries after 429, 5xx or transport errors
	failed       error     // the last attempt's failure, which a retry's progress step names
	unauthorized int       // 401s seen; one leads to a refresh and a retry
}

type fetchReply struct {
	resp *Response
	err  error
}

type infoMsg struct{ reply *actor.Reply[Info] }
type healthMsg struct{ reply *actor.Reply[Health] }
type reloadMsg struct{ reply *actor.Reply[struct{}] }

func (*fetchMsg) isRequest()  {}
func (*infoMsg) isRequest()   {}
func (*healthMsg) isRequest() {}
func (reloadMsg) isRequest()  {}

// Response is a 2xx answer from the practice's FHIR server, checked against the connected
// patient: Withheld says what was left out of Body. It holds memory budget until Release.
type Response struct {
	Status      int
	ContentType string
	Body        []byte
	Withheld    Withheld
	// Resources is how many resources the answer holds after the check (a Bundle's entries,
	// else 1), and ResourceType the type of the answer or of its first entry ("" for content
	// that is not FHIR JSON): what the audit trail records, counted where the answer is read.
	Resources    int
	ResourceType string

	budget *hold
}

// Info describes a connected practice and its patient. Nothing in it is secret.
type Info struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	FHIRBaseURL string    `json:"fhir_base_url"`
	PatientID   string    `json:"patient_id"`
	Scopes      []string  `json:"scopes"`
	TokenExpiry time.Time `json:"token_expiry"`
	State       State     `json:"state"`
	// Requestable is what connecting again would ask for, chosen from the practice's SMART
	// configuration as it is known now; nil when the configuration is not known.
	Requestable []string `json:"requestable,omitempty"`
}
