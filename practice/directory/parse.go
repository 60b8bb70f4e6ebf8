package directory

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/healow-mcp/healow-mcp/internal/jsonscan"
)

// ErrMalformed is what Parse says of a directory that is not a FHIR Bundle of Organization and
// Endpoint resources.
var ErrMalformed = errors.New("the practice directory is not a FHIR Bundle")

// Bounds on what one practice may bring into the index: a directory is another origin's data and
// is shown to the model, so no field of it may be large.
const (
	maxText = 120  // characters of a name, a street, a city
	maxURL  = 2048 // bytes of a FHIR base URL
)

// codePattern is what a practice code taken from a base URL may look like; eCW's are six
// upper-case letters, but the directory, not this pattern, is the authority on them.
var codePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// The members of an entry the index needs. address is an Organization's list of Address and an
// Endpoint's URL.
type rawEntry struct {
	FullURL              string
	ResourceType         string
	ID                   string
	Name                 string
	Status               string
	Address              []byte
	Endpoint             []string // Organization.endpoint's references
	ManagingOrganization string
}

type rawAddress struct {
	Line                    []string
	City, State, PostalCode string
}

type org struct {
	name string
	addr rawAddress
}

type endpoint struct {
	keys    []string // Endpoint/<id> and its fullUrl
	name    string
	address string
	org     string // the managing organization's reference, normalised
}

// Parse reads a directory Bundle as a stream, one entry at a time, so a 15 MB directory is never
// held whole. Organizations and Endpoints may come in any order and be linked either way
// (Endpoint.managingOrganization or Organization.endpoint); each active Endpoint with an https
// address becomes one practice. Entries that are not what they should be are left out and
// counted; a document that is not a Bundle, or is cut short, is an error.
//
// Each entry is cut from the stream by a small scanner (strings found with one IndexByte each)
// and split by jsonscan, which takes the few members needed without reflection: ten times as
// quick as encoding/json's Decoder (see BenchmarkParse). What no member the index reads holds
// is skipped, not validated; what it reads is checked for its type, and strings with escapes
// are decoded by encoding/json.
func Parse(r io.Reader) (*Index, error) {
	s := &scanner{r: bufio.NewReaderSize(r, 64<<10)}
	orgs := map[string]*org{}
	orgOf := map[string]string{} // an endpoint's key → the organization that lists it
	var eps []endpoint
	skipped, bundle := 0, false
	err := s.object(func(key string, c byte) error {
		switch key {
		case "resourceType":
			v, err := s.value(c)
			if rt, _ := str(v); err == nil && rt != "Bundle" {
				return errors.New("its resourceType is not Bundle")
			}
			bundle = true
			return err
		case "entry":
			if c != '[' {
				return errors.New("its entry is not a list")
			}
			return s.elements(func(raw []byte) {
				e, ok := entryOf(raw)
				if !ok || !collect(e, orgs, orgOf, &eps) {
					skipped++
				}
			})
		}
		_, err := s.value(c)
		return err
	})
	if err == nil && !bundle {
		err = errors.New("it has no resourceType")
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return link(orgs, orgOf, eps, skipped), nil
}

// collect files one entry; it reports false for an entry that cannot serve.
func collect(e rawEntry, orgs map[string]*org, orgOf map[string]string, eps *[]endpoint) bool {
	keys := keysOf(e.ResourceType, e.ID, e.FullURL)
	switch e.ResourceType {
	case "Organization":
		o := &org{name: clean(e.Name)}
		if len(e.Address) > 0 {
			var ok bool
			if o.addr, ok = addressOf(e.Address); !ok {
				return false
			}
		}
		for _, k := range keys {
			orgs[k] = o
		}
		for _, ref := range e.Endpoint {
			if k := normalise(ref, "Endpoint"); k != "" && len(keys) > 0 {
				orgOf[k] = keys[0]
			}
		}
		return len(keys) > 0
	case "Endpoint":
		if e.Status != "" && e.Status != "active" {
			return true // known, but not for connecting: not counted as malformed
		}
		address, ok := str(e.Address)
		if !ok {
			return false
		}
		base, ok := baseURL(address)
		if !ok {
			return false
		}
		*eps = append(*eps, endpoint{keys: keys, name: clean(e.Name), address: base, org: normalise(e.ManagingOrganization, "Organization")})
		return true
	}
	return true // other resources are not practices; nothing is wrong with them
}

// entryOf takes what the index needs from one entry; ok is false when a member it reads is not
// of its FHIR type.
func entryOf(raw []byte) (rawEntry, bool) {
	var e rawEntry
	r := reader{ok: true}
	var res []byte
	err := jsonscan.MemberBytes(raw, func(k, v []byte) {
		switch string(k) {
		case "fullUrl":
			e.FullURL = r.str(v)
		case "resource":
			res = v
		}
	})
	if err != nil || res == nil {
		return e, false
	}
	err = jsonscan.MemberBytes(res, func(k, v []byte) {
		switch string(k) {
		case "resourceType":
			e.ResourceType = r.str(v)
		case "id":
			e.ID = r.str(v)
		case "name":
			e.Name = r.str(v)
		case "status":
			e.Status = r.str(v)
		case "address":
			e.Address = v
		case "managingOrganization":
			e.ManagingOrganization = r.reference(v)
		case "endpoint":
			r.elements(v, func(ref []byte) { e.Endpoint = append(e.Endpoint, r.reference(ref)) })
		}
	})
	return e, err == nil && r.ok
}

// addressOf reads the first of an Organization's addresses.
func addressOf(v []byte) (rawAddress, bool) {
	var a rawAddress
	r := reader{ok: true}
	first := true
	r.elements(v, func(el []byte) {
		if !first {
			return
		}
		first = false
		r.members(el, func(k, v []byte) {
			switch string(k) {
			case "line":
				r.elements(v, func(l []byte) { a.Line = append(a.Line, r.str(l)) })
			case "city":
				a.City = r.str(v)
			case "state":
				a.State = r.str(v)
			case "postalCode":
				a.PostalCode = r.str(v)
			}
		})
	})
	return a, r.ok
}

// reader reads members of their FHIR types, and remembers whether one was not.
type reader struct{ ok bool }

func (r *reader) str(v []byte) string {
	s, ok := str(v)
	r.ok = r.ok && ok
	return s
}

func (r *reader) members(v []byte, f func(k, v []byte)) {
	r.ok = jsonscan.MemberBytes(v, f) == nil && r.ok
}

func (r *reader) elements(v []byte, f func(v []byte)) {
	r.ok = jsonscan.Elements(v, f) == nil && r.ok
}

// reference reads a Reference's reference.
func (r *reader) reference(v []byte) string {
	var ref string
	r.members(v, func(k, v []byte) {
		if string(k) == "reference" {
			ref = r.str(v)
		}
	})
	return ref
}

// str reads a JSON string: one without escapes is its bytes (clean and baseURL judge them),
// and encoding/json decodes, and checks, one with escapes.
func str(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	if bytes.IndexByte(v, '\\') < 0 {
		return string(v[1 : len(v)-1]), true
	}
	var s string
	return s, json.Unmarshal(v, &s) == nil
}

// link joins each endpoint to its organization, whichever of them named the other.
func link(orgs map[string]*org, orgOf map[string]string, eps []endpoint, skipped int) *Index {
	idx := &Index{Skipped: skipped}
	seen := map[string]bool{}
	for _, ep := range eps {
		if seen[ep.address] {
			continue
		}
		seen[ep.address] = true
		o := orgs[ep.org]
		for _, k := range ep.keys {
			if o == nil {
				o = orgs[orgOf[k]]
			}
		}
		p := Practice{BaseURL: ep.address, Code: codeOf(ep.address), Name: ep.name}
		if o != nil {
			if o.name != "" {
				p.Name = o.name
			}
			if len(o.addr.Line) > 0 {
				p.Line = clean(strings.Join(o.addr.Line, ", "))
			}
			p.City, p.State, p.PostalCode = clean(o.addr.City), clean(o.addr.State), clean(o.addr.PostalCode)
		}
		if p.Name == "" {
			p.Name = p.Code
		}
		if p.Name == "" {
			idx.Skipped++
			continue
		}
		idx.add(p)
	}
	return idx
}

// keysOf names a resource the ways a reference may: Type/id, and the entry's fullUrl.
func keysOf(typ, id, fullURL string) []string {
	var keys []string
	if id != "" && typ != "" {
		keys = append(keys, typ+"/"+id)
	}
	if fullURL != "" {
		if k := normalise(fullURL, typ); k != "" && (len(keys) == 0 || k != keys[0]) {
			keys = append(keys, k)
		}
		keys = append(keys, fullURL)
	}
	return keys
}

// normalise reduces a reference to Type/id when it is relative or absolute ("Organization/7",
// "https://host/fhir/Organization/7"), and keeps it whole otherwise ("urn:uuid:…"), which then
// matches an entry's fullUrl.
func normalise(ref, typ string) string {
	if ref == "" || strings.HasPrefix(ref, "urn:") {
		return ref
	}
	ref = strings.TrimSuffix(ref, "/")
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	slash := strings.LastIndexByte(ref, '/')
	if slash > 0 && slash < len(ref)-1 && strings.HasSuffix(ref[:slash], typ) && (slash == len(typ) || ref[slash-len(typ)-1] == '/') {
		return ref[slash-len(typ):]
	}
	return ref
}

// baseURL keeps an Endpoint's address when it is a FHIR base one could connect to: https, a
// host, no user, query or fragment, of a sane length. The egress policy still decides, when
// connecting, whether healow sends anything there.
func baseURL(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) > maxURL || !utf8.ValidString(s) {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return "", false
		}
	}
	return strings.TrimRight(s, "/"), true
}

// codeOf is the practice code: the last segment of the base's path, as eCW's
// https://fhir4.healow.com/fhir/r4/<CODE> has it.
func codeOf(base string) string {
	seg := base[strings.LastIndexByte(base, '/')+1:] // baseURL has no query or fragment
	if strings.Count(base, "/") < 3 {
		return "" // the host itself
	}
	if !codePattern.MatchString(seg) {
		return ""
	}
	return seg
}

// fit reports whether s is already clean: printable ASCII with single inner spaces, short enough.
func fit(s string) bool {
	if len(s) > maxText || s == "" || s[0] == ' ' || s[len(s)-1] == ' ' {
		return s == ""
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c >= 0x7f || c == ' ' && s[i+1] == ' ' {
			return false
		}
	}
	return true
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// clean makes a directory's text fit to show: no control or formatting characters (which could
// reorder what a terminal or a model sees), spaces collapsed, at most maxText characters.
func clean(s string) string {
	if fit(s) {
		return s
	}
	var b strings.Builder
	space, n := false, 0
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			r = ' '
		}
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if n+btoi(space) >= maxText {
			break
		}
		if space {
			b.WriteByte(' ')
			space = false
			n++
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
