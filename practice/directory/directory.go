// Package directory finds practices in eClinicalWorks' published endpoint directory: a FHIR
// Bundle of Organization and Endpoint resources (about 15 MB) whose Endpoint addresses are the
// practices' FHIR base URLs. It is downloaded on first use into the token store's folder,
// refreshed with a conditional GET when it is a week old, and served from that copy when the
// directory's host cannot be reached.
//
// The directory's host is another origin than a practice's: nothing is ever sent to it but a
// plain GET (no token, no client secret, no cookie), and a base URL it lists is only a
// suggestion, which the egress policy still judges when the practice is connected.
package directory

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/quote"
)

// EnvURL names the environment variable that points healow at another directory (the sandbox's,
// or eCW's provider-facing one).
const EnvURL = "HEALOW_DIRECTORY_URL"

// DefaultURL is healow's patient-facing directory: its bases are on fhir4.healow.com, where a
// patient signs in with their healow account.
const DefaultURL = "https://connect4.healow.com/apps/api/v1/fhir/activated_clinical_endpoints"

const (
	// MaxAge is how long a copy serves before it is checked again.
	MaxAge = 7 * 24 * time.Hour
	// DefaultMaxBytes bounds a download: four times today's directory.
	DefaultMaxBytes = 64 << 20
	// DefaultLimit is how many practices a search returns.
	DefaultLimit = 10
	// retryAfter is how long a copy that could not be refreshed serves before the next try, so
	// that a machine offline does not wait on the network at every search.
	retryAfter = time.Hour
	// loadTimeout bounds one download, whoever waits for it.
	loadTimeout = 5 * time.Minute
)

// Options configure a Directory.
type Options struct {
	URL      string       // "" → DefaultURL; https only
	Folder   string       // where the copy is kept: the token store's folder
	HTTP     *http.Client // verifies TLS; it is given no credentials and none are added
	Clock    actor.Clock  // nil → the wall clock
	MaxBytes int64        // 0 → DefaultMaxBytes
}

// Directory is the practice directory, loaded once per process and shared by every search. It
// is an actor (run it with Serve, as a suture service): its loop owns the index in memory and
// the one load in flight, which runs off the loop, and answers the searches waiting for it
// when it ends.
type Directory struct {
	url, folder string
	hc          *http.Client
	clock       actor.Clock
	maxBytes    int64
	box         *actor.Mailbox[*actor.Reply[view]]
}

// view is what a search reads: the index and what is known of it, or why there is none.
type view struct {
	idx  *Index
	meta meta   // the copy's validators and when it was last confirmed
	note string // why the copy in use is older than MaxAge, if it is
	err  error
}

// state is the loop's, and nobody else's.
type state struct {
	view
	retryAt time.Time // no refresh before then: the last one failed
	loading bool      // a load is in flight
	waiting []*actor.Reply[view]
}

// New returns a directory; nothing is read or downloaded until the first search. Searches wait
// until Serve runs.
func New(o Options) (*Directory, error) {
	u := o.URL
	if u == "" {
		u = DefaultURL
	}
	if err := checkURL(u); err != nil {
		return nil, err
	}
	if o.Folder == "" || o.HTTP == nil {
		return nil, errors.New("directory: a folder and an HTTP client are needed")
	}
	d := &Directory{url: u, folder: o.Folder, clock: actor.OrReal(o.Clock), maxBytes: o.MaxBytes, box: actor.NewMailbox[*actor.Reply[view]]()}
	if d.maxBytes <= 0 {
		d.maxBytes = DefaultMaxBytes
	}
	// A copy of the caller's client: no cookie jar, and redirects only to https.
	hc := *o.HTTP
	hc.Jar = nil
	hc.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if r.URL.Scheme != "https" {
			return fmt.Errorf("refusing a redirect of the practice directory to %s: it is not https", quote.Quote(r.URL.String()))
		}
		if len(via) >= 5 {
			return errors.New("the practice directory redirected more than 5 times")
		}
		return nil
	}
	d.hc = &hc
	return d, nil
}

// checkURL refuses a directory URL that is not plain https: the download carries no secret, but
// an http one could be altered on the way, and a user name in it would be a credential.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("%s=%s: want an https URL without a user name, such as %s", EnvURL, quote.Quote(s), DefaultURL)
	}
	return nil
}

// URL is where the directory is downloaded from.
func (d *Directory) URL() string { return d.url }

// Result is what a search found.
type Result struct {
	Practices []Practice
	More      int       // matches beyond Practices
	Total     int       // practices in the directory
	AsOf      time.Time // when the directory's host last confirmed the copy searched
	Stale     string    // why the copy is older than a week, when it is
}

// Note says what a person or a model should know beside the practices: more matches, an old copy.
func (r Result) Note() string {
	var notes []string
	if len(r.Practices) == 0 {
		notes = append(notes, fmt.Sprintf("No practice of the directory's %d matches every word: try fewer words, the city alone, or the first word of the name.", r.Total))
	}
	if r.More > 0 {
		notes = append(notes, fmt.Sprintf("%d more practices match: add a city, a state or more of the name to narrow it.", r.More))
	}
	if r.Stale != "" {
		notes = append(notes, r.Stale)
	}
	return strings.Join(notes, " ")
}

// Search finds practices by words of their name, city, state, postal code or practice code.
func (d *Directory) Search(ctx context.Context, query string, limit int) (Result, error) {
	q, err := ParseQuery(query)
	if err != nil {
		return Result{}, err
	}
	v, err := d.index(ctx)
	if err != nil {
		return Result{}, err
	}
	found, more := v.idx.Search(q, limit)
	return Result{Practices: found, More: more, Total: v.idx.Len(), AsOf: v.meta.Checked, Stale: v.note}, nil
}

// Code finds a practice by its code. ok is false when the directory does not list it.
func (d *Directory) Code(ctx context.Context, code string) (p Practice, ok bool, err error) {
	c, err := ParseCode(code)
	if err != nil {
		return Practice{}, false, err
	}
	v, err := d.index(ctx)
	if err != nil {
		return Practice{}, false, err
	}
	p, ok = v.idx.Code(c)
	return p, ok, nil
}

// String names the directory in the service tree.
func (d *Directory) String() string { return "practice directory" }

// errStopped is why a search gets no answer from a directory whose loop has ended.
var errStopped = errors.New("the practice directory is stopping or restarting; ask again in a moment")

// Serve answers searches until ctx ends. The index in memory serves while it is fresh (or
// while a failed refresh waits to be tried again); otherwise the one load, off the loop, reads
// the copy on disk and asks the directory's host, and every search that arrives meanwhile waits
// for it. A search that gives up stops waiting; the load goes on for the next. When the loop
// ends, the load in flight is cancelled and waited for, so nothing writes the folder after.
func (d *Directory) Serve(ctx context.Context) error {
	s := &state{}
	jobs := actor.NewJobs[*state](ctx)
	var loads sync.WaitGroup
	defer func() {
		for _, r := range s.waiting {
			r.Send(view{err: errStopped})
		}
		d.box.Down(errStopped)
		loads.Wait()
	}()
	d.box.Up()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case r := <-d.box.Receive():
			now := d.clock.Now()
			if s.idx != nil && (now.Sub(s.meta.Checked) < MaxAge || now.Before(s.retryAt)) {
				r.Send(s.view)
				continue
			}
			s.waiting = append(s.waiting, r)
			if !s.loading {
				s.loading = true
				idx, m := s.idx, s.meta
				loads.Add(1)
				jobs.Go(func(ctx context.Context) func(*state) {
					defer loads.Done()
					idx, m, err := d.load(ctx, idx, m)
					return func(s *state) { d.loaded(s, idx, m, err) }
				}, nil)
			}
		case apply := <-jobs.Results():
			apply(s)
		}
	}
}

// index returns the index to search, waiting for the load that brings it up to date.
func (d *Directory) index(ctx context.Context) (view, error) {
	r := actor.NewReply[view]()
	v, err := actor.Ask(ctx, d.box, r, r)
	switch {
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return view{}, fmt.Errorf("the practice directory was still downloading from %s when this call ended; ask again in a moment: %w", d.url, err)
	case err != nil:
		return view{}, err
	}
	return v, v.err
}

// load brings idx, whose meta is m, up to date: from the copy on disk when there is no index in
// memory yet, then from the directory's host when it is a week old. It runs off the loop.
func (d *Directory) load(ctx context.Context, idx *Index, m meta) (*Index, meta, error) {
	ctx, cancel := d.clock.WithTimeout(ctx, loadTimeout)
	defer cancel()
	if idx == nil { // first use in this process: the copy on disk, if it is this URL's
		idx, m = d.readCopy()
	}
	var err error
	if idx == nil || d.clock.Now().Sub(m.Checked) >= MaxAge {
		var fresh *Index
		fresh, m, err = d.refresh(ctx, idx != nil, m)
		if fresh != nil {
			idx = fresh
		}
	}
	return idx, m, err
}

// loaded takes what a load brought and answers the searches that waited for it. A copy in use
// that could not be refreshed keeps serving, with a note; only a directory never had is an
// error.
func (d *Directory) loaded(s *state, idx *Index, m meta, err error) {
	s.loading = false
	var answer view
	switch {
	case err == nil:
		s.idx, s.meta, s.note, s.retryAt = idx, m, "", time.Time{}
		answer = s.view
	case idx != nil:
		s.idx, s.meta, s.retryAt = idx, m, d.clock.Now().Add(retryAfter)
		s.note = fmt.Sprintf("The practice directory could not be refreshed (%v); this is the copy of %s.", err, m.Checked.Format(time.DateOnly))
		answer = s.view
	default:
		answer = view{err: fmt.Errorf("the practice directory could not be downloaded: %w; check this machine's connection, or set %s to a directory that can be reached", err, EnvURL)}
	}
	for _, r := range s.waiting {
		r.Send(answer)
	}
	s.waiting = nil
}
