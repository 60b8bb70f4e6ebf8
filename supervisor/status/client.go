package status

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/jsonscan"
)

// Server is what AskAll learnt from one socket.
type Server struct {
	Socket string
	PID    int
	Reply  *Reply // nil when Err is set
	Err    error  // the server is alive but did not answer in time
}

// Ask sends req to the server listening at socket and returns its reply, giving up when ctx ends.
func Ask(ctx context.Context, socket string, req Request) (*Reply, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	line, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write(append(line, '\n')); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(c)
	sc.Buffer(nil, maxReply)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, err
		}
		return nil, errors.New("the server closed the connection without answering")
	}
	var rep Reply
	if err := json.Unmarshal(sc.Bytes(), &rep); err != nil {
		return nil, fmt.Errorf("the server's answer does not parse: %s", jsonscan.Why(err))
	}
	if rep.Error != "" {
		return &rep, errors.New(rep.Error)
	}
	return &rep, nil
}

// maxReply bounds one reply line: a few KiB per practice.
const maxReply = 16 << 20

// AskAll asks every server with a socket in dir at once, ordered by pid. A socket nobody listens
// on belongs to a process that died without removing it: it is removed and left out, so a dead
// process is never reported. A server that is alive but does not answer before ctx ends is
// reported with Err set.
func AskAll(ctx context.Context, dir string, req Request) ([]Server, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing the servers' sockets in %s: %w", dir, err)
	}
	var out []Server
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), "serve-")
		pid, err := strconv.Atoi(strings.TrimSuffix(rest, ".sock"))
		if !ok || !strings.HasSuffix(rest, ".sock") || err != nil {
			continue
		}
		out = append(out, Server{Socket: filepath.Join(dir, e.Name()), PID: pid})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	dead := make([]bool, len(out))
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() {
			s := &out[i]
			s.Reply, s.Err = Ask(ctx, s.Socket, req)
			if s.Err != nil && s.Reply == nil && nobodyListens(s.Err) {
				dead[i] = true
				if !errors.Is(s.Err, fs.ErrNotExist) {
					os.Remove(s.Socket)
				}
			}
		})
	}
	wg.Wait()
	alive := out[:0]
	for i, s := range out {
		if !dead[i] {
			alive = append(alive, s)
		}
	}
	return alive, nil
}

// nobodyListens tells a socket left by a dead process (connection refused), or one removed
// since it was listed, from a server that is merely slow.
func nobodyListens(err error) bool {
	var errno syscall.Errno
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, fs.ErrNotExist) ||
		(errors.As(err, &errno) && errno == wsaeconnrefused)
}

// wsaeconnrefused is Windows' "connection refused", which syscall.ECONNREFUSED does not match there.
const wsaeconnrefused = 10061
