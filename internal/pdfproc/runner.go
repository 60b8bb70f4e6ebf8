package pdfproc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/mcp/recordindex"
)

// slots are the children running, in the whole process.
var slots = make(chan struct{}, Children)

// Runner reads PDFs in a child: a program that runs Child on its stdin.
type Runner struct {
	path  string
	args  []string
	clock actor.Clock
	env   []string // the child's environment: none, but a test's helper needs one
	// started, if set, is called once the child runs, for a test to know it.
	started func()
}

// NewRunner returns a Runner of the program at path with args (healow's own, with its hidden
// subcommand), its deadlines on clock.
func NewRunner(path string, args []string, clock actor.Clock) *Runner {
	return &Runner{path: path, args: args, clock: actor.OrReal(clock), env: []string{}}
}

// Text is the PDF's text, read by a child within Timeout, or why not: one of recordindex's
// reasons, ErrTimedOut, ErrTooMuchText, ErrCrashed with what the child died of, or ctx's error
// when ctx ends first (the child is killed). It waits for a slot when Children are running.
// Its signature is recordindex.PDFReader's.
func (r *Runner) Text(ctx context.Context, data []byte) (string, error) {
	if len(data) > maxInput {
		return "", recordindex.ErrPDFTooLarge
	}
	select {
	case slots <- struct{}{}:
		defer func() { <-slots }()
	case <-ctx.Done():
		return "", ctx.Err()
	}
	deadline, cancelDeadline := r.clock.WithTimeout(ctx, Timeout)
	defer cancelDeadline()
	run, kill := context.WithCancel(deadline)
	defer kill()

	cmd := exec.CommandContext(run, r.path, r.args...)
	cmd.Env = r.env
	cmd.Stdin = bytes.NewReader(data)
	stdout := &capped{max: maxOutput, over: kill}
	stderr := &capped{max: maxStderr}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = time.Second // the child starts nothing that could hold its pipes open
	err := cmd.Start()
	if err == nil {
		if r.started != nil {
			r.started()
		}
		err = cmd.Wait()
	}

	switch {
	case ctx.Err() != nil:
		return "", ctx.Err()
	case stdout.full:
		return "", ErrTooMuchText
	case deadline.Err() != nil:
		return "", fmt.Errorf("%w: over %s", ErrTimedOut, Timeout)
	case err == nil:
		return strings.ToValidUTF8(stdout.b.String(), "\uFFFD"), nil
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return "", fmt.Errorf("%w: it could not be started: %w", ErrCrashed, err)
	}
	if exit.ExitCode() == exitRefused {
		word, _, _ := strings.Cut(stderr.b.String(), "\n")
		for _, r := range reasons {
			if word == r.word {
				return "", r.err
			}
		}
	}
	return "", fmt.Errorf("%w: %s", ErrCrashed, died(exit, stderr.b.String()))
}

// died says what ended the child, from its status and what the Go runtime wrote on its
// stderr, in words of its own: the stderr itself is not passed on.
func died(exit *exec.ExitError, stderr string) string {
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		switch line := sc.Text(); {
		case strings.Contains(line, "out of memory"), strings.Contains(line, "cannot allocate memory"):
			return "it ran out of memory"
		case strings.Contains(line, "stack overflow"), strings.Contains(line, "stack exceeds"):
			return "its structure is nested too deep"
		}
	}
	if exit.ExitCode() < 0 {
		return "it was ended by the system: " + exit.String()
	}
	return fmt.Sprintf("it crashed, exit status %d", exit.ExitCode())
}

// capped keeps at most max bytes written to it, and calls over, if set, on the first byte
// past them. It takes all it is given, so that the child is never left blocked on a pipe.
type capped struct {
	b    bytes.Buffer
	max  int
	full bool
	over func()
}

func (c *capped) Write(p []byte) (int, error) {
	if c.full {
		return len(p), nil
	}
	if c.b.Len()+len(p) > c.max {
		c.full = true
		c.b.Write(p[:c.max-c.b.Len()])
		if c.over != nil {
			c.over()
		}
		return len(p), nil
	}
	c.b.Write(p)
	return len(p), nil
}
