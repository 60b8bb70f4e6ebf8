// Package mcp exposes the practices as MCP tools. Handlers are thin: they validate input, ask
// the registry or one practice actor, and shape the reply. No SDK type leaves this package.
package mcp

import (
	_ "embed"
	"reflect"
	"sync"

	"github.com/google/jsonschema-go/jsonschema"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/version"
	"github.com/healow-mcp/healow-mcp/mcp/recordindex"
	"github.com/healow-mcp/healow-mcp/supervisor"
)

//go:embed instructions.md
var instructions string

// NewServer returns an MCP server whose tools read from the practices in reg.
func NewServer(reg *supervisor.Registry, opts ...Option) *sdk.Server {
	l := NewLoading()
	l.Done(reg, nil)
	return NewServerLoading(l, opts...)
}

// NewServerLoading returns an MCP server that answers initialize and lists its tools at once,
// and whose tool calls wait for the registry l is handed (see Loading).
func NewServerLoading(l *Loading, opts ...Option) *sdk.Server {
	s, _ := newServer(l, opts...)
	return s
}

// Option sets how a server does something it is not told to do by default; a nil Option sets
// nothing.
type Option func(*tools)

// ReadPDFs has search_record read PDFs' text with read. Without it, a PDF is listed as not
// searched: the PDF parser can still be led by a hostile file into a fatal error that no
// recover catches, so the choice of where it runs is the caller's to make. healow serve and
// healow demo pass a reader that runs it in a child process, where such an error ends the
// child; tests may pass recordindex.PDFText, since what a fatal error would end there is the
// test binary, and the PDFs they read are known.
func ReadPDFs(read recordindex.PDFReader) Option {
	return func(t *tools) { t.readPDF = read }
}

// newServer is NewServerLoading that also returns its tools, for tests that look inside.
func newServer(l *Loading, opts ...Option) (*sdk.Server, *tools) {
	s := sdk.NewServer(&sdk.Implementation{Name: "healow-mcp", Title: "healow medical records", Version: version.String()},
		&sdk.ServerOptions{Instructions: instructions, SchemaCache: sdk.NewSchemaCache()})
	t := &tools{loading: l, checks: argChecks{}, outputs: map[reflect.Type]*jsonschema.Schema{}}
	for _, o := range opts {
		if o != nil {
			o(t)
		}
	}
	// search_record's actor starts with the first call that needs it, in the registry's tree.
	t.records = sync.OnceValue(func() *recordIndexes {
		r := newRecordIndexes(t.clock, t.reg.Events(), t.buildRecord)
		t.reg.Start(r)
		return r
	})
	// The typed searches' pages start with the first result kept or asked for, in the
	// registry's tree.
	t.cursors = sync.OnceValue(func() *cursors {
		c := newCursors(t.clock)
		t.reg.Start(c)
		return c
	})
	s.AddReceivingMiddleware(recoverPanics, capResults, releaseAnswers, labelTools, reportProgress, t.checkArguments, t.awaitRegistry)
	t.addFind(s)
	t.addConnect(s)
	t.addPractices(s)
	t.addStatus(s)
	t.addFHIR(s)
	t.addCapability(s)
	t.addPatient(s)
	t.addEncounter(s)
	t.addObservation(s)
	t.addCondition(s)
	t.addMedication(s)
	t.addLists(s)
	t.addReports(s)
	t.addDocuments(s)
	t.addBinary(s)
	t.addSummary(s)
	t.addTrend(s)
	t.addRecordSearch(s)
	return s, t
}

type tools struct {
	// reg and clock are set by awaitRegistry before any tool runs: the registry's clock
	// is the time of the tools too.
	reg     *supervisor.Registry
	clock   actor.Clock
	cursors func() *cursors // typed searches' ordered results, for their following pages
	loading *Loading
	handed  sync.Once
	checks  argChecks                           // filled as tools are added, before any call
	outputs map[reflect.Type]*jsonschema.Schema // output schemas by type, made once (outputSchema)
	records func() *recordIndexes               // search_record's indexes, in memory only
	readPDF recordindex.PDFReader               // nil: PDFs are not read (see ReadPDFs)
}

func ptr[T any](v T) *T { return &v }

// readOnly and the others are the annotations every tool carries, set explicitly.
func readOnly(title string) *sdk.ToolAnnotations {
	return &sdk.ToolAnnotations{Title: title, ReadOnlyHint: true, IdempotentHint: true,
		DestructiveHint: ptr(false), OpenWorldHint: ptr(true)}
}

func writes(title string, idempotent bool) *sdk.ToolAnnotations {
	return &sdk.ToolAnnotations{Title: title, ReadOnlyHint: false, IdempotentHint: idempotent,
		DestructiveHint: ptr(false), OpenWorldHint: ptr(true)}
}
