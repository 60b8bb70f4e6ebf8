package smart

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
)

// ecwDiscoveryServer answers the smart-configuration only under the
// practice path, as eCW does, and 400 elsewhere.
func ecwDiscoveryServer(t *testing.T, body []byte) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != "/fhir/r4/FEIGCD/.well-known/smart-configuration" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if r.Method != http.MethodGet || r.Header.Get("Accept") != "application/json" {
			http.Error(w, "want GET with Accept: application/json", http.StatusNotAcceptable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestDiscover(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(fixturePath)
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := ecwDiscoveryServer(t, raw)
	for _, base := range []string{srv.URL + "/fhir/r4/FEIGCD", srv.URL + "/fhir/r4/FEIGCD/"} {
		c, err := Discover(context.Background(), srv.Client(), base)
		if err != nil {
			t.Fatalf("Discover(%s): %v", base, err)
		}
		if c.TokenEndpoint != "https://oauthserver.eclinicalworks.com/oauth/oauth2/token" || string(c.Raw) != string(raw) {
			t.Errorf("Discover(%s) = %+v", base, c)
		}
	}
}

func TestDiscoverFailures(t *testing.T) {
	t.Parallel()
	good, err := os.ReadFile(fixturePath)
	if err != nil {
		t.Fatal(err)
	}
	httpEndpoint := strings.Replace(string(good), "https://oauthserver.eclinicalworks.com/oauth/oauth2/token", "http://oauthserver.eclinicalworks.com/oauth/oauth2/token", 1)
	tests := []struct {
		name string
		body []byte
		path string
		want string
	}{
		{"host root answers 400", good, "", "HTTP 400"},
		{"not JSON", []byte("<html>"), "/fhir/r4/FEIGCD", "not valid JSON"},
		{"http endpoint in document", []byte(httpEndpoint), "/fhir/r4/FEIGCD", "clear text"},
		{"body over 1 MiB", []byte(strings.Repeat(" ", maxBody+1)), "/fhir/r4/FEIGCD", "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := ecwDiscoveryServer(t, tt.body)
			_, err := Discover(context.Background(), srv.Client(), srv.URL+tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestDiscoverRefusesBadBase(t *testing.T) {
	t.Parallel()
	srv, hits := ecwDiscoveryServer(t, nil)
	plain := "http" + strings.TrimPrefix(srv.URL, "https") + "/fhir/r4/FEIGCD"
	tests := []struct{ base, want string }{
		{plain, "clear text"},
		{srv.URL + "/fhir/r4/FEIGCD?x=1", "query"},
		{srv.URL + "/fhir/r4/FEIGCD#top", "fragment"},
		{"fhir4.healow.com/fhir/r4/FEIGCD", "absolute https"},
		{"", "empty"},
	}
	for _, tt := range tests {
		_, err := Discover(context.Background(), srv.Client(), tt.base)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Discover(%q) err = %v, want it to mention %q", tt.base, err, tt.want)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the server was contacted %d times for refused bases", n)
	}
}

func TestDiscoverCancelled(t *testing.T) {
	t.Parallel()
	srv, _ := ecwDiscoveryServer(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Discover(ctx, srv.Client(), srv.URL+"/fhir/r4/FEIGCD"); err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Errorf("err = %v, want a cancellation", err)
	}
}

func TestNormalizeBase(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want, wantErr string
	}{
		{"https://fhir4.healow.com/fhir/r4/FEIGCD", "https://fhir4.healow.com/fhir/r4/FEIGCD", ""},
		{" https://fhir4.healow.com/fhir/r4/FEIGCD/ ", "https://fhir4.healow.com/fhir/r4/FEIGCD", ""},
		{"HTTPS://fhir4.healow.com/fhir/r4/FEIGCD", "HTTPS://fhir4.healow.com/fhir/r4/FEIGCD", ""},
		{"http://fhir4.healow.com/fhir/r4/FEIGCD", "", "clear text"},
		{"ftp://fhir4.healow.com/x", "", "absolute https"},
		{"https:fhir4.healow.com", "", "host name"},
		{"https:///fhir/r4", "", "host name"},
		{"https://u:secretpw@fhir4.healow.com/fhir/r4/FEIGCD", "", "user name or password"},
		{"https://fhir4.healow.com/fhir/r4/FEIGCD?", "", "query"},
		{"https://fhir4.healow.com/fhir/r4/FEIGCD#", "", "fragment"},
		{"://nope", "", "not a valid URL"},
	}
	for _, tt := range tests {
		got, err := NormalizeBase(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NormalizeBase(%q) err = %v, want %q", tt.in, err, tt.wantErr)
			} else {
				assertNoSecrets(t, err.Error(), "secretpw")
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeBase(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
