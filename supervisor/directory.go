package supervisor

import (
	"context"
	"errors"

	"github.com/healow-mcp/healow-mcp/practice/directory"
)

// FindPractices searches eClinicalWorks' endpoint directory; see directory.Directory.Search. It
// touches no practice and no secret: the directory is public.
func (r *Registry) FindPractices(ctx context.Context, query string) (directory.Result, error) {
	if r.opts.Directory == nil {
		return directory.Result{}, errors.New("this healow has no practice directory; ask the user for the practice's FHIR base URL")
	}
	return r.opts.Directory.Search(ctx, query, directory.DefaultLimit)
}
