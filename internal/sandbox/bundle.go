package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

type bundle struct {
	ResourceType string        `json:"resourceType"`
	ID           string        `json:"id"`
	Meta         bundleMeta    `json:"meta"`
	Type         string        `json:"type"`
	Total        int           `json:"total"`
	Link         []bundleLink  `json:"link"`
	Entry        []bundleEntry `json:"entry,omitempty"`
}

type bundleMeta struct {
	LastUpdated string `json:"lastUpdated"`
}

type bundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

type bundleEntry struct {
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource"`
	Search   entrySearch     `json:"search"`
}

type entrySearch struct {
	Mode string `json:"mode"`
}

// writeSearchset pages matches. Pages are addressed by _page on the same
// query, which is stable because the data never changes; next is an
// absolute URL under the practice base, as eCW's are.
func (s *Server) writeSearchset(w http.ResponseWriter, r *http.Request, p *practice, typ string, q searchQuery, matches []*record) {
	base := s.baseURL(p)
	first := min((q.page-1)*q.count, len(matches))
	last := min(first+q.count, len(matches))
	b := bundle{
		ResourceType: "Bundle",
		ID:           randomID(),
		Meta:         bundleMeta{LastUpdated: s.now().UTC().Format(time.RFC3339)},
		Type:         "searchset",
		Total:        len(matches),
	}
	page := func(n int) string {
		v := cloneValues(r.URL.Query())
		v.Del("_page")
		if n > 1 {
			v.Set("_page", strconv.Itoa(n))
		}
		u := base + "/" + typ
		if len(v) > 0 {
			u += "?" + v.Encode()
		}
		return u
	}
	b.Link = append(b.Link, bundleLink{"self", page(q.page)})
	if q.count > 0 && last < len(matches) {
		b.Link = append(b.Link, bundleLink{"next", page(q.page + 1)})
	}
	if q.page > 1 {
		b.Link = append(b.Link, bundleLink{"previous", page(q.page - 1)})
	}
	for _, rec := range matches[first:last] {
		b.Entry = append(b.Entry, bundleEntry{
			FullURL:  base + "/" + rec.typ + "/" + rec.id,
			Resource: rec.body,
			Search:   entrySearch{Mode: "match"},
		})
	}
	for _, rec := range included(p, typ, r.URL.Query()["_include"], matches[first:last]) {
		b.Entry = append(b.Entry, bundleEntry{
			FullURL:  base + "/" + rec.typ + "/" + rec.id,
			Resource: rec.body,
			Search:   entrySearch{Mode: "include"},
		})
	}
	writeJSON(w, http.StatusOK, fhirJSON, b)
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vals := range v {
		out[k] = append([]string(nil), vals...)
	}
	return out
}

func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// includes maps the _include values the sandbox serves, as eCW's CapabilityStatement declares
// them, to the element of the matched resource that holds the reference.
var includes = map[string]string{
	"MedicationRequest:medication": "medicationReference",
}

// included returns the resources that page's records reference through the _include values
// asked for, each once, in page order.
func included(p *practice, typ string, asked []string, page []*record) []*record {
	var out []*record
	seen := map[*record]bool{}
	for _, inc := range asked {
		field := includes[inc]
		if field == "" || !strings.HasPrefix(inc, typ+":") {
			continue
		}
		for _, rec := range page {
			var body map[string]json.RawMessage
			var ref struct{ Reference string }
			if json.Unmarshal(rec.body, &body) != nil || json.Unmarshal(body[field], &ref) != nil {
				continue
			}
			t, id, _ := strings.Cut(ref.Reference, "/")
			if target := p.find(t, id); target != nil && !seen[target] {
				seen[target] = true
				out = append(out, target)
			}
		}
	}
	return out
}
