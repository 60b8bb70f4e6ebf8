package vault

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Environment of a helper process started by TestSeveralProcessesShareOneStore.
const (
	helperStoreEnv = "HEALOW_VAULT_TEST_HELPER_STORE"
	helperNameEnv  = "HEALOW_VAULT_TEST_HELPER_NAME"
	helperRounds   = 40
	helperWrites   = 1 + 2*helperRounds // one Save, then a refresh and a config save per round
)

// TestHelperProcess is not a test: it is the body of a child process that writes to a shared
// store. It does nothing unless started by TestSeveralProcessesShareOneStore.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperStoreEnv)
	if path == "" {
		t.Skip("only runs as a helper process")
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	p := samplePractice(os.Getenv(helperNameEnv))
	if err := s.Save(ctx, p); err != nil {
		t.Fatal(err)
	}
	for i := range helperRounds {
		at := time.Unix(1700000000+int64(i), 0)
		if err := s.RecordRefresh(ctx, p.ID, at.Add(time.Hour), []string{"openid", strconv.Itoa(i)}, at); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveSMARTConfig(ctx, p.ID, fmt.Appendf(nil, `{"round":%d}`, i), at); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSeveralProcessesShareOneStore runs writers in separate processes against one new file at
// the same time, as several healow processes do, and checks that no write was lost or failed
// with "database is locked".
func TestSeveralProcessesShareOneStore(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts child processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip("cannot find the test binary:", err)
	}
	path := filepath.Join(t.TempDir(), "shared", "tokens.db")
	const procs = 4
	var wg sync.WaitGroup
	outputs := make([][]byte, procs)
	errs := make([]error, procs)
	for i := range procs {
		cmd := exec.CommandContext(t.Context(), exe, "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperStoreEnv+"="+path, fmt.Sprintf("%s=practice %d", helperNameEnv, i))
		wg.Go(func() { outputs[i], errs[i] = cmd.CombinedOutput() })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("helper %d: %v\n%s", i, err, outputs[i])
		}
	}

	s := openStoreAt(t, path, nil)
	ps, err := s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != procs {
		t.Fatalf("List = %d practices, want %d", len(ps), procs)
	}
	last := strconv.Itoa(helperRounds - 1)
	for _, p := range ps {
		if len(p.Scopes) != 2 || p.Scopes[1] != last || string(p.SMARTConfig) != `{"round":`+last+`}` {
			t.Errorf("%s: Scopes = %v, SMARTConfig = %s; want the last round's", p.Name, p.Scopes, p.SMARTConfig)
		}
	}
	if g, err := s.Generation(t.Context()); err != nil || g != procs*helperWrites {
		t.Errorf("Generation = %d, %v; want %d, one per write", g, err, procs*helperWrites)
	}
}

// Environment of a helper process started by TestSeveralProcessesShareOneRateBudget.
const helperRateEnv = "HEALOW_VAULT_TEST_RATE_STORE"

// TestRateHelperProcess is not a test: it is the body of a child process that reserves blocks
// of requests from one minute's budget until none is left, and prints how many it got. It does
// nothing unless started by TestSeveralProcessesShareOneRateBudget.
func TestRateHelperProcess(t *testing.T) {
	path := os.Getenv(helperRateEnv)
	if path == "" {
		t.Skip("only runs as a helper process")
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	got := 0
	for {
		r, err := s.ReserveRequests(t.Context(), "https://fhir4.healow.com/fhir/r4/FEIGCD", at, 10, 250)
		if err != nil {
			t.Fatal(err)
		}
		if r.Granted == 0 {
			break
		}
		got += r.Granted
	}
	fmt.Printf("reserved %d\n", got)
}

// TestSeveralProcessesShareOneRateBudget has processes reserve from one practice's minute at
// once, as several healow processes under load do: together they get the minute's 250 requests,
// not one more and not one fewer.
func TestSeveralProcessesShareOneRateBudget(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts child processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip("cannot find the test binary:", err)
	}
	path := filepath.Join(t.TempDir(), "shared", "tokens.db")
	if s, err := Open(path); err != nil { // created once, so the children do not race to migrate
		t.Fatal(err)
	} else {
		s.Close()
	}
	const procs = 4
	var wg sync.WaitGroup
	outputs := make([][]byte, procs)
	errs := make([]error, procs)
	for i := range procs {
		cmd := exec.CommandContext(t.Context(), exe, "-test.run=^TestRateHelperProcess$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), helperRateEnv+"="+path)
		wg.Go(func() { outputs[i], errs[i] = cmd.CombinedOutput() })
	}
	wg.Wait()
	total := 0
	for i, err := range errs {
		if err != nil {
			t.Fatalf("helper %d: %v\n%s", i, err, outputs[i])
		}
		var n int
		for line := range strings.Lines(string(outputs[i])) {
			if _, err := fmt.Sscanf(line, "reserved %d", &n); err == nil {
				break
			}
		}
		total += n
	}
	if total != 250 {
		t.Fatalf("%d processes reserved %d requests in one minute together, want 250", procs, total)
	}
}
