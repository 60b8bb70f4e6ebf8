// Package pdfproc reads a PDF's text in a child process, so that the worst a hostile PDF can
// do is end the child.
//
// recordindex.PDFText bounds what the PDF parser may do and recovers its panics, but a file
// its checks and the parser read differently could still make the parser allocate gigabytes
// or recurse until the stack overflows, and in Go both are fatal errors that no recover
// catches: in the server they would end every practice's session. So healow serve runs
// PDFText in a copy of itself (Child, behind a hidden subcommand) with small limits on its
// stack and memory, one document at a time, and a Runner in the server turns whatever becomes
// of the child (text, a refusal, a crash, a kill, a timeout) into the text or a short reason.
//
// The child is given the document on stdin and nothing else: no environment, no file. It
// writes the text on stdout, a pipe to the server (whose own stdout is the MCP transport),
// and on failure one word from a fixed list on stderr, never anything of the PDF.
package pdfproc

import (
	"errors"
	"time"

	"github.com/healow-mcp/healow-mcp/mcp/recordindex"
)

const (
	// Timeout is how long one document may take, start of the child included. A clinical PDF
	// takes milliseconds; the 127-page test file, 0.2 s.
	Timeout = 15 * time.Second
	// Children is how many children run at once in the whole process: a build reads its
	// documents one after another, and a machine with two CPUs has other work.
	Children = 2

	maxInput  = recordindex.MaxDocument // what the child reads of stdin
	maxOutput = recordindex.MaxPDFText  // what the server reads of its stdout
	maxStderr = 4 << 10                 // what the server reads of its stderr

	childStack  = 64 << 20  // the most stack a goroutine of the child may have
	childSoft   = 512 << 20 // the child's memory limit for the garbage collector
	childMemory = 1 << 30   // its hard limit, where the system enforces one (limit_linux.go)

	exitRefused  = 3 // the child read the file and refused it, for the reason on stderr
	exitOrphaned = 4 // the child outlived any deadline its server could have set
)

// Why the child gave no text, beyond recordindex's reasons, which the child's refusals carry.
var (
	ErrCrashed     = errors.New("the PDF reader stopped on it")
	ErrTimedOut    = errors.New("reading its text took too long")
	ErrTooMuchText = errors.New("the PDF reader returned more text than it may")
)

// reasons are what the child may say on stderr, each for an error of PDFText: the server maps
// the word back, and says nothing else it read there.
var reasons = []struct {
	word string
	err  error
}{
	{"encrypted", recordindex.ErrPDFEncrypted},
	{"too-large", recordindex.ErrPDFTooLarge},
	{"malformed", recordindex.ErrPDFMalformed},
	{"no-text", recordindex.ErrPDFNoText},
	{"timeout", ErrTimedOut},
}
