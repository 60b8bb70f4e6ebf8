package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// The directory lists every practice the sandbox serves, under its own base URL, and the decoys;
// it answers a conditional GET that names its ETag or its date with 304.
func TestDirectoryListsThePracticesAndKnowsConditionalGET(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{Practices: 3})
	hc := s.HTTPClient()
	resp, err := hc.Get(s.DirectoryURL())
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		ResourceType string
		Entry        []struct {
			Resource struct {
				ResourceType, Name, Status string
				Address                    json.RawMessage
			}
		}
	}
	etag, date := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	err = json.NewDecoder(resp.Body).Decode(&b)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || etag == "" || date == "" || b.ResourceType != "Bundle" {
		t.Fatalf("%d %q %q %v", resp.StatusCode, etag, date, err)
	}
	bases := map[string]string{}
	for _, e := range b.Entry {
		var base string
		if e.Resource.ResourceType == "Endpoint" && json.Unmarshal(e.Resource.Address, &base) == nil {
			bases[base] = e.Resource.Status
		}
	}
	for _, p := range s.Practices() {
		if bases[p.BaseURL] != "active" {
			t.Errorf("%s is not listed: %v", p.BaseURL, bases)
		}
	}
	if len(bases) != len(s.Practices())+len(decoys) {
		t.Errorf("%d endpoints", len(bases))
	}
	for _, h := range []http.Header{{"If-None-Match": {etag}}, {"If-Modified-Since": {date}}} {
		req, _ := http.NewRequest(http.MethodGet, s.DirectoryURL(), nil)
		req.Header = h
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("%v: %d", h, resp.StatusCode)
		}
	}
	if n := s.Stats().Directory; n != 3 {
		t.Errorf("%d directory requests counted", n)
	}
	if !strings.HasPrefix(s.DirectoryURL(), s.URL()+"/apps/") {
		t.Errorf("%s", s.DirectoryURL())
	}
}
