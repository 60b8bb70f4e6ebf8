// Command bareserver is the baseline healow serve is measured against (serve_bench_test.go): a
// go-sdk server on stdio with one tool that GETs a URL with a bearer token and returns the body,
// and nothing else (no store, no keychain, no practices).
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

type getIn struct {
	URL   string `json:"url"`
	Token string `json:"token"`
}

func main() {
	hc := &http.Client{Timeout: 30 * time.Second} // SSL_CERT_FILE names the sandbox's CA
	s := sdk.NewServer(&sdk.Implementation{Name: "bare", Version: "1"}, nil)
	sdk.AddTool(s, &sdk.Tool{Name: "get", Description: "GET url with the bearer token"},
		func(ctx context.Context, _ *sdk.CallToolRequest, in getIn) (*sdk.CallToolResult, any, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, in.URL, nil)
			if err != nil {
				return nil, nil, err
			}
			req.Header.Set("Authorization", "Bearer "+in.Token)
			req.Header.Set("Accept", "application/fhir+json")
			resp, err := hc.Do(req)
			if err != nil {
				return nil, nil, err
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err == nil && resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("GET: %s", resp.Status)
			}
			if err != nil {
				return nil, nil, err
			}
			return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: string(body)}}}, nil, nil
		})
	if err := s.Run(context.Background(), &sdk.StdioTransport{}); err != nil {
		log.Print(err)
	}
}
