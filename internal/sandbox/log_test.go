package sandbox

import (
	"bytes"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a bytes.Buffer safe for the server's concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestNothingSecretIsLogged(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	s := startSandbox(t, Options{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	p := practice0(t, s, 0)
	c := DefaultClient()

	pk := newPKCE()
	q := consent(t, s, authURL(s, p.BaseURL, testScopes, pk, nil))
	status, body, _ := postToken(t, s, codeForm(q.Get("code"), pk), c.ID, c.Secret)
	tok := decodeToken(t, status, body)
	_, refreshed := refreshWith(t, s, tok.RefreshToken)
	refreshWith(t, s, tok.RefreshToken) // a reuse, which is logged as a failed request
	_, _, docs := searchAll(t, s, p.BaseURL+"/DocumentReference", refreshed.AccessToken)
	fhirGet(t, s, p.BaseURL+"/Patient/"+p.PatientID, refreshed.AccessToken, "")
	fhirGet(t, s, p.BaseURL+"/Patient/"+p.PatientID, tok.AccessToken+"x", "")
	s.Close()

	logged := buf.String()
	if !strings.Contains(logged, "sandbox request") || len(docs) == 0 {
		t.Fatalf("nothing was logged:\n%s", logged)
	}
	for name, secret := range map[string]string{
		"code": q.Get("code"), "state": q.Get("state"), "verifier": pk.verifier, "challenge": url.QueryEscape(pk.challenge),
		"client secret": c.Secret, "access token": tok.AccessToken, "refresh token": tok.RefreshToken,
		"rotated access token": refreshed.AccessToken, "rotated refresh token": refreshed.RefreshToken,
		"id token": tok.IDToken, "patient id": p.PatientID, "patient name": p.PatientName,
	} {
		if secret != "" && strings.Contains(logged, secret) {
			t.Errorf("the log contains the %s", name)
		}
	}
}
