package status

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/jsonscan"
	"github.com/healow-mcp/healow-mcp/internal/quote"
	"github.com/thejerf/suture/v4"
)

// wait bounds how long a status answer waits for the actors: one that has not answered by then
// is reported as restarting, so the reply is live within a second.
const wait = time.Second

// Source is what a status answer reports on: in `healow serve`, the supervisor tree and its
// registry. Each method returns by the time ctx ends.
type Source interface {
	// Practices returns every practice's status, ordered by name.
	Practices(ctx context.Context) ([]Practice, error)
	// Tree describes the services that run, children ordered by name.
	Tree(ctx context.Context) Node
	// Reload re-reads the store now, so a practice disconnected elsewhere stops being served.
	Reload(ctx context.Context) error
}

// Listener is the service that answers the status protocol (see Request) on Path, a unix socket.
type Listener struct {
	Path    string  // see SocketPath
	Process Process // what every reply says of this process
	Source  Source
	Log     *slog.Logger // nil logs nothing
	// Listening, when set, is closed once the socket first listens.
	Listening chan struct{}
	once      sync.Once
}

func (s *Listener) String() string { return "status" }

// Serve listens until ctx ends. The socket's folder is made 0700 and the socket 0600, so only
// this user can ask; a socket a dead process with the same pid left behind is replaced.
func (s *Listener) Serve(ctx context.Context) error {
	l, err := listenPrivate(s.Path)
	if err != nil {
		return fmt.Errorf("healow status will not see this server: %w: %w", err, suture.ErrDoNotRestart)
	}
	if s.Listening != nil {
		s.once.Do(func() { close(s.Listening) })
	}
	return s.serve(ctx, l)
}

// serve answers on l, which it closes, until ctx ends.
func (s *Listener) serve(ctx context.Context, l net.Listener) error {
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	var conns sync.WaitGroup
	defer conns.Wait()
	s.log().Debug("answering healow status", "socket", s.Path)
	for {
		c, err := l.Accept()
		if err != nil {
			l.Close()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("status socket: %w", err)
		}
		conns.Go(func() { s.serveConn(ctx, c) })
	}
}

func (s *Listener) log() *slog.Logger { return orDiscard(s.Log) }

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

func listenPrivate(path string) (net.Listener, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// serveConn answers each request line until the client hangs up or stays silent too long.
func (s *Listener) serveConn(ctx context.Context, c net.Conn) {
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	sc := bufio.NewScanner(c)
	enc := json.NewEncoder(c)
	for {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if !sc.Scan() {
			return
		}
		var req Request
		var rep Reply
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			rep = Reply{Process: s.Process, Error: "the request does not parse: " + jsonscan.Why(err)}
		} else {
			rep = s.answer(ctx, req)
		}
		if enc.Encode(rep) != nil {
			return
		}
	}
}

func (s *Listener) answer(ctx context.Context, req Request) Reply {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	rep := Reply{Process: s.Process, Practices: []Practice{}}
	switch req.Op {
	case OpStatus:
	case OpDrop:
		s.log().Info("asked to drop a disconnected practice", "practice", req.ID)
		if err := s.Source.Reload(ctx); err != nil {
			rep.Error = "re-reading the store: " + err.Error()
			return rep
		}
	default:
		rep.Error = fmt.Sprintf("unknown op %s: want %q or %q", quote.Quote(req.Op), OpStatus, OpDrop)
		return rep
	}
	ps, err := s.Source.Practices(ctx)
	if err != nil {
		rep.Error = "collecting the practices' health: " + err.Error()
		return rep
	}
	rep.Practices = ps
	tree := s.Source.Tree(ctx)
	rep.Tree = &tree
	return rep
}
