package testenv

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// GetFHIR is one GET of a practice's URL with its access token, as the practice actor makes it
// and with nothing around it: the baseline the benchmarks of the MCP path measure against.
func GetFHIR(ctx context.Context, hc *http.Client, u, token string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/fhir+json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return body, err
}
