package practice

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"unicode"

	"github.com/healow-mcp/healow-mcp/internal/quote"
)

// A small JSON scanner for checking answers: it splits an object into its members and an array
// into its elements as slices of the body, skipping nested values without decoding them, so a
// 16 MiB Bundle is read in one quick pass and only the few elements that name a patient are
// decoded. It does not validate everything encoding/json does; what it hands on is decoded by
// encoding/json later, which refuses what is malformed.

var errMalformed = errors.New("malformed JSON")

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string that starts at b[i] == '"'.
func skipString(b []byte, i int) (int, error) {
	i++
	for {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return 0, errMalformed
		}
		i += j
		slashes := 0
		for k := i - 1; k >= 0 && b[k] == '\\'; k-- {
			slashes++
		}
		i++
		if slashes%2 == 0 {
			return i, nil
		}
	}
}

// skipValue returns the index just past the value that starts at b[i] (after spaces).
func skipValue(b []byte, i int) (int, error) {
	i = skipSpace(b, i)
	if i >= len(b) {
		return 0, errMalformed
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				var err error
				if i, err = skipString(b, i); err != nil {
					return 0, err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
			i++
		}
		return 0, errMalformed
	}
	// A number or a literal ends at a delimiter.
	start := i
	for i < len(b) && !delimiter(b[i]) {
		i++
	}
	if i == start {
		return 0, errMalformed
	}
	return i, nil
}

func delimiter(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// eachMember calls f with the key and raw value of each member of the object b, in order.
func eachMember(b []byte, f func(key string, value []byte)) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errMalformed
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil
	}
	for i < len(b) {
		if b[i] != '"' {
			return errMalformed
		}
		end, err := skipString(b, i)
		if err != nil {
			return err
		}
		key := b[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 { // an escaped key means what it decodes to
			var k string
			if json.Unmarshal(b[i:end], &k) != nil {
				return errMalformed
			}
			key = []byte(k)
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return errMalformed
		}
		start := skipSpace(b, i+1)
		if i, err = skipValue(b, start); err != nil {
			return err
		}
		f(string(key), b[start:i])
		i = skipSpace(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == '}' {
			return nil
		}
		return errMalformed
	}
	return errMalformed
}

// eachElement calls f with each element of the array b, in order.
func eachElement(b []byte, f func(value []byte)) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return errMalformed
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return nil
	}
	for i < len(b) {
		start := i
		var err error
		if i, err = skipValue(b, start); err != nil {
			return err
		}
		f(b[start:i])
		i = skipSpace(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == ']' {
			return nil
		}
		return errMalformed
	}
	return errMalformed
}

// twiceError: an object gives a key twice, and parsers disagree on which one counts.
type twiceError struct{ key string }

func (e twiceError) Error() string { return "it has " + quote.Quote(e.key) + " twice" }

// fields are an object's members by folded key (see fold).
type fields map[string]json.RawMessage

// get returns the member named name, matched as encoding/json matches it.
func (f fields) get(name string) json.RawMessage { return f[fold(name)] }

// fieldsOf splits an object into its members. encoding/json, which reads what is kept, matches
// keys without regard to case ("Entry", "reſource"), so keys are folded the same way here, and
// two keys that fold alike are refused as a key given twice.
func fieldsOf(b []byte) (fields, error) {
	f := fields{}
	dup := ""
	err := eachMember(b, func(k string, v []byte) {
		if _, ok := f[fold(k)]; ok && dup == "" {
			dup = k
		}
		f[fold(k)] = v
	})
	if err == nil && dup != "" {
		err = twiceError{dup}
	}
	return f, err
}

// fold maps a key to one representative of the keys equal to it under Unicode simple case
// folding (what bytes.EqualFold and encoding/json's field matching use): each letter becomes
// the smallest rune of its folding orbit.
func fold(k string) string {
	plain := true
	for i := 0; i < len(k); i++ {
		if c := k[i]; c >= 0x80 || 'a' <= c && c <= 'z' {
			plain = false
			break
		}
	}
	if plain {
		return k
	}
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, k)
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
