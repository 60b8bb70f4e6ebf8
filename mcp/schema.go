package mcp

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/google/jsonschema-go/jsonschema"
)

// schemaFor infers a tool's input or output schema from T's json and jsonschema tags. Two types
// get schemas inference cannot guess: SearchValues, a string or a list of strings, and
// json.RawMessage, which carries a FHIR resource (a JSON object), not bytes.
func schemaFor[T any]() *jsonschema.Schema {
	s, err := jsonschema.For[T](&jsonschema.ForOptions{TypeSchemas: map[reflect.Type]*jsonschema.Schema{
		reflect.TypeFor[SearchValues](): {AnyOf: []*jsonschema.Schema{
			{Type: "string"},
			{Type: "array", Items: &jsonschema.Schema{Type: "string"}},
		}},
		reflect.TypeFor[json.RawMessage](): {Type: "object", Description: "a FHIR R4 resource"},
	}})
	if err != nil {
		panic(fmt.Sprintf("schema of %T: %v", *new(T), err))
	}
	return s
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
