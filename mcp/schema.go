package mcp

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
)

// enum is a text argument that takes one word of a fixed list. Its type holds the list, so the
// list is written once: the schema shows it to the model as an enum, and checkArgs refuses any
// other word, naming the field and the list.
type enum interface{ values() []string }

var enumType = reflect.TypeFor[enum]()

// schemaFor infers a tool's input or output schema from T's json and jsonschema tags, and adds
// what inference cannot guess:
//   - SearchValues is a string or a list of strings, and json.RawMessage carries a FHIR
//     resource (a JSON object), not bytes;
//   - a field whose type is an enum lists its words as the schema's enum;
//   - a field tagged minimum:"n" or maximum:"n" (a number) says so in its schema;
//   - no value is nullable. jsonschema-go makes every slice and pointer ["null", ...], a type
//     union that MCP clients' strict checks warn about; the tools never send null (a nil slice
//     a result returns is omitempty or made empty, since the SDK checks results against this
//     schema) and checkArgs refuses null arguments.
func schemaFor[T any]() *jsonschema.Schema {
	types := map[reflect.Type]*jsonschema.Schema{
		reflect.TypeFor[SearchValues](): {AnyOf: []*jsonschema.Schema{
			{Type: "string"},
			{Type: "array", Items: &jsonschema.Schema{Type: "string"}},
		}},
		reflect.TypeFor[json.RawMessage](): {Type: "object", Description: "a FHIR R4 resource"},
	}
	found := map[reflect.Type]bool{}
	enumsIn(reflect.TypeFor[T](), found)
	for t, isEnum := range found {
		if !isEnum {
			continue
		}
		words := reflect.Zero(t).Interface().(enum).values()
		s := &jsonschema.Schema{Type: "string"}
		for _, w := range words {
			s.Enum = append(s.Enum, w)
		}
		types[t] = s
	}
	s, err := jsonschema.For[T](&jsonschema.ForOptions{TypeSchemas: types})
	if err != nil {
		panic(fmt.Sprintf("schema of %T: %v", *new(T), err))
	}
	if err := addBounds(s, reflect.TypeFor[T]()); err != nil {
		panic(fmt.Sprintf("schema of %T: %v", *new(T), err))
	}
	notNullable(s)
	return s
}

// enumsIn adds the enum types t is made of to found.
func enumsIn(t reflect.Type, found map[reflect.Type]bool) {
	if _, seen := found[t]; seen {
		return
	}
	found[t] = t.Kind() == reflect.String && t.Implements(enumType)
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		enumsIn(t.Elem(), found)
	case reflect.Struct:
		for _, f := range reflect.VisibleFields(t) {
			enumsIn(f.Type, found)
		}
	}
}

// bounds reads a field's minimum and maximum tags.
func bounds(f reflect.StructField) (lo, hi *float64, err error) {
	read := func(tag string) (*float64, error) {
		v, ok := f.Tag.Lookup(tag)
		if !ok {
			return nil, nil
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("field %s: %s:%q is not a number", f.Name, tag, v)
		}
		return &n, nil
	}
	if lo, err = read("minimum"); err != nil {
		return nil, nil, err
	}
	if hi, err = read("maximum"); err != nil {
		return nil, nil, err
	}
	return lo, hi, nil
}

// addBounds copies the minimum and maximum tags of t's fields (those of embedded structs
// included) to their properties in s.
func addBounds(s *jsonschema.Schema, t reflect.Type) error {
	if t.Kind() != reflect.Struct {
		return nil
	}
	for _, f := range reflect.VisibleFields(t) {
		lo, hi, err := bounds(f)
		if err != nil {
			return err
		}
		if lo == nil && hi == nil {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		p := s.Properties[name]
		if p == nil || p.Type != "integer" && p.Type != "number" {
			return fmt.Errorf("field %s: minimum and maximum apply to a number argument", f.Name)
		}
		p.Minimum, p.Maximum = lo, hi
	}
	return nil
}

// notNullable turns each ["null", T] type union in s into T.
func notNullable(s *jsonschema.Schema) {
	if s == nil {
		return
	}
	if len(s.Types) == 2 && s.Types[0] == "null" {
		s.Type, s.Types = s.Types[1], nil
	}
	for _, p := range s.Properties {
		notNullable(p)
	}
	notNullable(s.Items)
	notNullable(s.AdditionalProperties)
	for _, a := range s.AnyOf {
		notNullable(a)
	}
}

// outputSchema is schemaFor[T] made once per server: the sixteen typed searches share pageOut,
// and the SDK's schema cache (see NewServerLoading) resolves a schema once per pointer. Resolving
// every tool's schemas is most of what healow serve does before it can answer initialize.
func outputSchema[T any](t *tools) *jsonschema.Schema {
	typ := reflect.TypeFor[T]()
	if s, ok := t.outputs[typ]; ok {
		return s
	}
	s := schemaFor[T]()
	t.outputs[typ] = s
	return s
}
