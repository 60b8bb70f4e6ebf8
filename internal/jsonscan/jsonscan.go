// Package jsonscan is a small JSON scanner for answers a practice sent: it splits an object into
// its members and an array into its elements as slices of the input, skipping nested values
// without decoding them, so a 16 MiB Bundle is read in one quick pass and only the few members
// that matter are decoded. It does not validate everything encoding/json does: its callers
// either have the input validated already or hand what they keep to encoding/json, which
// refuses what is malformed.
package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrMalformed is what the scanner says of input that is not the JSON it expects.
var ErrMalformed = errors.New("malformed JSON")

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
			return 0, ErrMalformed
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
		return 0, ErrMalformed
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
		return 0, ErrMalformed
	}
	// A number or a literal ends at a delimiter.
	start := i
	for i < len(b) && !delimiter(b[i]) {
		i++
	}
	if i == start {
		return 0, ErrMalformed
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

// Members calls f with the key and raw value of each member of the object b, in order.
func Members(b []byte, f func(key string, value []byte)) error {
	return MemberBytes(b, func(key, value []byte) { f(string(key), value) })
}

// MemberBytes is Members with the key as bytes, valid until f returns: a caller that only
// compares keys (switch string(key)) then allocates nothing for them.
func MemberBytes(b []byte, f func(key, value []byte)) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return ErrMalformed
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil
	}
	for i < len(b) {
		if b[i] != '"' {
			return ErrMalformed
		}
		end, err := skipString(b, i)
		if err != nil {
			return err
		}
		key := b[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 { // an escaped key means what it decodes to
			var k string
			if json.Unmarshal(b[i:end], &k) != nil {
				return ErrMalformed
			}
			key = []byte(k)
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return ErrMalformed
		}
		start := skipSpace(b, i+1)
		if i, err = skipValue(b, start); err != nil {
			return err
		}
		f(key, b[start:i])
		i = skipSpace(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == '}' {
			return nil
		}
		return ErrMalformed
	}
	return ErrMalformed
}

// Elements calls f with each element of the array b, in order.
func Elements(b []byte, f func(value []byte)) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return ErrMalformed
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
		return ErrMalformed
	}
	return ErrMalformed
}

// Fold maps a key to one representative of the keys equal to it under Unicode simple case
// folding (what bytes.EqualFold and encoding/json's field matching use): each letter becomes
// the smallest rune of its folding orbit. For ASCII that is the upper-case letter (the orbits of
// k and s also hold the Kelvin sign and the long s, both larger), so the common case needs no
// Unicode tables; Same compares two keys without building either.
func Fold(k string) string {
	lower := false
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c >= utf8.RuneSelf {
			return foldUnicode(k)
		}
		lower = lower || 'a' <= c && c <= 'z'
	}
	if !lower {
		return k
	}
	b := []byte(k)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b)
}

func foldUnicode(k string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, k)
}

// Same reports whether two keys are equal under Fold, that is Fold(a) == Fold(b), without
// allocating: strings.EqualFold walks the same folding orbits.
func Same(a, b string) bool { return strings.EqualFold(a, b) }
