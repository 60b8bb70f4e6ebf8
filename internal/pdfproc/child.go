package pdfproc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"github.com/healow-mcp/healow-mcp/mcp/recordindex"
)

// Child is the child's side: it limits its own stack and memory, reads a PDF from in (at most
// recordindex.MaxDocument), and writes its text to out, or one word of why not to errOut. It
// returns the exit status for the process: 0 with text, 3 refused, 1 for a failure to read in
// or write out. Nothing of the PDF reaches errOut.
//
// It is for a process of its own: past twice Timeout it ends the process, since a server that
// was killed itself could not kill its child.
func Child(ctx context.Context, in io.Reader, out, errOut io.Writer) int {
	limit()
	watchdog := time.AfterFunc(2*Timeout, func() { os.Exit(exitOrphaned) })
	defer watchdog.Stop()
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	data, err := io.ReadAll(io.LimitReader(in, maxInput+1))
	switch {
	case err != nil:
		fmt.Fprintln(errOut, "unreadable")
		return 1
	case len(data) > maxInput:
		return refuse(errOut, recordindex.ErrPDFTooLarge)
	}
	text, err := recordindex.PDFText(ctx, data)
	if err != nil {
		return refuse(errOut, err)
	}
	if _, err := io.WriteString(out, text); err != nil {
		return 1
	}
	return 0
}

// limit bounds what a fatal path in the parser can take before it ends the child: a recursion
// stops at childStack (Go's default is 1 GiB), and the heap at childMemory where the system
// enforces a limit. The memory limit for the collector makes it work harder first.
func limit() {
	debug.SetMaxStack(childStack)
	debug.SetMemoryLimit(childSoft)
	hardLimit(childMemory)
}

// refuse writes the word for err, and returns the status that says to read it.
func refuse(errOut io.Writer, err error) int {
	word := "failed"
	if errors.Is(err, context.DeadlineExceeded) {
		err = ErrTimedOut
	}
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			word = r.word
		}
	}
	fmt.Fprintln(errOut, word)
	return exitRefused
}
