package pdfproc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/mcp/recordindex"
)

// helperEnv names what the test binary does when a Runner runs it as its child.
const helperEnv = "HEALOW_PDFPROC_HELPER"

// TestHelperProcess is not a test: it is the child the tests' Runners start, this test binary
// run again, doing what helperEnv says. Alone it does nothing.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("the child of the Runner tests")
	}
	switch mode {
	case "child": // healow pdftext
		os.Exit(Child(context.Background(), os.Stdin, os.Stdout, os.Stderr))
	case "limits": // the limits Child sets, as the child holds them
		limit()
		fmt.Printf("stack %d, collector %d, data %d", debug.SetMaxStack(1<<20), debug.SetMemoryLimit(-1), hardLimitNow())
		os.Exit(0)
	case "oom": // a parser that allocates without end, under the child's limits
		limit()
		var kept [][]byte
		for range 64 { // 4 GiB: past the limit, and an end to the test if the limit fails
			b := make([]byte, 64<<20)
			for i := range b {
				b[i] = 1
			}
			kept = append(kept, b)
		}
		os.Stdout.WriteString("survived 4 GiB")
		os.Exit(0)
	case "recursion": // a parser that follows a loop by recursion
		limit()
		os.Stdout.WriteString(string(rune(deep(0) % 128)))
		os.Exit(0)
	case "hang": // a parser in an endless loop, or waiting on nothing
		c := make(chan os.Signal, 1)
		signal.Notify(c, os.Interrupt)
		<-c
		os.Exit(0)
	case "flood": // text without end
		line := []byte(strings.Repeat("word ", 1000) + "\n")
		for {
			if _, err := os.Stdout.Write(line); err != nil {
				os.Exit(1)
			}
		}
	}
	os.Exit(9)
}

// deep recurses without end; its frame is large, so the stack grows fast.
func deep(n int) int {
	var pad [1024]byte
	pad[n%1024] = byte(n)
	return deep(n+1) + int(pad[(n+1)%1024])
}

// helper is a Runner whose child is this test binary doing mode.
func helper(clock actor.Clock, mode string) *Runner {
	r := NewRunner(os.Args[0], []string{"-test.run=^TestHelperProcess$"}, clock)
	r.env = []string{helperEnv + "=" + mode}
	return r
}

func testPDF(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "mcp", "recordindex", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// A PDF's text comes back from the child as PDFText reads it in process; what the child
// refuses comes back with recordindex's reason, and nothing of the file in it.
func TestRunnerReadsTextAndRefusals(t *testing.T) {
	r := helper(nil, "child")
	pdf := testPDF(t, "reportlab.pdf")
	text, err := r.Text(t.Context(), pdf)
	want, _ := recordindex.PDFText(t.Context(), pdf)
	if err != nil || text != want || !strings.Contains(text, "albuterol was prescribed") {
		t.Fatalf("%q, %v; in process %q", text, err, want)
	}
	for _, c := range []struct {
		name string
		data []byte
		want error
	}{
		{"not a PDF", []byte("secret-marker: not a PDF at all"), recordindex.ErrPDFMalformed},
		{"encrypted", testPDF(t, "encrypted.pdf"), recordindex.ErrPDFEncrypted},
		{"a table of a billion objects", []byte("%PDF-1.4\nsecret-marker\ntrailer << /Size 1000000000 >>\n%%EOF\n"), recordindex.ErrPDFTooLarge},
		{"over the size limit", make([]byte, recordindex.MaxDocument+1), recordindex.ErrPDFTooLarge},
	} {
		text, err := r.Text(t.Context(), c.data)
		if text != "" || !errors.Is(err, c.want) || strings.Contains(err.Error(), "secret-marker") {
			t.Errorf("%s: %q, %v; want %v", c.name, text, err, c.want)
		}
	}
}

// The child holds the limits it sets: a stack of 64 MiB, where Go's default is 1 GiB, a memory
// limit for the collector, and on Linux a hard one.
func TestChildLimitsItself(t *testing.T) {
	text, err := helper(nil, "limits").Text(t.Context(), nil)
	data := 0 // no hard limit
	if runtime.GOOS == "linux" {
		data = childMemory
	}
	want := fmt.Sprintf("stack %d, collector %d, data %d", childStack, childSoft, data)
	if err != nil || text != want {
		t.Fatalf("%q, %v; want %q", text, err, want)
	}
}

// A child that allocates past its hard limit is ended by the Go runtime; the server reads
// that it ran out of memory, and goes on.
func TestRunnerSurvivesAChildThatRunsOutOfMemory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the child's hard memory limit is Linux's RLIMIT_DATA")
	}
	text, err := helper(nil, "oom").Text(t.Context(), nil)
	// Under the race detector, its own allocations meet the limit first, and it ends the child
	// with a status of its own.
	if text != "" || !errors.Is(err, ErrCrashed) || !raceEnabled && !strings.Contains(err.Error(), "ran out of memory") {
		t.Fatalf("%q, %v", text, err)
	}
}

// A child that recurses without end stops at its stack limit, a fatal error in Go.
func TestRunnerSurvivesAChildsStackOverflow(t *testing.T) {
	text, err := helper(nil, "recursion").Text(t.Context(), nil)
	if text != "" || !errors.Is(err, ErrCrashed) || !strings.Contains(err.Error(), "nested too deep") {
		t.Fatalf("%q, %v", text, err)
	}
}

// A child that never ends is killed at the deadline, on the Runner's clock.
func TestRunnerKillsAChildPastItsDeadline(t *testing.T) {
	clock := actor.NewFake(time.Date(2024, 10, 1, 12, 0, 0, 0, time.UTC))
	r := helper(clock, "hang")
	started := make(chan struct{})
	r.started = func() { close(started) }
	type result struct {
		text string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		text, err := r.Text(t.Context(), []byte("%PDF-1.4"))
		done <- result{text, err}
	}()
	<-started
	clock.Advance(Timeout - time.Millisecond)
	select {
	case res := <-done:
		t.Fatalf("ended before its deadline: %q, %v", res.text, res.err)
	default:
	}
	clock.Advance(time.Millisecond)
	res := <-done
	if res.text != "" || !errors.Is(res.err, ErrTimedOut) {
		t.Fatalf("%q, %v", res.text, res.err)
	}
}

// A child whose caller gives up is killed, and Text returns only once it has ended.
func TestRunnerKillsAChildWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	r := helper(nil, "hang")
	r.started = cancel
	text, err := r.Text(ctx, nil)
	if text != "" || !errors.Is(err, context.Canceled) {
		t.Fatalf("%q, %v", text, err)
	}
}

// A child that writes without end is cut off at the bound, and killed.
func TestRunnerCutsOffAChildThatWritesTooMuch(t *testing.T) {
	text, err := helper(nil, "flood").Text(t.Context(), nil)
	if text != "" || !errors.Is(err, ErrTooMuchText) {
		t.Fatalf("%.80q, %v", text, err)
	}
}

// At most Children run at once in the process; the next waits for a slot, and runs once one
// is free.
func TestRunnerRunsAtMostTwoChildren(t *testing.T) {
	r := helper(nil, "hang")
	started := make(chan struct{}, Children+1)
	r.started = func() { started <- struct{}{} }
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errs := make(chan error, Children+1)
	for range Children {
		go func() { _, err := r.Text(ctx, nil); errs <- err }()
	}
	for range Children {
		<-started
	}
	if len(slots) != Children {
		t.Fatalf("%d slots taken with %d children running", len(slots), Children)
	}
	next, cancelNext := context.WithCancel(t.Context())
	defer cancelNext()
	go func() { _, err := r.Text(next, nil); errs <- err }()
	cancel() // the first two end; then the third starts
	for range Children {
		if err := <-errs; !errors.Is(err, context.Canceled) {
			t.Fatalf("a cancelled child: %v", err)
		}
	}
	<-started
	cancelNext()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatalf("the third child: %v", err)
	}
}
