package supervisor

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
	"sort"
	"sync"
	"time"

	"github.com/thejerf/suture/v4"

	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/practice/smart"
)

// statusWait bounds how long a status answer waits for the actors: one that has not answered by
// then is reported as restarting, so the reply is live within a second.
const statusWait = time.Second

// statusServer answers the status protocol (see StatusRequest) on this process's socket.
type statusServer struct {
	tree *Tree
	path string
	proc Process
	log  *slog.Logger
}

func (s *statusServer) String() string { return "status" }

// Serve listens until ctx ends. The socket's folder is made 0700 and the socket 0600, so only
// this user can ask; a socket a dead process with the same pid left behind is replaced.
func (s *statusServer) Serve(ctx context.Context) error {
	l, err := listenPrivate(s.path)
	if err != nil {
		return fmt.Errorf("healow status will not see this server: %w: %w", err, suture.ErrDoNotRestart)
	}
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	var conns sync.WaitGroup
	defer conns.Wait()
	s.log.Debug("answering healow status", "socket", s.path)
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
func (s *statusServer) serveConn(ctx context.Context, c net.Conn) {
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
		var req StatusRequest
		var rep StatusReply
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			rep = StatusReply{Process: s.proc, Error: "the request does not parse: " + err.Error()}
		} else {
			rep = s.answer(ctx, req)
		}
		if enc.Encode(rep) != nil {
			return
		}
	}
}

func (s *statusServer) answer(ctx context.Context, req StatusRequest) StatusReply {
	ctx, cancel := context.WithTimeout(ctx, statusWait)
	defer cancel()
	rep := StatusReply{Process: s.proc, Practices: []PracticeStatus{}}
	reg := s.tree.Registry
	switch req.Op {
	case OpStatus:
	case OpDrop:
		s.log.Info("asked to drop a disconnected practice", "practice", req.ID)
		if err := reg.Sync(ctx); err != nil {
			rep.Error = "re-reading the store: " + err.Error()
			return rep
		}
	default:
		rep.Error = fmt.Sprintf("unknown op %s: want %q or %q", smart.Quote(req.Op), OpStatus, OpDrop)
		return rep
	}
	ps, err := reg.Status(ctx)
	if err != nil {
		rep.Error = "collecting the practices' health: " + err.Error()
		return rep
	}
	rep.Practices = ps
	tree := walk(ctx, s.tree.root)
	rep.Tree = &tree
	return rep
}

// walk describes a supervisor and everything under it, children ordered by name.
func walk(ctx context.Context, sup *suture.Supervisor) Node {
	n := Node{Name: sup.String()}
	services := make(chan []suture.Service, 1)
	go func() { services <- sup.Services() }()
	var list []suture.Service
	select {
	case list = <-services:
	case <-ctx.Done():
	}
	for _, svc := range list {
		switch svc := svc.(type) {
		case *suture.Supervisor:
			n.Children = append(n.Children, walk(ctx, svc))
		case *practice.Actor:
			n.Children = append(n.Children, Node{Name: svc.String(), Practice: svc.ID()})
		default:
			n.Children = append(n.Children, Node{Name: fmt.Sprint(svc)})
		}
	}
	sort.Slice(n.Children, func(i, j int) bool { return n.Children[i].Name < n.Children[j].Name })
	return n
}
