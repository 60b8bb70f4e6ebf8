package status

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/healow-mcp/healow-mcp/internal/advice"
	"github.com/healow-mcp/healow-mcp/practice"
)

// fakeSource answers the listener from its function fields.
type fakeSource struct {
	practices func(context.Context) ([]Practice, error)
	reload    func(context.Context) error
}

var _ Source = fakeSource{}

func (f fakeSource) Practices(ctx context.Context) ([]Practice, error) { return f.practices(ctx) }
func (f fakeSource) Reload(ctx context.Context) error                  { return f.reload(ctx) }
func (f fakeSource) Tree(context.Context) Node                         { return Node{Name: "root"} }

// listen runs a Listener on src, on a socket that accepts from the start, and returns its path.
func listen(t *testing.T, src Source) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "st") // a unix socket's path must be short
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "run", "s.sock")
	l, err := listenPrivate(path)
	if err != nil {
		t.Fatal(err)
	}
	s := &Listener{Path: path, Process: Process{PID: 42, Version: "v"}, Source: src}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.serve(ctx, l) }()
	t.Cleanup(func() { cancel(); <-done })
	return path
}

// A drop re-reads the store before the practices are collected, so the reply no longer shows
// the practice that was dropped.
func TestDropReloadsBeforeAnswering(t *testing.T) {
	t.Parallel()
	reloaded := make(chan struct{}, 1)
	src := fakeSource{
		reload: func(context.Context) error { reloaded <- struct{}{}; return nil },
		practices: func(context.Context) ([]Practice, error) {
			select {
			case <-reloaded:
				return []Practice{}, nil
			default:
				return []Practice{Of(practice.Health{ID: "pr_1", State: practice.StateReady}, "", advice.Command)}, nil
			}
		},
	}
	path := listen(t, src)
	rep, err := Ask(context.Background(), path, Request{Op: OpDrop, ID: "pr_1"})
	if err != nil || len(rep.Practices) != 0 || rep.Tree == nil || rep.Tree.Name != "root" || rep.Process.PID != 42 {
		t.Fatalf("drop: %+v, %v", rep, err)
	}
}

// A source that cannot answer shows as an error in the reply, with the process still named.
func TestSourceFailuresAreReported(t *testing.T) {
	t.Parallel()
	src := fakeSource{
		reload:    func(context.Context) error { return errors.New("the registry is down") },
		practices: func(context.Context) ([]Practice, error) { return nil, errors.New("the registry is down") },
	}
	path := listen(t, src)
	for op, want := range map[string]string{OpDrop: "re-reading the store: the registry is down",
		OpStatus: "collecting the practices' health: the registry is down"} {
		rep, err := Ask(context.Background(), path, Request{Op: op})
		if err == nil || err.Error() != want || rep == nil || rep.Process.PID != 42 {
			t.Errorf("%s: %+v, %v; want %q", op, rep, err, want)
		}
	}
}

// A request of the wrong shape is answered with what is wrong in the request's own words, not
// Go's.
func TestMalformedRequestsAreAnsweredInTheirWords(t *testing.T) {
	t.Parallel()
	path := listen(t, fakeSource{})
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(`{"op":5}` + "\n")); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadBytes('\n')
	if err != nil {
		t.Fatal(err)
	}
	var rep Reply
	if err := json.Unmarshal(line, &rep); err != nil || rep.Error != "the request does not parse: op is a JSON number where a string belongs" {
		t.Fatalf("answer %s (%v)", line, err)
	}
}
