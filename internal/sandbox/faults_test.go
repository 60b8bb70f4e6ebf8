package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestFaultDenyConsent(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	p, other := practice0(t, s, 0), practice0(t, s, 1)

	// A code obtained before the fault shows eCW's token-endpoint shape.
	pk := newPKCE()
	code := consent(t, s, authURL(s, p.BaseURL, testScopes, pk, nil)).Get("code")
	s.SetFaults(p.Code, Faults{DenyConsent: true})

	q := consent(t, s, authURL(s, p.BaseURL, testScopes, newPKCE(), nil))
	if q.Get("error") != "access_denied" || q.Get("code") != "" || q.Get("state") == "" {
		t.Fatalf("redirect query = %v", q)
	}
	c := DefaultClient()
	status, body, _ := postToken(t, s, codeForm(code, pk), c.ID, c.Secret)
	if status != http.StatusInternalServerError || strings.TrimSpace(string(body)) != `{"error":"access_denied"}` {
		t.Fatalf("token endpoint: %d %s", status, body)
	}
	connect(t, s, other, testScopes) // the other practice is unaffected

	s.SetFaults(p.Code, Faults{})
	connect(t, s, p, testScopes)
}

func TestFaultNotActivated(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	p := practice0(t, s, 0)
	s.SetFaults(p.Code, Faults{NotActivated: true})
	pk := newPKCE()
	code := consent(t, s, authURL(s, p.BaseURL, testScopes, pk, nil)).Get("code")
	c := DefaultClient()
	status, body, hdr := postToken(t, s, codeForm(code, pk), c.ID, c.Secret)
	if status != http.StatusBadRequest || string(body) != "FHIR app authentication is not enabled for this practice" ||
		!strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
		t.Fatalf("token endpoint: %d %q %s", status, body, hdr.Get("Content-Type"))
	}
}

func TestFaultOmitPatient(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	p := practice0(t, s, 1)
	s.SetFaults(p.Code, Faults{OmitPatient: true})
	pk := newPKCE()
	code := consent(t, s, authURL(s, p.BaseURL, testScopes, pk, nil)).Get("code")
	c := DefaultClient()
	status, body, _ := postToken(t, s, codeForm(code, pk), c.ID, c.Secret)
	var raw map[string]any
	json.Unmarshal(body, &raw)
	if _, has := raw["patient"]; has || status != http.StatusOK {
		t.Fatalf("token response has patient: %d %s", status, body)
	}
	tok := decodeToken(t, status, body)
	if claims(t, tok.IDToken)["fhirUser"] != p.BaseURL+"/Patient/"+p.PatientID {
		t.Fatalf("fhirUser does not name the patient")
	}
	if st, _, _ := fhirGet(t, s, p.BaseURL+"/Patient/"+p.PatientID, tok.AccessToken, ""); st != http.StatusOK {
		t.Fatalf("Patient read answered %d", st)
	}
	if _, refreshed := refreshWith(t, s, tok.RefreshToken); refreshed.Patient != "" || refreshed.AccessToken == "" {
		t.Fatalf("refresh response = %+v", refreshed)
	}
}

func TestFaultRevokeRefresh(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	p := practice0(t, s, 0)
	tok := connect(t, s, p, testScopes)
	s.SetFaults(p.Code, Faults{RevokeRefresh: true})
	if status, r := refreshWith(t, s, tok.RefreshToken); status != http.StatusBadRequest || r.Error != "invalid_grant" {
		t.Fatalf("refresh: %d %+v", status, r)
	}
	s.SetFaults(p.Code, Faults{})
	if status, r := refreshWith(t, s, tok.RefreshToken); status != http.StatusBadRequest || r.Error != "invalid_grant" {
		t.Fatalf("revoked token came back: %d %+v", status, r)
	}
}

func TestFaultsOnFHIR(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	p := practice0(t, s, 0)
	tok := connect(t, s, p, testScopes)
	u := p.BaseURL + "/Patient/" + p.PatientID
	s.SetFaults(p.Code, Faults{TooManyRequests: true})
	status, body, hdr := fhirGet(t, s, u, tok.AccessToken, "")
	wantOutcome(t, status, body, http.StatusTooManyRequests, "")
	if hdr.Get("Retry-After") != "" {
		t.Errorf("eCW sends no Retry-After")
	}
	s.SetFaults(p.Code, Faults{Unavailable: true})
	status, body, _ = fhirGet(t, s, u, tok.AccessToken, "")
	wantOutcome(t, status, body, http.StatusServiceUnavailable, "")
	s.SetFaults(p.Code, Faults{})
	if status, _, _ := fhirGet(t, s, u, tok.AccessToken, ""); status != http.StatusOK {
		t.Fatalf("after clearing faults: %d", status)
	}
}
