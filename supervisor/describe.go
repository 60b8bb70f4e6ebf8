package supervisor

import (
	"context"
	"fmt"
	"sort"

	"github.com/thejerf/suture/v4"

	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/supervisor/status"
)

// statusSource answers the status service's questions about this tree, so that package status
// needs to know neither the tree nor the registry.
type statusSource struct{ t *Tree }

var _ status.Source = statusSource{}

func (s statusSource) Practices(ctx context.Context) ([]status.Practice, error) {
	return s.t.Registry.Status(ctx)
}

func (s statusSource) Reload(ctx context.Context) error { return s.t.Registry.Sync(ctx) }

func (s statusSource) Tree(ctx context.Context) status.Node { return walk(ctx, s.t.root) }

// walk describes a supervisor and everything under it, children ordered by name.
func walk(ctx context.Context, sup *suture.Supervisor) status.Node {
	n := status.Node{Name: sup.String()}
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
			n.Children = append(n.Children, status.Node{Name: svc.String(), Practice: svc.ID()})
		default:
			n.Children = append(n.Children, status.Node{Name: fmt.Sprint(svc)})
		}
	}
	sort.Slice(n.Children, func(i, j int) bool { return n.Children[i].Name < n.Children[j].Name })
	return n
}
