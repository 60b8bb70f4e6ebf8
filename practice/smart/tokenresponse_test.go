package smart

import (
	"encoding/base64"
	"encoding/json"
	"testing"
)

func TestPatientFromIDToken(t *testing.T) {
	t.Parallel()
	padded := func(claims string) string {
		return "e30." + base64.URLEncoding.EncodeToString([]byte(claims)) + ".sig"
	}
	tests := []struct{ token, want string }{
		{idToken(t, map[string]any{"fhirUser": "Patient/123"}), "123"},
		{idToken(t, map[string]any{"fhirUser": "https://h/fhir/r4/X/Patient/abc/"}), "abc"},
		{idToken(t, map[string]any{"fhirUser": "RelatedPerson/1"}), ""},
		{idToken(t, map[string]any{"fhirUser": "Patient"}), ""},
		{idToken(t, map[string]any{"fhirUser": 42}), ""},
		{idToken(t, map[string]any{"sub": "x"}), ""},
		{padded(`{"fhirUser":"Patient/pp"}`), "pp"},
		{"a.b", ""},
		{"a.!!!.c", ""},
	}
	for _, tt := range tests {
		if got := patientFromIDToken(tt.token); got != tt.want {
			t.Errorf("patientFromIDToken(%q) = %q, want %q", tt.token, got, tt.want)
		}
	}
}

func TestExpiresIn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want expiresIn
		ok   bool
	}{
		{`3600`, 3600, true},
		{`3600.0`, 3600, true},
		{`"1800"`, 1800, true},
		{`null`, 0, true},
		{`"soon"`, 0, false},
	}
	for _, tt := range tests {
		var e expiresIn
		err := json.Unmarshal([]byte(tt.in), &e)
		if (err == nil) != tt.ok || e != tt.want {
			t.Errorf("expires_in %s = %d, %v; want %d, ok=%v", tt.in, e, err, tt.want, tt.ok)
		}
	}
}
