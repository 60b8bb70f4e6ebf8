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

// Directory is the practice directory, loaded once per process and shared by every search. Its
// one lock guards the index in memory; a download runs outside it, and searches that need it
// wait for the same one.
type Directory struct {
	url, folder string
	hc          *http.Client
	clock       actor.Clock
	maxBytes    int64

	mu      sync.Mutex
	idx     *Index
	meta    meta      // the copy's validators and when it was last confirmed
	retryAt time.Time // no refresh before then: the last one failed
	note    string    // why the copy in use is older than MaxAge, if it is
	loading *load     // the load in flight, if any
}

type load struct {
	done chan struct{}
	err  error
}

// New returns a directory; nothing is read or downloaded until the first search.
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
	d := &Directory{url: u, folder: o.Folder, clock: actor.OrReal(o.Clock), maxBytes: o.MaxBytes}
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
	idx, m, stale, err := d.index(ctx)
	if err != nil {
		return Result{}, err
	}
	found, more := idx.Search(q, limit)
	return Result{Practices: found, More: more, Total: idx.Len(), AsOf: m.Checked, Stale: stale}, nil
}

// Code finds a practice by its code. ok is false when the directory does not list it.
func (d *Directory) Code(ctx context.Context, code string) (p Practice, ok bool, err error) {
	c, err := ParseCode(code)
	if err != nil {
		return Practice{}, false, err
	}
	idx, _, _, err := d.index(ctx)
	if err != nil {
		return Practice{}, false, err
	}
	p, ok = idx.Code(c)
	return p, ok, nil
}

// index returns the index to search: the one in memory while it is fresh (or while a failed
// refresh waits to be tried again), else after the one load that reads the copy on disk and
// asks the directory's host. Callers that give up stop waiting; the load goes on for the next.
func (d *Directory) index(ctx context.Context) (*Index, meta, string, error) {
	for {
		d.mu.Lock()
		now := d.clock.Now()
		if d.idx != nil && (now.Sub(d.meta.Checked) < MaxAge || now.Before(d.retryAt)) {
			idx, m, note := d.idx, d.meta, d.note
			d.mu.Unlock()
			return idx, m, note, nil
		}
		l := d.loading
		if l == nil {
			l = &load{done: make(chan struct{})}
			d.loading = l
			go d.load(l)
		}
		d.mu.Unlock()
		select {
		case <-l.done:
		case <-ctx.Done():
			return nil, meta{}, "", fmt.Errorf("the practice directory was still downloading from %s when this call ended; ask again in a moment: %w", d.url, ctx.Err())
		}
		if l.err != nil {
			return nil, meta{}, "", l.err
		}
	}
}

// load brings the index up to date and hands it over. A copy in use that cannot be refreshed
// keeps serving, with a note; only a directory never had is an error.
func (d *Directory) load(l *load) {
	ctx, cancel := d.clock.WithTimeout(context.Background(), loadTimeout)
	defer cancel()
	d.mu.Lock()
	idx, m := d.idx, d.meta
	d.mu.Unlock()

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

	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case err == nil:
		d.idx, d.meta, d.note, d.retryAt = idx, m, "", time.Time{}
	case idx != nil:
		d.idx, d.meta, d.retryAt = idx, m, d.clock.Now().Add(retryAfter)
		d.note = fmt.Sprintf("The practice directory could not be refreshed (%v); this is the copy of %s.", err, m.Checked.Format(time.DateOnly))
	default:
		l.err = fmt.Errorf("the practice directory could not be downloaded: %w; check this machine's connection, or set %s to a directory that can be reached", err, EnvURL)
	}
	d.loading = nil
	close(l.done)
}
