package mcp_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// A server that advertises only wildcard scopes was once asked for no data scope at all; connect
// said "Connected" and every search then said to reconnect, which asked for the same scopes. It
// is now asked for its wildcard, and a sign-in that grants no access to records stores nothing
// and says what was asked and what was granted.
func TestConnectAsksForDataAndRefusesAConnectionWithout(t *testing.T) {
	t.Parallel()
	r, cs := startRogue(t)
	r.set(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(`{"resourceType":"Bundle","type":"searchset","total":0}`))
	}, false)
	r.mu.Lock()
	r.listed = []string{"openid", "profile", "fhirUser", "launch", "launch/patient", "patient/*.*", "user/*.*", "offline_access"}
	r.mu.Unlock()

	connectAs := func(name string) (scope, state string) {
		var started struct {
			AuthorizeURL string `json:"authorize_url"`
			State        string `json:"state"`
		}
		callOK(t, cs, "connect_practice", map[string]any{"name": name, "fhir_base_url": r.base()}, &started)
		u, err := url.Parse(started.AuthorizeURL)
		if err != nil {
			t.Fatal(err)
		}
		return u.Query().Get("scope"), started.State
	}

	scope, state := connectAs("Wildcards")
	if !slices.Contains(strings.Fields(scope), "patient/*.*") || strings.Contains(scope, "user/") {
		t.Fatalf("asked for %q; want the patient wildcard the server lists", scope)
	}
	r.mu.Lock()
	r.grant = "patient/*.*"
	r.mu.Unlock()
	var done struct{ Practice string }
	callOK(t, cs, "complete_oauth", map[string]any{"code": "code-1", "state": state}, &done)
	if done.Practice != "Wildcards" {
		t.Fatalf("complete_oauth = %+v", done)
	}
	searchPage(t, cs, "search_observation", map[string]any{"practice": "Wildcards"})

	_, state = connectAs("Nothing")
	r.mu.Lock()
	r.grant = "openid fhirUser launch/patient offline_access"
	r.mu.Unlock()
	callErr(t, cs, "complete_oauth", map[string]any{"code": "code-2", "state": state},
		"granted no access to the patient's records, so nothing was stored",
		"Asked for: openid fhirUser offline_access launch/patient patient/*.*",
		"Granted: openid fhirUser launch/patient offline_access")
	var list struct{ Practices []struct{ Name string } }
	callOK(t, cs, "list_practices", nil, &list)
	for _, p := range list.Practices {
		if p.Name == "Nothing" {
			t.Fatalf("a connection that reads nothing was stored: %+v", list)
		}
	}
}

// A practice that refuses a page of fhir_search reached through a next link, although the
// wildcard granted covers it, is not answered with advice to connect again: connecting again
// would ask for the same wildcard.
func TestRefusedNextPageGivesNoUselessReconnectAdvice(t *testing.T) {
	t.Parallel()
	r, cs := startRogue(t) // granted patient/*.rs
	r.set(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusForbidden) }, false)
	next := r.base() + "/Observation?patient=pat-1&_page=2"
	_, text, isErr := callFull(t, cs, "fhir_search", map[string]any{"next": next})
	if !isErr || !strings.Contains(text, "connecting again would ask for the same access") || strings.Contains(text, "connect_practice") {
		t.Fatalf("fhir_search next refused with 403: %v %q", isErr, text)
	}
}
