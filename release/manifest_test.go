package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/healow-mcp/healow-mcp/mcp"
)

// The bundle format's JSON schema for manifest_version 0.3, as the bundle CLI
// (@anthropic-ai/mcpb 2.1.2, modelcontextprotocol/mcpb) publishes it: see testdata/README.md.
const schemaFile = "testdata/mcpb-manifest-v0.3.schema.json"

// bundleSchema is the resolved schema a manifest must satisfy.
func bundleSchema(t *testing.T) *jsonschema.Resolved {
	t.Helper()
	b, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	var s jsonschema.Schema
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%s: %v", schemaFile, err)
	}
	rs, err := s.Resolve(nil)
	if err != nil {
		t.Fatalf("%s: %v", schemaFile, err)
	}
	return rs
}

// committed is the manifest.json at the repository's root, as JSON values.
func committed(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("../manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	return m
}

// TestManifestFollowsTheBundleSchema checks the committed manifest, and the manifest packed for
// each platform, against the bundle format's schema: what Claude Desktop and mcpb validate
// check first.
func TestManifestFollowsTheBundleSchema(t *testing.T) {
	t.Parallel()
	rs := bundleSchema(t)
	if err := rs.Validate(committed(t)); err != nil {
		t.Errorf("manifest.json: %v", err)
	}
	m, err := readManifest("../manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range platforms {
		tg, _ := parseTarget(p)
		b, err := forTarget(m, "v1.2.3-rc.1", tg)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		var packed map[string]any
		if err := json.Unmarshal(b, &packed); err != nil {
			t.Fatal(err)
		}
		if err := rs.Validate(packed); err != nil {
			t.Errorf("the manifest packed for %s: %v", p, err)
		}
	}
}

// TestBundleSchemaRefusesWhatTheFormatDoes proves the schema check above can fail: the mistakes
// a hand edit of manifest.json makes are refused.
func TestBundleSchemaRefusesWhatTheFormatDoes(t *testing.T) {
	t.Parallel()
	rs := bundleSchema(t)
	for name, edit := range map[string]func(m map[string]any){
		"an unknown member":     func(m map[string]any) { m["tool"] = []any{} },
		"a server type of none": func(m map[string]any) { m["server"].(map[string]any)["type"] = "go" },
		"no entry point":        func(m map[string]any) { delete(m["server"].(map[string]any), "entry_point") },
		"a platform of none":    func(m map[string]any) { m["compatibility"].(map[string]any)["platforms"] = []any{"macos"} },
		"a setting with no title": func(m map[string]any) {
			delete(m["user_config"].(map[string]any)["client_id"].(map[string]any), "title")
		},
		"a tool with no name": func(m map[string]any) { m["tools"] = []any{map[string]any{"description": "x"}} },
	} {
		m := committed(t)
		edit(m)
		if err := rs.Validate(m); err == nil {
			t.Errorf("the schema accepts a manifest with %s", name)
		}
	}
}

// manifestTool is a tool as the manifest lists it.
type manifestTool struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// maxToolLine is the longest description a manifest tool may have. The manifest's descriptions
// are for the person installing the bundle, who sees them in the client's list of what the
// extension does: a short line each, in their words. The model reads the server's own
// descriptions, which say how to call each tool, so the two are not the same text.
const maxToolLine = 80

// TestManifestListsTheServersTools keeps the manifest's tools equal to what the server lists
// through the protocol, each with a one-line description for a person.
func TestManifestListsTheServersTools(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Tools []manifestTool `json:"tools"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, tool := range m.Tools {
		d := tool.Description
		switch {
		case listed[tool.Name]:
			t.Errorf("manifest.json lists %s twice", tool.Name)
		case d == "" || strings.ContainsAny(d, "\n\r") || len(d) > maxToolLine:
			t.Errorf("manifest.json: %s's description should be one line of at most %d characters, not %q", tool.Name, maxToolLine, d)
		case strings.HasSuffix(d, "."):
			t.Errorf("manifest.json: %s's description %q ends with a period, unlike the others", tool.Name, d)
		}
		listed[tool.Name] = true
	}

	ctx := context.Background()
	cs, end, err := mcp.ConnectInMemory(ctx, mcp.NewServerLoading(mcp.NewLoading()), "manifest-test")
	if err != nil {
		t.Fatal(err)
	}
	defer end()
	served := map[string]bool{}
	for tool, err := range cs.Tools(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		served[tool.Name] = true
		if !listed[tool.Name] {
			t.Errorf("manifest.json does not list the tool %s: add %s to its tools", tool.Name, fmt.Sprintf(`{"name": %q, "description": "..."}`, tool.Name))
		}
	}
	for name := range listed {
		if !served[name] {
			t.Errorf("manifest.json lists %s, which the server does not serve: remove it", name)
		}
	}
	if len(served) == 0 {
		t.Fatal("the server lists no tools")
	}
}
