package jsonscan

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
)

// TestFoldMatchesEncodingJSON holds Fold and Same to what they stand for: two keys fold alike
// exactly when encoding/json fills a field named by one from a member named by the other. The
// ASCII fast path is checked against the Unicode fold as well.
func TestFoldMatchesEncodingJSON(t *testing.T) {
	keys := []string{"entry", "Entry", "ENTRY", "eNtRy", "entr\u017f", "\u017fubject", "Subject",
		"\u212aind", "kind", "KIND", "resourceType", "resourcetype", "resource_type", "é", "É",
		"total1", "TOTAL1", "id", "\u0130d", "\u0131d"}
	for _, a := range append(keys, "", "\xff", "\ufffd") {
		if got, want := Fold(a), foldUnicode(a); got != want {
			t.Errorf("Fold(%q) = %q; the Unicode fold says %q", a, got, want)
		}
	}
	for c := rune(0); c < 0x80; c++ {
		if got, want := Fold(string(c)), foldUnicode(string(c)); got != want {
			t.Errorf("Fold(%q) = %q, want %q", c, got, want)
		}
	}
	// Every key here is a valid field name (encoding/json ignores a tag such as "\ufffd").
	for _, a := range keys {
		for _, b := range keys {
			same := Same(a, b)
			if same != (Fold(a) == Fold(b)) {
				t.Errorf("Same(%q, %q) = %v, but their folds are %q and %q", a, b, same, Fold(a), Fold(b))
			}
			if got := fills(t, a, b); got != same {
				t.Errorf("encoding/json fills a field named %q from a member %q: %v; Same says %v", a, b, got, same)
			}
		}
	}
}

// fills says whether encoding/json decodes a member named key into a field named field.
func fills(t *testing.T, field, key string) bool {
	t.Helper()
	typ := reflect.StructOf([]reflect.StructField{{
		Name: "F", Type: reflect.TypeFor[*int](), Tag: reflect.StructTag(`json:` + strconv.Quote(field)),
	}})
	v := reflect.New(typ)
	doc, err := json.Marshal(map[string]int{key: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(doc, v.Interface()); err != nil {
		t.Fatal(err)
	}
	return !v.Elem().Field(0).IsNil()
}

// BenchmarkSame is the cost of matching a Bundle's keys, the commonest use.
func BenchmarkSame(b *testing.B) {
	keys := []string{"resourceType", "id", "type", "total", "link", "entry"}
	for b.Loop() {
		n := 0
		for _, k := range keys {
			if Same(k, "entry") {
				n++
			}
		}
		if n != 1 {
			b.Fatal(n)
		}
	}
}
