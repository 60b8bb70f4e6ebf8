package practice

import (
	"bytes"
	"encoding/json"

	"github.com/healow-mcp/healow-mcp/internal/jsonscan"
	"github.com/healow-mcp/healow-mcp/internal/quote"
)

// twiceError: an object gives a key twice, and parsers disagree on which one counts.
type twiceError struct{ key string }

func (e twiceError) Error() string { return "it has " + quote.Quote(e.key) + " twice" }

// fields are an object's members by folded key (see jsonscan.Fold).
type fields map[string]json.RawMessage

// get returns the member named name, matched as encoding/json matches it.
func (f fields) get(name string) json.RawMessage { return f[jsonscan.Fold(name)] }

// fieldsOf splits an object into its members. encoding/json, which reads what is kept, matches
// keys without regard to case ("Entry", "reſource"), so keys are folded the same way here, and
// two keys that fold alike are refused as a key given twice.
func fieldsOf(b []byte) (fields, error) {
	f := fields{}
	dup := ""
	err := jsonscan.Members(b, func(k string, v []byte) {
		folded := jsonscan.Fold(k)
		if _, ok := f[folded]; ok && dup == "" {
			dup = k
		}
		f[folded] = v
	})
	if err == nil && dup != "" {
		err = twiceError{dup}
	}
	return f, err
}

// str reads a JSON string, or "" when raw is not one.
func str(raw json.RawMessage) string {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	json.Unmarshal(raw, &s)
	return s
}
