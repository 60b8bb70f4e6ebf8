package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/healow-mcp/healow-mcp/internal/quote"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// argChecks maps each tool's name to the check of its arguments, filled by addTool.
type argChecks map[string]func(json.RawMessage) error

// addTool registers a typed tool, and the check of its arguments that checkArguments runs
// before the SDK decodes them. Schemas the tool leaves unset come from schemaFor, not from the
// SDK's own inference, which knows no enums or bounds and makes every list nullable.
func addTool[In, Out any](t *tools, s *sdk.Server, tool *sdk.Tool, h sdk.ToolHandlerFor[In, Out]) {
	t.checks[tool.Name] = checkArgs[In]
	if tool.InputSchema == nil {
		tool.InputSchema = schemaFor[In]()
	}
	// checkArgs refuses an unknown argument naming those the tool takes, so the schema need not
	// say additionalProperties: false, which the model would read with every turn.
	if in, ok := tool.InputSchema.(*jsonschema.Schema); ok {
		in.AdditionalProperties = nil
	}
	if tool.OutputSchema == nil && reflect.TypeFor[Out]() != reflect.TypeFor[any]() {
		tool.OutputSchema = schemaFor[Out]()
	}
	s.AddTool(tool, typed(h))
}

// checkArguments refuses a tool call whose arguments do not fit the tool, in the tool's own field
// names. The SDK's errors for such calls name Go types and struct fields ("cannot unmarshal
// number 1e+30 into Go struct field mcp.binaryIn.offset of type int") and print values as Go
// does ("map[a:1]", "<invalid reflect.Value>"): nothing a model or a person can act on.
func (t *tools) checkArguments(next sdk.MethodHandler) sdk.MethodHandler {
	return func(ctx context.Context, method string, req sdk.Request) (sdk.Result, error) {
		if r, ok := req.(*sdk.CallToolRequest); ok && r.Params != nil {
			if check := t.checks[r.Params.Name]; check != nil {
				if err := check(r.Params.Arguments); err != nil {
					res := &sdk.CallToolResult{}
					res.SetError(err)
					return res, nil
				}
			}
		}
		return next(ctx, method, req)
	}
}

// checkArgs checks raw arguments against In, field by field: every value has the JSON type its
// field takes (whole numbers written as digits, in range and within the field's minimum and
// maximum; an enum's words only), no argument is unknown, none that is required is missing. It
// is at least as strict as the SDK's schema check and decoding, so a call it passes never meets
// their errors.
func checkArgs[In any](raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		raw = json.RawMessage("{}")
	}
	return checkStruct(reflect.TypeFor[In](), "", raw)
}

type argField struct {
	typ      reflect.Type
	required bool
	lo, hi   *float64 // the field's minimum and maximum tags, if any
}

// fieldsOf lists a struct's arguments by their JSON names, those of embedded structs included.
func fieldsOf(t reflect.Type) map[string]argField {
	out := map[string]argField{}
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		switch {
		case name == "-":
			continue
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			for n, ef := range fieldsOf(f.Type) {
				out[n] = ef
			}
			continue
		case !f.IsExported():
			continue
		case name == "":
			name = f.Name
		}
		omit := slices.Contains(strings.Split(opts, ","), "omitempty") || slices.Contains(strings.Split(opts, ","), "omitzero")
		lo, hi, _ := bounds(f) // schemaFor refused malformed bounds when the tool was added
		out[name] = argField{typ: f.Type, required: !omit, lo: lo, hi: hi}
	}
	return out
}

func checkStruct(t reflect.Type, path string, raw json.RawMessage) error {
	var m map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
		return fmt.Errorf("%s: %s is not an object of named values, such as {\"name\": \"value\"}", orArguments(path), quoteArg(raw))
	}
	fields := fieldsOf(t)
	names := slices.Sorted(maps.Keys(fields))
	for _, name := range slices.Sorted(maps.Keys(m)) {
		f, ok := fields[name]
		if !ok && len(names) == 0 {
			return fmt.Errorf("%s: this tool takes no arguments", unknownName(path, name))
		}
		if !ok {
			return fmt.Errorf("%s: this tool has no such argument (it takes %s)", unknownName(path, name), strings.Join(names, ", "))
		}
		if string(m[name]) == "null" && !f.required {
			return fmt.Errorf("%s: null is not %s; to leave it unset, leave it out", join(path, name), kindOf(f.typ))
		}
		if err := checkValue(f.typ, join(path, name), m[name]); err != nil {
			return err
		}
		if err := checkBounds(f, join(path, name), m[name]); err != nil {
			return err
		}
	}
	for _, name := range names {
		if _, given := m[name]; fields[name].required && !given {
			return fmt.Errorf("%s is required", join(path, name))
		}
	}
	return nil
}

// checkBounds refuses a number, already checked to be one, outside the field's minimum and
// maximum.
func checkBounds(f argField, path string, raw json.RawMessage) error {
	if f.lo == nil && f.hi == nil {
		return nil
	}
	n, _ := strconv.ParseFloat(string(raw), 64)
	if f.lo != nil && n < *f.lo || f.hi != nil && n > *f.hi {
		return fmt.Errorf("%s: %s is out of range; give %s", path, quoteArg(raw), rangeWords(f.lo, f.hi))
	}
	return nil
}

// rangeWords says which numbers a field takes.
func rangeWords(lo, hi *float64) string {
	g := func(n *float64) string { return strconv.FormatFloat(*n, 'f', -1, 64) }
	switch {
	case hi == nil:
		return "a number from " + g(lo) + " up"
	case lo == nil:
		return "a number up to " + g(hi)
	}
	return "a number from " + g(lo) + " to " + g(hi)
}

var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

func checkValue(t reflect.Type, path string, raw json.RawMessage) error {
	if string(raw) == "null" {
		return fmt.Errorf("%s: null is not %s", path, kindOf(t))
	}
	if reflect.PointerTo(t).Implements(unmarshaler) {
		// Such types (SearchValues) word their own errors.
		if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return nil
	}
	bad := func() error { return fmt.Errorf("%s: %s is not %s", path, quoteArg(raw), kindOf(t)) }
	switch t.Kind() {
	case reflect.String:
		var s string
		if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			return bad()
		}
		if e, ok := reflect.Zero(t).Interface().(enum); ok && !slices.Contains(e.values(), s) {
			return fmt.Errorf("%s: %s is not one of %s; leave it out for any", path, quoteArg(raw), strings.Join(e.values(), ", "))
		}
	case reflect.Bool:
		if string(raw) != "true" && string(raw) != "false" {
			return bad()
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if _, err := strconv.ParseInt(string(raw), 10, t.Bits()); err != nil {
			return bad()
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if _, err := strconv.ParseUint(string(raw), 10, t.Bits()); err != nil {
			return bad()
		}
	case reflect.Float32, reflect.Float64:
		if f, err := strconv.ParseFloat(string(raw), t.Bits()); err != nil || math.IsInf(f, 0) || !isJSONNumber(raw) {
			return bad()
		}
	case reflect.Slice:
		var items []json.RawMessage
		if raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
			return bad()
		}
		for i, item := range items {
			if err := checkValue(t.Elem(), fmt.Sprintf("%s[%d]", path, i), item); err != nil {
				return err
			}
		}
	case reflect.Map:
		var m map[string]json.RawMessage
		if raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
			return bad()
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if err := checkValue(t.Elem(), join(path, k), m[k]); err != nil {
				return err
			}
		}
	case reflect.Struct:
		return checkStruct(t, path, raw)
	case reflect.Pointer:
		return checkValue(t.Elem(), path, raw)
	}
	return nil
}

// kindOf says in words what a value of t is.
func kindOf(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "text (a JSON string)"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		lo, hi := intRange(t.Bits())
		return fmt.Sprintf("a whole number written in digits, from %d to %d", lo, hi)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("a whole number written in digits, from 0 to %d", uint64(math.MaxUint64)>>(64-t.Bits()))
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "a list (a JSON array) of " + strings.TrimPrefix(kindOf(t.Elem()), "a ")
	case reflect.Map, reflect.Struct:
		return "an object of named values, such as {\"name\": \"value\"}"
	case reflect.Pointer:
		return kindOf(t.Elem())
	}
	return "a value of the right kind"
}

func intRange(bits int) (int64, int64) {
	hi := int64(math.MaxInt64) >> (64 - bits)
	return -hi - 1, hi
}

func isJSONNumber(raw json.RawMessage) bool {
	return raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9'
}

// quoteArg shows a value the caller gave, as JSON and cut to a readable length.
func quoteArg(raw json.RawMessage) string {
	const max = 40
	s := string(raw)
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func orArguments(path string) string {
	if path == "" {
		return "arguments"
	}
	return path
}

// unknownName names an argument the tool does not take, as the caller spelt it: quoted and cut
// when it is long, since it can be anything.
func unknownName(path, name string) string {
	if shown := join(path, name); len(shown) <= 100 && !strings.ContainsFunc(shown, func(r rune) bool { return r < 0x20 }) {
		return shown
	}
	return quote.Quote(join(path, name))
}
