package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/vault"
)

// doctorEnv is the sandbox with one practice connected through the real SMART flow, and a
// healow doctor that reads the same store and keychain (in memory), with the environment a user
// of the sandbox would export and the tree's clock (a whole second, as a Date header is).
func doctorEnv(t *testing.T) (*testenv.Env, doctor, map[string]string, *actor.Fake, scrubber) {
	t.Helper()
	clock := actor.NewFake(time.Now().Truncate(time.Second))
	env := testenv.Start(t, testenv.Options{Clock: clock})
	p := env.Sandbox.Practices()[0]
	id := env.Connect(t, p).ID
	c := sandbox.DefaultClient()
	port := freePort(t)
	vars := map[string]string{
		"HEALOW_CLIENT_ID":     c.ID,
		"HEALOW_CLIENT_SECRET": c.Secret,
		"HEALOW_REDIRECT_URI":  "http://127.0.0.1:" + port + "/callback",
		"HEALOW_ALLOWED_HOSTS": env.Sandbox.Host(),
		"HEALOW_TOKEN_STORE":   env.Store.Path(),
	}
	d := doctor{getenv: func(k string) string { return vars[k] }, secrets: env.Secrets, now: clock.Now, roots: env.Sandbox.CertPool()}
	scrub := scrubber{}.with(id, "<id>").with(filepath.Dir(env.Store.Path()), "<store folder>").
		with(hostOf(t, env.Sandbox.URL()), "<sandbox>").with(port, "<port>")
	return env, d, vars, clock, scrub
}

// runDoctorGolden runs d, compares its lines with testdata/name.golden and returns the report.
func runDoctorGolden(t *testing.T, d doctor, scrub scrubber, name string) doctorReport {
	t.Helper()
	r := d.run(context.Background())
	var out bytes.Buffer
	r.render(&out, false)
	testenv.Golden(t, "testdata/"+name+".golden", []byte(scrub.table(out.String())))
	return r
}

// statusOf finds the status of the check named name.
func statusOf(t *testing.T, r doctorReport, name string) check {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in %+v", name, r.Checks)
	return check{}
}

func TestDoctorHealthy(t *testing.T) {
	t.Parallel()
	_, d, _, _, scrub := doctorEnv(t)
	r := runDoctorGolden(t, d, scrub, "doctor-healthy")
	for _, c := range r.Checks {
		if c.Status != checkPass {
			t.Errorf("%s: %s %s", c.Name, c.Status, c.Detail)
		}
	}
	if !r.OK {
		t.Fatal("not OK")
	}
	var out bytes.Buffer
	if err := writeJSON(&out, r, true); err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, "testdata/doctor.json.golden", []byte(scrub.scrub(out.String())))
	var back doctorReport
	if err := json.Unmarshal(out.Bytes(), &back); err != nil || !back.OK || len(back.Checks) != len(r.Checks) {
		t.Fatalf("JSON: %v %s", err, out.String())
	}
}

// A store file others can read fails, says so, and is tightened (as healow does on opening it).
func TestDoctorBadStoreMode(t *testing.T) {
	t.Parallel()
	env, d, _, _, scrub := doctorEnv(t)
	if err := os.Chmod(env.Store.Path(), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runDoctorGolden(t, d, scrub, "doctor-bad-mode")
	if c := statusOf(t, r, "token store"); r.OK || c.Status != checkFail || !strings.Contains(c.Detail, "mode 0644") {
		t.Fatalf("OK %v, token store: %+v", r.OK, c)
	}
	if fi, err := os.Stat(env.Store.Path()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the store was left %v (%v)", fi.Mode(), err)
	}
	if r := d.run(context.Background()); !r.OK {
		t.Fatalf("a second run still fails: %+v", r.Checks)
	}
}

// A refresh token 80 days old, of eCW's 90, is a warning that says how to renew it; nothing
// failed, so doctor succeeds.
func TestDoctorExpiringRefreshToken(t *testing.T) {
	t.Parallel()
	env, d, _, clock, scrub := doctorEnv(t)
	ps, err := env.Store.List(context.Background())
	if err != nil || len(ps) != 1 {
		t.Fatal(ps, err)
	}
	ageRefreshToken(t, env.Store, ps[0].ID, clock.Now().Add(-80*24*time.Hour))
	r := runDoctorGolden(t, d, scrub, "doctor-expiring")
	c := statusOf(t, r, "practice "+ps[0].Name+" token")
	if !r.OK || c.Status != checkWarn || !strings.Contains(c.Detail, "expires in 10 days") || !strings.Contains(c.Detail, "healow connect --name") {
		t.Fatalf("OK %v, token: %+v", r.OK, c)
	}
	// Past the 90 days it fails.
	clock.Advance(11 * 24 * time.Hour)
	if c := statusOf(t, d.run(context.Background()), "practice "+ps[0].Name+" token"); c.Status != checkFail || !strings.Contains(c.Detail, "expired on") {
		t.Fatalf("after 91 days: %+v", c)
	}
}

// A practice that cannot be reached fails with the reason; the clock cannot be compared.
func TestDoctorUnreachablePractice(t *testing.T) {
	t.Parallel()
	env, d, _, _, scrub := doctorEnv(t)
	env.Sandbox.Close()
	r := runDoctorGolden(t, d, scrub, "doctor-unreachable")
	name := "practice " + env.Sandbox.Practices()[0].Name
	if c := statusOf(t, r, name); r.OK || c.Status != checkFail || !strings.Contains(c.Detail, "cannot be read") {
		t.Fatalf("OK %v, practice: %+v", r.OK, c)
	}
	if c := statusOf(t, r, "clock"); c.Status != checkSkip {
		t.Fatalf("clock: %+v", c)
	}
}

// The environment's mistakes each fail with what to set; a taken loopback port, a practice's
// clock 5 minutes off and a secret a practice needs are pointed out.
func TestDoctorFindsWhatIsWrong(t *testing.T) {
	t.Parallel()
	env, d, vars, clock, _ := doctorEnv(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	vars["HEALOW_REDIRECT_URI"] = "http://" + busy.Addr().String() + "/callback"
	delete(vars, "HEALOW_CLIENT_ID")
	delete(vars, "HEALOW_CLIENT_SECRET")
	p := env.Sandbox.Practices()[0]
	env.Sandbox.SetFaults(p.Code, sandbox.Faults{ConfidentialOnly: true})
	d.now = func() time.Time { return clock.Now().Add(5 * time.Minute) }
	r := d.run(context.Background())
	for name, want := range map[string]struct{ status, says string }{
		"HEALOW_CLIENT_ID":     {checkFail, "client id"},
		"HEALOW_CLIENT_SECRET": {checkFail, p.Name + " do not list client-public"},
		"HEALOW_REDIRECT_URI":  {checkWarn, "is taken"},
		"clock":                {checkWarn, "5m0s ahead of"},
	} {
		if c := statusOf(t, r, name); c.Status != want.status || !strings.Contains(c.Detail, want.says) {
			t.Errorf("%s: %+v, want %s saying %q", name, c, want.status, want.says)
		}
	}
	// An https redirect whose page forwards to this machine is checked on the port it forwards to;
	// that port beside a loopback redirect is a contradiction.
	vars["HEALOW_REDIRECT_URI"] = "https://app.example/healow/"
	vars["HEALOW_CALLBACK_PORT"] = strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	if c := statusOf(t, d.run(context.Background()), "HEALOW_REDIRECT_URI"); c.Status != checkWarn || !strings.Contains(c.Detail, "forwarded to this machine") {
		t.Errorf("forwarded to a taken port: %+v", c)
	}
	vars["HEALOW_REDIRECT_URI"] = "http://127.0.0.1:8765/callback"
	if c := statusOf(t, d.run(context.Background()), "HEALOW_REDIRECT_URI"); c.Status != checkFail || !strings.Contains(c.Detail, "unset one of them") {
		t.Errorf("a callback port beside a loopback redirect: %+v", c)
	}
	delete(vars, "HEALOW_CALLBACK_PORT")
	vars["HEALOW_REDIRECT_URI"] = "http://app.example/callback"
	vars[`HEALOW_ALLOWED_HOSTS`] = "https://127.0.0.1"
	r = d.run(context.Background())
	for name, says := range map[string]string{"HEALOW_REDIRECT_URI": "clear text", "HEALOW_ALLOWED_HOSTS": "https://127.0.0.1"} {
		if c := statusOf(t, r, name); c.Status != checkFail || !strings.Contains(c.Detail, says) {
			t.Errorf("%s: %+v", name, c)
		}
	}
}

// lockedKeychain answers every read as a locked keychain does.
type lockedKeychain struct{ vault.Secrets }

func (lockedKeychain) Get(string, vault.SecretKind) (string, error) {
	return "", errors.New("vault: read from the OS keychain: the collection is locked: unlock it")
}

// A keychain that cannot be read fails, with the keychain's own sentence; a practice without a
// refresh token is a warning that says when it stops answering.
func TestDoctorKeychainAndMissingRefreshToken(t *testing.T) {
	t.Parallel()
	env, d, _, _, _ := doctorEnv(t)
	ps, err := env.Store.List(context.Background())
	if err != nil || len(ps) != 1 {
		t.Fatal(ps, err)
	}
	if err := env.Secrets.Delete(ps[0].ID, vault.RefreshToken); err != nil {
		t.Fatal(err)
	}
	r := d.run(context.Background())
	if c := statusOf(t, r, "practice "+ps[0].Name+" token"); !r.OK || c.Status != checkWarn || !strings.Contains(c.Detail, "no refresh token is held") {
		t.Fatalf("OK %v, token: %+v", r.OK, c)
	}
	d.secrets = lockedKeychain{env.Secrets}
	r = d.run(context.Background())
	if c := statusOf(t, r, "keychain"); r.OK || c.Status != checkFail || !strings.Contains(c.Detail, "unlock it") {
		t.Fatalf("OK %v, keychain: %+v", r.OK, c)
	}
}

// The binary: a failed check is exit status 3, --json is one JSON document, and --help says how
// to use it and exits 0.
func TestDoctorBinary(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HEALOW_") {
			env = append(env, kv)
		}
	}
	c := newCLI(t, ctx, append(env, "HEALOW_TOKEN_STORE="+filepath.Join(t.TempDir(), "tokens.db")))
	out, code := c.run(t, "doctor")
	if code != statusFailed || !strings.Contains(out, "FAIL  HEALOW_CLIENT_ID") || !strings.Contains(out, "does not exist yet") {
		t.Fatalf("healow doctor without HEALOW_CLIENT_ID exited %d:\n%s", code, out)
	}
	out, code = c.run(t, "doctor", "--json")
	var r doctorReport
	if err := json.Unmarshal([]byte(out), &r); code != statusFailed || err != nil || r.OK {
		t.Fatalf("healow doctor --json exited %d (%v):\n%s", code, err, out)
	}
	cmd := c.command("doctor", "--help")
	help, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(help), "healow doctor [--json]") || !strings.Contains(string(help), "Exit status") {
		t.Fatalf("healow doctor --help: %v\n%s", err, help)
	}
}
