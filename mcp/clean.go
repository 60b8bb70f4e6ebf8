package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/healow-mcp/healow-mcp/internal/jsonscan"
)

// cleaned counts what clean left out, so a tool can say so.
type cleaned struct {
	narratives int // text.div removed
	data       int // inline base64 data replaced by a placeholder
}

// maxDepth bounds how deeply an answer may nest objects and lists. A FHIR resource in a Bundle
// is a few dozen levels deep at most (Bundle, entry, resource, contained, extensions of
// extensions, nested Questionnaire items); a deeper answer is broken or hostile, and refusing
// it here keeps every parser after clean linear in the size of the answer.
const maxDepth = 100

// checkEvery is how many values clean copies between looks at its context, so that a caller
// who gave up stops the work within a fraction of a millisecond.
const checkEvery = 1 << 12

// errTooDeep is worded to follow "the practice's answer".
var errTooDeep = fmt.Errorf("nests objects and lists more than %d levels deep, which no FHIR resource does", maxDepth)

// clean rewrites one FHIR JSON value for a model to read, in one pass over its bytes. It removes
// every narrative's div (text.div: XHTML that repeats the structured data and is often the
// larger part of a resource) and replaces inline base64 `data` longer than maxInlineData
// (Attachment.data, a Binary's content) with a sentence saying how much was left out. Key order
// is kept and whitespace dropped; everything else is copied as it is. It refuses what is not
// JSON and what nests deeper than maxDepth, and stops when ctx ends.
func clean(ctx context.Context, raw []byte, c *cleaned) (json.RawMessage, error) {
	s := &cleaner{ctx: ctx, in: raw, out: make([]byte, 0, len(raw)), c: c}
	s.space()
	if s.pos == len(s.in) {
		return nil, errors.New("empty JSON value")
	}
	if err := s.value(0); err != nil {
		return nil, err
	}
	if s.space(); s.pos != len(s.in) {
		return nil, s.bad("after the top-level value")
	}
	return s.out, nil
}

// answerError words a failed clean for the model: a context that ended stays itself, so that
// explain can say the request was cancelled or ran out of time.
func answerError(err error) error {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, errTooDeep):
		return fmt.Errorf("the practice's answer %w", err)
	}
	return fmt.Errorf("the practice's answer is not JSON: %w", err)
}

type cleaner struct {
	ctx    context.Context
	in     []byte
	pos    int
	out    []byte
	c      *cleaned
	values int
}

func (s *cleaner) bad(where string) error {
	if s.pos >= len(s.in) {
		return fmt.Errorf("unexpected end of JSON input %s", where)
	}
	return fmt.Errorf("invalid character %q at byte %d %s", s.in[s.pos], s.pos, where)
}

func (s *cleaner) space() {
	for s.pos < len(s.in) {
		switch s.in[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *cleaner) peek() byte {
	if s.pos < len(s.in) {
		return s.in[s.pos]
	}
	return 0
}

// value copies one value (s.pos is at its first byte) at the given depth of nesting.
func (s *cleaner) value(depth int) error {
	if s.values++; s.values%checkEvery == 0 {
		if err := s.ctx.Err(); err != nil {
			return err
		}
	}
	switch c := s.peek(); {
	case c == '{':
		_, _, err := s.object(depth+1, false)
		return err
	case c == '[':
		return s.array(depth + 1)
	case c == '"':
		start := s.pos
		if err := s.str(); err != nil {
			return err
		}
		s.out = append(s.out, s.in[start:s.pos]...)
		return nil
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return s.bad("looking for a value")
}

// object copies an object. In a Narrative (narrative set) it drops div, and reports that it
// did and whether nothing but status is left, in which case the caller drops the Narrative.
func (s *cleaner) object(depth int, narrative bool) (droppedDiv, onlyStatus bool, err error) {
	if depth > maxDepth {
		return false, false, errTooDeep
	}
	s.pos++ // {
	s.out = append(s.out, '{')
	kept, statusKept := 0, false
	s.space()
	if s.peek() == '}' {
		s.pos++
		s.out = append(s.out, '}')
		return false, false, nil
	}
	for {
		s.space()
		if s.peek() != '"' {
			return false, false, s.bad("looking for a member's name")
		}
		keyStart := s.pos
		if err := s.str(); err != nil {
			return false, false, err
		}
		rawKey := s.in[keyStart:s.pos]
		s.space()
		if s.peek() != ':' {
			return false, false, s.bad("after a member's name")
		}
		s.pos++
		s.space()
		key := keyName(rawKey)
		mark := len(s.out)
		if kept > 0 {
			s.out = append(s.out, ',')
		}
		s.out = append(s.out, rawKey...)
		s.out = append(s.out, ':')
		keep := true
		switch {
		case narrative && string(key) == "div":
			if err := s.discard(depth); err != nil {
				return false, false, err
			}
			s.c.narratives++
			droppedDiv, keep = true, false
		case string(key) == "text" && s.peek() == '{':
			dropped, only, err := s.object(depth+1, true)
			if err != nil {
				return false, false, err
			}
			keep = !dropped || !only
		case string(key) == "data" && s.peek() == '"':
			start := s.pos
			if err := s.str(); err != nil {
				return false, false, err
			}
			if v := s.in[start:s.pos]; len(v) > maxInlineData+2 {
				s.c.data++
				s.out = fmt.Appendf(s.out, `"(healow-mcp left out %d KiB of inline base64 data to keep the answer small)"`, (len(v)-2)>>10)
			} else {
				s.out = append(s.out, v...)
			}
		default:
			if err := s.value(depth); err != nil {
				return false, false, err
			}
		}
		if keep {
			kept++
			statusKept = statusKept || string(key) == "status"
		} else {
			s.out = s.out[:mark]
		}
		s.space()
		switch s.peek() {
		case ',':
			s.pos++
			continue
		case '}':
			s.pos++
			s.out = append(s.out, '}')
			return droppedDiv, kept == 0 || kept == 1 && statusKept, nil
		}
		return false, false, s.bad("after a member's value")
	}
}

// discard reads a value without copying it, and without counting what is inside it.
func (s *cleaner) discard(depth int) error {
	mark, counts := len(s.out), *s.c
	err := s.value(depth)
	s.out, *s.c = s.out[:mark], counts
	return err
}

func (s *cleaner) array(depth int) error {
	if depth > maxDepth {
		return errTooDeep
	}
	s.pos++ // [
	s.out = append(s.out, '[')
	s.space()
	if s.peek() == ']' {
		s.pos++
		s.out = append(s.out, ']')
		return nil
	}
	for {
		s.space()
		if err := s.value(depth); err != nil {
			return err
		}
		s.space()
		switch s.peek() {
		case ',':
			s.pos++
			s.out = append(s.out, ',')
			continue
		case ']':
			s.pos++
			s.out = append(s.out, ']')
			return nil
		}
		return s.bad("after a list element")
	}
}

// str moves past one string (s.pos is at its opening quote), checking its escapes.
func (s *cleaner) str() error {
	s.pos++
	for {
		for s.pos < len(s.in) && s.in[s.pos] != '"' && s.in[s.pos] != '\\' && s.in[s.pos] >= 0x20 {
			s.pos++
		}
		switch {
		case s.pos == len(s.in):
			return s.bad("inside a string")
		case s.in[s.pos] < 0x20:
			return fmt.Errorf("control character %#02x at byte %d inside a string", s.in[s.pos], s.pos)
		case s.in[s.pos] == '"':
			s.pos++
			return nil
		}
		s.pos++ // backslash
		switch s.peek() {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			s.pos++
		case 'u':
			if s.pos+5 > len(s.in) {
				s.pos = len(s.in)
				return s.bad("inside a \\u escape")
			}
			for _, h := range s.in[s.pos+1 : s.pos+5] {
				if !isHex(h) {
					return fmt.Errorf("invalid character %q in a \\u escape", h)
				}
			}
			s.pos += 5
		default:
			return s.bad("in a string escape")
		}
	}
}

func isHex(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F'
}

// number copies a number as written (1.50 stays 1.50), checking JSON's grammar.
func (s *cleaner) number() error {
	start := s.pos
	if s.peek() == '-' {
		s.pos++
	}
	switch c := s.peek(); {
	case c == '0':
		s.pos++
	case c >= '1' && c <= '9':
		s.digits()
	default:
		return s.bad("in a number")
	}
	if s.peek() == '.' {
		s.pos++
		if !s.digits() {
			return s.bad("after a decimal point")
		}
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.pos++
		if c := s.peek(); c == '+' || c == '-' {
			s.pos++
		}
		if !s.digits() {
			return s.bad("in an exponent")
		}
	}
	s.out = append(s.out, s.in[start:s.pos]...)
	return nil
}

func (s *cleaner) digits() bool {
	start := s.pos
	for s.pos < len(s.in) && s.in[s.pos] >= '0' && s.in[s.pos] <= '9' {
		s.pos++
	}
	return s.pos > start
}

func (s *cleaner) literal(word string) error {
	if !bytes.HasPrefix(s.in[s.pos:], []byte(word)) {
		return s.bad("in a literal")
	}
	s.pos += len(word)
	s.out = append(s.out, word...)
	return nil
}

// keyName is a member's name without its quotes; a name written with escapes is decoded, so
// that "t\u0065xt" is text as well.
func keyName(raw []byte) []byte {
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1]
	}
	var k string
	json.Unmarshal(raw, &k)
	return []byte(k)
}

type field struct {
	key   string
	value json.RawMessage
}

// objectFields splits a JSON object into its members, in order; the values are slices of raw.
func objectFields(raw json.RawMessage) ([]field, error) {
	var out []field
	err := jsonscan.Members(raw, func(k string, v []byte) { out = append(out, field{k, v}) })
	if err != nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	return out, nil
}

// joinFields writes members back into one object.
func joinFields(fields []field) json.RawMessage {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			buf.WriteByte(',')
		}
		key, _ := json.Marshal(f.key)
		buf.Write(key)
		buf.WriteByte(':')
		buf.Write(f.value)
	}
	buf.WriteByte('}')
	return buf.Bytes()
}
