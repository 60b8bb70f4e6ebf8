package smart

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"

	"github.com/healow-mcp/healow-mcp/practice/egress"
)

// localHosts allows the address of the httptest servers, which the secure default refuses.
var localHosts, _ = egress.Parse("127.0.0.1")

const fixturePath = "testdata/ecw-smart-configuration.json"

// fixtureMap returns the eCW smart-configuration as a generic map, for tests
// that change one field before parsing.
func fixtureMap(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(fixturePath)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ecwConfig parses the fixture, after mutate (if any) has changed it.
func ecwConfig(t *testing.T, mutate func(map[string]any)) *Config {
	t.Helper()
	m := fixtureMap(t)
	if mutate != nil {
		mutate(m)
	}
	c, err := ParseConfig(marshal(t, m))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	return c
}

// newFakeClock is the clock these tests move by hand.
func newFakeClock() *actor.Fake { return actor.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)) }

// assertNoSecrets fails when msg contains any of the sensitive values.
func assertNoSecrets(t *testing.T, msg string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("error message leaks a secret value %q: %s", s, msg)
		}
	}
}
