package jsonscan

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// Why says why encoding/json did not decode a value, in the JSON's words rather than Go's: a
// type error names the member and what belongs there ("total is a JSON string where a number
// belongs"), never a Go type or struct field, which nobody reading an error can act on.
func Why(err error) string {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return err.Error() // syntax errors speak of characters and offsets only
	}
	want := "a value of another type"
	if te.Type != nil {
		switch te.Type.Kind() {
		case reflect.String:
			want = "a string"
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
			reflect.Float32, reflect.Float64:
			want = "a number"
		case reflect.Bool:
			want = "true or false"
		case reflect.Struct, reflect.Map:
			want = "an object"
		case reflect.Slice, reflect.Array:
			want = "a list"
		}
	}
	field := te.Field
	if field == "" {
		field = "the value"
	}
	return fmt.Sprintf("%s is a JSON %s where %s belongs", field, te.Value, want)
}
