package directory_test

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/healow-mcp/healow-mcp/practice/directory"
)

// Whatever a directory's host sends, Parse ends without panicking, and every practice it keeps
// has an https base and text fit to show.
func FuzzParse(f *testing.F) {
	f.Add([]byte(smallDirectory))
	f.Add(genDirectory(2 << 10))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Endpoint","name":"a\u202eb\\"c","address":"https://h/x/Y"}}]}`))
	f.Add([]byte(`{"entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Organization","endpoint":[{"reference":"Endpoint/1"}],"address":[{"line":[1]}]}}],"resourceType":"Bundle"}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		idx, err := directory.Parse(bytes.NewReader(doc))
		if err != nil {
			return
		}
		q, _ := directory.ParseQuery("a")
		found, more := idx.Search(q, idx.Len()+1)
		if more != 0 || len(found) > idx.Len() {
			t.Fatalf("%d found, %d more of %d", len(found), more, idx.Len())
		}
		for _, code := range []string{"Y", "y"} {
			if p, ok := idx.Code(code); ok {
				found = append(found, p)
			}
		}
		for _, p := range found {
			if !strings.HasPrefix(p.BaseURL, "https://") {
				t.Fatalf("base %q", p.BaseURL)
			}
			for _, s := range []string{p.Name, p.Line, p.City, p.State, p.PostalCode} {
				if utf8.RuneCountInString(s) > 120 || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) {
					t.Fatalf("text %q", s)
				}
			}
		}
	})
}
