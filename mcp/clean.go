package mcp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// cleaned counts what clean left out, so a tool can say so.
type cleaned struct {
	narratives int // text.div removed
	data       int // inline base64 data replaced by a placeholder
}

// clean rewrites one FHIR JSON value for a model to read. It removes every narrative's div
// (text.div: XHTML that repeats the structured data and is often the larger part of a
// resource) and replaces inline base64 `data` longer than maxInlineData (Attachment.data, a
// Binary's content) with a sentence saying how much was left out. Key order is kept and
// whitespace dropped; everything else is copied as it is.
func clean(raw json.RawMessage, c *cleaned) (json.RawMessage, error) {
	var buf bytes.Buffer
	buf.Grow(len(raw))
	if err := cleanInto(&buf, raw, c); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func cleanInto(buf *bytes.Buffer, raw json.RawMessage, c *cleaned) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return errors.New("empty JSON value")
	}
	if !bytes.Contains(raw, []byte(`"div"`)) && !bytes.Contains(raw, []byte(`"data"`)) {
		return json.Compact(buf, raw) // nothing to drop below here: skip the walk
	}
	switch raw[0] {
	case '{':
		fields, err := objectFields(raw)
		if err != nil {
			return err
		}
		buf.WriteByte('{')
		n := 0
		for _, f := range fields {
			v := f.value
			switch {
			case f.key == "text" && v[0] == '{':
				if v, err = withoutDiv(v, c); err != nil {
					return err
				}
				if v == nil {
					continue
				}
			case f.key == "data" && v[0] == '"' && len(v) > maxInlineData+2:
				c.data++
				v, _ = json.Marshal(fmt.Sprintf("(healow-mcp left out %d KiB of inline base64 data to keep the answer small)", (len(v)-2)>>10))
			}
			if n > 0 {
				buf.WriteByte(',')
			}
			n++
			key, _ := json.Marshal(f.key)
			buf.Write(key)
			buf.WriteByte(':')
			if err := cleanInto(buf, v, c); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return err
		}
		buf.WriteByte('[')
		for i, e := range elems {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := cleanInto(buf, e, c); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	default:
		return json.Compact(buf, raw)
	}
	return nil
}

// withoutDiv drops div from a Narrative, and the whole Narrative (nil) when only its status
// would be left.
func withoutDiv(raw json.RawMessage, c *cleaned) (json.RawMessage, error) {
	fields, err := objectFields(raw)
	if err != nil {
		return nil, err
	}
	kept := fields[:0]
	for _, f := range fields {
		if f.key == "div" {
			c.narratives++
			continue
		}
		kept = append(kept, f)
	}
	if len(kept) == len(fields) {
		return raw, nil
	}
	if len(kept) == 0 || len(kept) == 1 && kept[0].key == "status" {
		return nil, nil
	}
	return joinFields(kept), nil
}

type field struct {
	key   string
	value json.RawMessage
}

// objectFields splits a JSON object into its members, in order.
func objectFields(raw json.RawMessage) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	var out []field
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, field{key, v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
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
