package mcp

import (
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/supervisor"
)

// NewServerIndexes is NewServer with a look at search_record's memory: how many practices'
// indexes it holds.
func NewServerIndexes(reg *supervisor.Registry) (*sdk.Server, func() int) {
	l := NewLoading()
	l.Done(reg, nil)
	s, t := newServer(l)
	return s, t.records.held
}
