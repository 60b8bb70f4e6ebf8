package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// A public client (no Authorization header, client_id in the body) gets tokens and refreshes
// them at a practice that lists client-public; a practice that does not is refused at both
// grants, and its smart-configuration says so.
func TestPublicClient(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	c := DefaultClient()
	open, closed := practice0(t, s, 0), practice0(t, s, 1)
	s.SetFaults(closed.Code, Faults{ConfidentialOnly: true})

	capabilities := func(p Practice) []string {
		resp, err := s.HTTPClient().Get(p.BaseURL + "/.well-known/smart-configuration")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var cfg struct{ Capabilities []string }
		if err := json.NewDecoder(resp.Body).Decode(&cfg); err != nil {
			t.Fatal(err)
		}
		return cfg.Capabilities
	}
	if !slices.Contains(capabilities(open), "client-public") || slices.Contains(capabilities(closed), "client-public") {
		t.Fatalf("capabilities: open %v, closed %v", capabilities(open), capabilities(closed))
	}

	publicExchange := func(p Practice, edit func(url.Values)) (int, []byte) {
		pk := newPKCE()
		q := consent(t, s, authURL(s, p.BaseURL, testScopes, pk, nil))
		form := codeForm(q.Get("code"), pk)
		form.Set("client_id", c.ID)
		if edit != nil {
			edit(form)
		}
		status, body, _ := postToken(t, s, form, "", "")
		return status, body
	}
	st, b := publicExchange(open, nil)
	tok := decodeToken(t, st, b)
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token for a public client with offline_access")
	}
	status, body, _ := postToken(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {c.ID}}, "", "")
	decodeToken(t, status, body)

	refused := []struct {
		name string
		run  func() (int, []byte)
	}{
		{"exchange at a confidential-only practice", func() (int, []byte) { return publicExchange(closed, nil) }},
		{"no client_id", func() (int, []byte) { return publicExchange(open, func(f url.Values) { f.Del("client_id") }) }},
		{"another client_id", func() (int, []byte) {
			return publicExchange(open, func(f url.Values) { f.Set("client_id", "someone-else") })
		}},
		{"refresh at a confidential-only practice", func() (int, []byte) {
			rt := connect(t, s, closed, testScopes).RefreshToken // as a confidential client
			st, b, _ := postToken(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {c.ID}}, "", "")
			if st2, _ := refreshWith(t, s, rt); st2 != http.StatusOK {
				t.Errorf("the refused public refresh spent the refresh token: the confidential one then answered %d", st2)
			}
			return st, b
		}},
	}
	for _, r := range refused {
		status, body := r.run()
		var e struct{ Error string }
		json.Unmarshal(body, &e)
		if status != http.StatusUnauthorized || e.Error != "invalid_client" {
			t.Errorf("%s: %d %s, want 401 invalid_client", r.name, status, body)
		}
	}
}
