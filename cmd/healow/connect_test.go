package main

import (
	"bytes"
	"context"
	"image"
	_ "image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/pdfproc"
	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/mcp"
	"github.com/healow-mcp/healow-mcp/practice/smart"
)

// user plays the person at the browser for one healow connect.
type user func(t *testing.T, env *testenv.Env, authorizeURL string, paste io.Writer)

// consentAndFollow consents at the sandbox and lets the browser follow the redirect to the
// loopback listener.
func consentAndFollow(t *testing.T, env *testenv.Env, u string, _ io.Writer) {
	redirect, err := env.Sandbox.Consent(context.Background(), u)
	if err != nil {
		t.Error(err)
		return
	}
	resp, err := http.Get(redirect)
	if err != nil {
		t.Error(err)
		return
	}
	resp.Body.Close()
}

// consentAndPaste consents and pastes the whole redirect URL.
func consentAndPaste(t *testing.T, env *testenv.Env, u string, paste io.Writer) {
	redirect, err := env.Sandbox.Consent(context.Background(), u)
	if err != nil {
		t.Error(err)
	}
	io.WriteString(paste, redirect+"\n")
}

func TestConnectCommand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		loopback bool
		faults   sandbox.Faults
		user     user
		timeout  time.Duration
		want     string // in stdout on success, in the error otherwise
		wantErr  bool
		says     []string // also in the error
	}{
		{name: "loopback", loopback: true, user: consentAndFollow, want: "Connected \"Sunrise Family Medicine\""},
		{name: "paste the redirect URL", user: consentAndPaste, want: "Connected"},
		{name: "paste a bare code", user: func(t *testing.T, env *testenv.Env, u string, paste io.Writer) {
			redirect, _ := env.Sandbox.Consent(context.Background(), u)
			r, _ := url.Parse(redirect)
			io.WriteString(paste, r.Query().Get("code")+"\n")
		}, want: "Connected"},
		{name: "consent refused", loopback: true, faults: sandbox.Faults{DenyConsent: true}, user: consentAndFollow, want: "denied", wantErr: true},
		{name: "practice has not activated the app", faults: sandbox.Faults{NotActivated: true}, user: consentAndPaste, want: "not enabled", wantErr: true},
		{name: "invalid grant", user: func(t *testing.T, env *testenv.Env, u string, paste io.Writer) {
			redirect, _ := env.Sandbox.Consent(context.Background(), u)
			r, _ := url.Parse(redirect)
			q := r.Query()
			q.Set("code", "not-a-code-the-server-issued")
			r.RawQuery = q.Encode()
			io.WriteString(paste, r.String()+"\n")
		}, want: "expired, already used or revoked", wantErr: true},
		{name: "a request without the state is refused and changes nothing", loopback: true, user: func(t *testing.T, env *testenv.Env, u string, paste io.Writer) {
			redirect, err := env.Sandbox.Consent(context.Background(), u)
			if err != nil {
				t.Error(err)
				return
			}
			r, _ := url.Parse(redirect)
			q := r.Query()
			q.Set("state", "forged")
			r.RawQuery = q.Encode()
			resp, err := http.Get(r.String())
			if err != nil {
				t.Error(err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "not the sign-in healow-mcp is waiting for") ||
				strings.Contains(string(body), q.Get("code")) {
				t.Errorf("a forged state got %s: %s", resp.Status, body)
			}
			// The sign-in still waits, and the real redirect finishes it.
			if resp, err := http.Get(redirect); err == nil {
				resp.Body.Close()
			}
		}, want: "Connected"},
		{name: "timeout", loopback: true, timeout: 100 * time.Millisecond, want: "no answer from the browser within", wantErr: true},
		{name: "no access to records granted", user: func(t *testing.T, env *testenv.Env, u string, paste io.Writer) {
			// The patient allows signing in but none of the records.
			r, _ := url.Parse(u)
			q := r.Query()
			var kept []string
			for _, s := range strings.Fields(q.Get("scope")) {
				if !strings.HasPrefix(s, "patient/") {
					kept = append(kept, s)
				}
			}
			q.Set("scope", strings.Join(kept, " "))
			r.RawQuery = q.Encode()
			consentAndPaste(t, env, r.String(), paste)
		}, want: "granted no access to the patient's records, so nothing was stored", wantErr: true,
			says: []string{"Asked for: openid fhirUser offline_access launch/patient patient/", "Granted: openid fhirUser offline_access launch/patient."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			redirectURI := "https://app.example/callback"
			var listen *smart.Loopback
			if tc.loopback {
				redirectURI = "http://127.0.0.1:" + freePort(t) + "/callback"
				listen, _ = listenAt(redirectURI, "")
			}
			env := testenv.Start(t, testenv.Options{Sandbox: sandbox.Options{Client: sandbox.Client{RedirectURIs: []string{redirectURI}}}})
			conn := *env.Connector
			conn.Listen = listen
			p := env.Sandbox.Practices()[0]
			env.Sandbox.SetFaults(p.Code, tc.faults)
			pasteR, pasteW := io.Pipe()
			defer pasteW.Close()
			var out, msg bytes.Buffer
			run := connectRun{
				conn: &conn, name: p.Name, base: p.BaseURL,
				timeout: cmp(tc.timeout, 30*time.Second), in: pasteR, out: &out, msg: &msg,
			}
			if tc.user != nil {
				run.browse = func(u string) { go tc.user(t, env, u, pasteW) }
			}
			err := connect(context.Background(), run)
			if tc.wantErr {
				for _, want := range append([]string{tc.want}, tc.says...) {
					if err == nil || !strings.Contains(err.Error(), want) {
						t.Fatalf("err = %v, want it to say %q", err, want)
					}
				}
				if list, _ := env.Store.List(context.Background()); len(list) != 0 || len(env.Secrets.Snapshot()) != 0 {
					t.Fatalf("a failed connect stored %d practices and %d secrets", len(list), len(env.Secrets.Snapshot()))
				}
				return
			}
			if err != nil {
				t.Fatalf("connect: %v (stderr: %s)", err, msg.String())
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if !strings.HasPrefix(lines[0], "https://") || !strings.Contains(out.String(), tc.want) {
				t.Fatalf("stdout = %q", out.String())
			}
			if _, err := env.Store.GetByName(context.Background(), p.Name); err != nil {
				t.Fatalf("the practice was not stored: %v", err)
			}
		})
	}
}

func cmp(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func TestDemoRuns(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	dir := t.TempDir()
	// PDFs are read as healow demo reads them: by healow pdftext, in a child of the built binary.
	if err := demo(context.Background(), &out, dir, mcp.ReadPDFs(pdfproc.NewRunner(binary(t), []string{"pdftext"}, nil).Text)); err != nil {
		t.Fatal(err)
	}
	// The LDL chart is a file, where the demo said.
	chart := filepath.Join(dir, "ldl-trend.png")
	f, err := os.Open(chart)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, format, err := image.Decode(f); err != nil || format != "png" {
		t.Fatalf("%s is not a PNG (%s): %v", chart, format, err)
	}
	for _, want := range []string{"fhir_search                Raw FHIR search", "whoami \"Sunrise Family Medicine\"",
		"find_practice \"sunrise anytown\": 2 found", "Sunrise Family Medicine, 100 Example Parkway, Suite 200, Anytown, IL 62701: code FEIGCD, https://127.0.0.1:", "next page", "complete_oauth → practice pr_",
		// A row as the model reads it, the latest cholesterol asked for by name, and the summary.
		`"test":"Glucose [Mass/volume] in Serum or Plasma","code":"http://loinc.org|2345-7","value":"130 mg/dL","flag":"H"`,
		"search_observation map[latest:true name:cholesterol]: 1 in all",
		`"code":"http://loinc.org|13457-7","value":"124 mg/dL"`,
		"patient_summary (every practice, one call,",
		"Lakeside Internal Medicine: answered",
		"Sunrise Family Medicine: answered",
		"lab_trend ldl: 4 points charted", "chart: " + chart,
		// A word only in the progress notes' text, found at both practices.
		`search_record "complaints": 2 matches`,
		"Lakeside Internal Medicine: complete (15 of 15 kinds of record",
		// A word only in the referral letters' PDF text.
		`search_record "consultant": 2 matches`, "DocumentReference/",
	} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("demo output lacks %q:\n%s", want, out.String())
		}
	}
	// Every typed search prints rows, never a resource the demo cannot describe.
	if strings.Contains(out.String(), "<nil>") {
		t.Fatalf("demo output prints <nil>:\n%s", out.String())
	}
}
