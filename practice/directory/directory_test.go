package directory_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/practice/directory"
)

// host is a directory's host: it serves body with an ETag and a Last-Modified, answers 304 to a
// request that names them, and remembers every request.
type host struct {
	*httptest.Server
	mu       sync.Mutex
	body     string
	etag     string
	status   int // when set, every answer
	requests []*http.Request
}

func newHost(t *testing.T, body string) *host {
	h := &host{body: body, etag: `"v1"`}
	h.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.requests = append(h.requests, r.Clone(context.Background()))
		if h.status != 0 {
			w.WriteHeader(h.status)
			return
		}
		w.Header().Set("ETag", h.etag)
		w.Header().Set("Last-Modified", "Mon, 30 Nov 2026 08:00:00 GMT")
		if r.Header.Get("If-None-Match") == h.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		fmt.Fprint(w, h.body)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *host) set(f func(h *host)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f(h)
}

func (h *host) seen() []*http.Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*http.Request(nil), h.requests...)
}

func newDirectory(t *testing.T, h *host, folder string, clock actor.Clock) *directory.Directory {
	t.Helper()
	return open(t, directory.Options{URL: h.URL + "/apps/api/v1/fhir/activated_clinical_endpoints", Folder: folder, HTTP: h.Client(), Clock: clock})
}

// open returns the directory o describes, served until the test ends; the end waits for the
// directory's loop and its load, so nothing writes the test's folder after it.
func open(t *testing.T, o directory.Options) *directory.Directory {
	t.Helper()
	d, err := directory.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Serve(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return d
}

func search(t *testing.T, d *directory.Directory, q string) directory.Result {
	t.Helper()
	r, err := d.Search(context.Background(), q, directory.DefaultLimit)
	if err != nil {
		t.Fatalf("%q: %v", q, err)
	}
	return r
}

var start = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// The first search downloads the directory into the folder, 0600, with a plain GET that carries
// no credential; every later search, in this process or the next, reads that copy.
func TestFirstUseDownloadsAndKeepsACopy(t *testing.T) {
	t.Parallel()
	h := newHost(t, smallDirectory)
	folder := filepath.Join(t.TempDir(), "store")
	clock := actor.NewFake(start)
	d := newDirectory(t, h, folder, clock)
	if r := search(t, d, "sunrise family"); names(r.Practices) != "Sunrise Family Medicine" || r.Total != 5 || !r.AsOf.Equal(start) || r.Note() != "" {
		t.Fatalf("%+v", r)
	}
	search(t, d, "lakeside")
	clock.Advance(6 * 24 * time.Hour)
	again := newDirectory(t, h, folder, clock) // the next process
	if r := search(t, again, "FEIGCD"); names(r.Practices) != "Sunrise Family Medicine | Feigcd Wellness" {
		t.Fatalf("from the copy: %+v", r)
	}
	reqs := h.seen()
	if len(reqs) != 1 {
		t.Fatalf("%d requests to the directory's host, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodGet || r.URL.Path != "/apps/api/v1/fhir/activated_clinical_endpoints" || r.URL.RawQuery != "" {
		t.Errorf("%s %s", r.Method, r.URL)
	}
	for _, name := range []string{"Authorization", "Cookie", "Proxy-Authorization", "If-None-Match", "If-Modified-Since"} {
		if v := r.Header.Get(name); v != "" {
			t.Errorf("the download sent %s: %q", name, v)
		}
	}
	for _, f := range []string{"practice-directory.json", "practice-directory.meta.json"} {
		fi, err := os.Stat(filepath.Join(folder, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", f, fi.Mode(), err)
		}
	}
	if fi, err := os.Stat(folder); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the folder: %v %v", fi.Mode(), err)
	}
	if left, _ := filepath.Glob(filepath.Join(folder, "*.json.*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// A copy a week old is checked with a conditional GET: a 304 keeps it for another week; a new
// directory replaces it.
func TestAWeekOldCopyIsCheckedConditionally(t *testing.T) {
	t.Parallel()
	h := newHost(t, smallDirectory)
	clock := actor.NewFake(start)
	d := newDirectory(t, h, t.TempDir(), clock)
	search(t, d, "sunrise")

	clock.Advance(directory.MaxAge - time.Minute)
	search(t, d, "sunrise")
	if n := len(h.seen()); n != 1 {
		t.Fatalf("%d requests within the week", n)
	}
	clock.Advance(time.Minute)
	r := search(t, d, "sunrise")
	reqs := h.seen()
	if len(reqs) != 2 || reqs[1].Header.Get("If-None-Match") != `"v1"` || reqs[1].Header.Get("If-Modified-Since") != "Mon, 30 Nov 2026 08:00:00 GMT" {
		t.Fatalf("%d requests; the second sent %v", len(reqs), reqs[len(reqs)-1].Header)
	}
	if !r.AsOf.Equal(start.Add(directory.MaxAge)) || names(r.Practices) != "Sunrise Dental Care | Sunrise Family Medicine" || r.Note() != "" {
		t.Fatalf("after the 304: %+v", r)
	}

	h.set(func(h *host) {
		h.etag = `"v2"`
		h.body = strings.Replace(smallDirectory, "Sunrise Dental Care", "Moonrise Dental Care", 1)
	})
	clock.Advance(directory.MaxAge)
	if r := search(t, d, "sunrise"); names(r.Practices) != "Sunrise Family Medicine" {
		t.Fatalf("after a new directory: %+v", r)
	}
	if n := len(h.seen()); n != 3 {
		t.Fatalf("%d requests", n)
	}
}

// Offline, an old copy still serves, with a note of its date; the host is asked again an hour
// later, not at every search. Without any copy, the search fails saying what to do.
func TestOfflineTheCopyServesWithANote(t *testing.T) {
	t.Parallel()
	h := newHost(t, smallDirectory)
	folder := t.TempDir()
	clock := actor.NewFake(start)
	search(t, newDirectory(t, h, folder, clock), "sunrise")

	h.set(func(h *host) { h.status = http.StatusServiceUnavailable })
	clock.Advance(directory.MaxAge + time.Hour)
	d := newDirectory(t, h, folder, clock) // a new process, offline
	r := search(t, d, "lakeside")
	if names(r.Practices) != "Lakeside Internal Medicine" || !strings.Contains(r.Note(), "could not be refreshed") || !strings.Contains(r.Note(), "copy of 2026-12-01") {
		t.Fatalf("%+v: %s", r, r.Note())
	}
	search(t, d, "sunrise")
	clock.Advance(59 * time.Minute)
	search(t, d, "sunrise")
	if n := len(h.seen()); n != 2 {
		t.Fatalf("%d requests: the host was asked at every search", n)
	}
	h.set(func(h *host) { h.status = 0 })
	clock.Advance(time.Minute)
	if r := search(t, d, "sunrise"); r.Note() != "" || len(h.seen()) != 3 {
		t.Fatalf("back online: %d requests, note %q", len(h.seen()), r.Note())
	}

	h.set(func(h *host) { h.status = http.StatusServiceUnavailable })
	none := newDirectory(t, h, t.TempDir(), clock)
	_, err := none.Search(context.Background(), "sunrise", 10)
	if err == nil || !strings.Contains(err.Error(), "HTTP 503") || !strings.Contains(err.Error(), "HEALOW_DIRECTORY_URL") {
		t.Fatalf("no copy, offline: %v", err)
	}
}

// A download that is too large, cut short or malformed never replaces a good copy.
func TestABadDownloadKeepsTheCopy(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"malformed": `{"resourceType":"Bundle","entry":[{"resource":`,
		"too large": smallDirectory + strings.Repeat(" ", 64<<10),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHost(t, smallDirectory)
			folder := t.TempDir()
			clock := actor.NewFake(start)
			d := open(t, directory.Options{URL: h.URL, Folder: folder, HTTP: h.Client(), Clock: clock, MaxBytes: 32 << 10})
			search(t, d, "sunrise")
			h.set(func(h *host) { h.etag, h.body = `"v2"`, body })
			clock.Advance(directory.MaxAge)
			r := search(t, d, "sunrise")
			if len(r.Practices) != 2 || !strings.Contains(r.Note(), "could not be refreshed") {
				t.Fatalf("%+v %q", r, r.Note())
			}
			clock.Advance(time.Hour)
			again := open(t, directory.Options{URL: h.URL, Folder: folder, HTTP: h.Client(), Clock: clock, MaxBytes: 32 << 10})
			if r := search(t, again, "sunrise"); len(r.Practices) != 2 {
				t.Fatalf("the copy on disk was replaced: %+v", r)
			}
		})
	}
}

// A directory larger than the bound is refused as it arrives, whether or not its host said its
// length, and so is a directory URL that is not https or a redirect to plain http.
func TestOnlyBoundedHTTPS(t *testing.T) {
	t.Parallel()
	big := string(genDirectory(96 << 10))
	for _, chunked := range []bool{false, true} {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if chunked {
				w.(http.Flusher).Flush() // no Content-Length
			}
			fmt.Fprint(w, big)
		}))
		t.Cleanup(srv.Close)
		d := open(t, directory.Options{URL: srv.URL, Folder: t.TempDir(), HTTP: srv.Client(), MaxBytes: 64 << 10})
		if _, err := d.Search(context.Background(), "sunrise", 10); err == nil || !strings.Contains(err.Error(), "larger than healow accepts") || !strings.Contains(err.Error(), "over 64 KiB") {
			t.Errorf("chunked %v: %v", chunked, err)
		}
	}
	for _, u := range []string{"http://connect4.healow.com/x", "https://user:pw@connect4.healow.com/x", "connect4.healow.com/x", "https:///x"} {
		if _, err := directory.New(directory.Options{URL: u, Folder: t.TempDir(), HTTP: http.DefaultClient}); err == nil || !strings.Contains(err.Error(), "HEALOW_DIRECTORY_URL") {
			t.Errorf("%s: %v", u, err)
		}
	}
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, smallDirectory) }))
	t.Cleanup(plain.Close)
	redirect := httptest.NewTLSServer(http.RedirectHandler(plain.URL, http.StatusFound))
	t.Cleanup(redirect.Close)
	d := open(t, directory.Options{URL: redirect.URL, Folder: t.TempDir(), HTTP: redirect.Client()})
	if _, err := d.Search(context.Background(), "sunrise", 10); err == nil || !strings.Contains(err.Error(), "not https") {
		t.Errorf("a redirect to http: %v", err)
	}
}

// A copy of another directory (the sandbox's, say) is not searched for this one.
func TestAnotherDirectorysCopyIsNotUsed(t *testing.T) {
	t.Parallel()
	folder := t.TempDir()
	search(t, newDirectory(t, newHost(t, smallDirectory), folder, nil), "sunrise")
	other := newHost(t, strings.ReplaceAll(smallDirectory, "Sunrise", "Other"))
	if r := search(t, newDirectory(t, other, folder, nil), "sunrise"); len(r.Practices) != 0 || len(other.seen()) != 1 {
		t.Fatalf("%+v", r)
	}
}

// Searches that arrive together wait for one download; one that gives up stops waiting, and
// the download still serves the next.
func TestOneDownloadServesEveryoneWaiting(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var n sync.Mutex
	count := 0
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Lock()
		count++
		n.Unlock()
		<-release
		fmt.Fprint(w, smallDirectory)
	}))
	t.Cleanup(srv.Close)
	d := open(t, directory.Options{URL: srv.URL, Folder: t.TempDir(), HTTP: srv.Client()})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Search(ctx, "sunrise", 10); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "still downloading") {
		t.Fatalf("a caller that gave up: %v", err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if r, err := d.Search(context.Background(), "sunrise", 10); err != nil || len(r.Practices) != 2 {
				t.Errorf("%+v %v", r, err)
			}
		})
	}
	close(release)
	wg.Wait()
	n.Lock()
	defer n.Unlock()
	if count != 1 {
		t.Fatalf("%d downloads", count)
	}
}

// A directory that stops answers the searches waiting for its download at once, cancels the
// download and waits for it to end; a search of a stopped directory says why, wrapping
// actor.ErrDown.
func TestStoppingEndsTheDownloadAndAnswersTheWaiting(t *testing.T) {
	t.Parallel()
	asked := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(asked)
		<-r.Context().Done() // never answers: only the directory's stop ends it
	}))
	t.Cleanup(srv.Close)
	d, err := directory.New(directory.Options{URL: srv.URL, Folder: t.TempDir(), HTTP: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error)
	go func() { served <- d.Serve(ctx) }()
	searched := make(chan error)
	go func() {
		_, err := d.Search(context.Background(), "sunrise", 10)
		searched <- err
	}()
	<-asked
	stop()
	if err := <-searched; err == nil || !strings.Contains(err.Error(), "stopping") {
		t.Fatalf("the waiting search: %v", err)
	}
	if err := <-served; !errors.Is(err, context.Canceled) {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := d.Search(context.Background(), "sunrise", 10); !errors.Is(err, actor.ErrDown) || !strings.Contains(err.Error(), "ask again") {
		t.Fatalf("a search after: %v", err)
	}
}
