package mcp

import (
	"context"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/supervisor"
)

// NewServerIndexes is NewServer with a look at search_record's memory: how many practices'
// indexes it holds, asked of its actor (which a first search_record call starts).
func NewServerIndexes(reg *supervisor.Registry, opts ...Option) (*sdk.Server, func() int) {
	l := NewLoading()
	l.Done(reg, nil)
	s, t := newServer(l, opts...)
	return s, func() int {
		n, err := t.records().held(context.Background())
		if err != nil {
			panic(err)
		}
		return n
	}
}
