package practice

import (
	"errors"
	"testing"
)

func TestResolveAttachment(t *testing.T) {
	t.Parallel()
	const base = "https://fhir4.healow.com/fhir/r4/FEIGCD"
	for _, tt := range []struct{ ref, want string }{
		{"Binary/bin-1", base + "/Binary/bin-1"},
		{base + "/Binary/bin-1", base + "/Binary/bin-1"},
		{"/fhir/r4/FEIGCD/Binary/bin-1", base + "/Binary/bin-1"},
		{"Binary/bin-1?_format=json", base + "/Binary/bin-1?_format=json"},
	} {
		got, err := ResolveAttachment(base, tt.ref)
		if err != nil || got != tt.want {
			t.Errorf("ResolveAttachment(%q) = %q, %v; want %q", tt.ref, got, err, tt.want)
		}
	}
	for _, ref := range []string{
		"https://evil.example/fhir/r4/FEIGCD/Binary/x",
		"//evil.example/Binary/x",
		"../AACJCD/Binary/x",
		"/fhir/r4/AACJCD/Binary/x",
		"http://fhir4.healow.com/fhir/r4/FEIGCD/Binary/x",
		"https://user@fhir4.healow.com/fhir/r4/FEIGCD/Binary/x",
		"Binary/%2e%2e/%2e%2e/AACJCD/x",
	} {
		if got, err := ResolveAttachment(base, ref); !errors.Is(err, ErrOutsideBase) {
			t.Errorf("ResolveAttachment(%q) = %q, %v; want it refused", ref, got, err)
		}
	}
	if _, err := ResolveAttachment(base, " "); err == nil {
		t.Error("an empty url was accepted")
	}
}

func TestBinaryID(t *testing.T) {
	t.Parallel()
	const base = "https://h/fhir/r4/FEIGCD"
	if id, ok := BinaryID(base, base+"/Binary/bin-1"); !ok || id != "bin-1" {
		t.Errorf("BinaryID = %q, %v", id, ok)
	}
	for _, abs := range []string{base + "/Binary/bin-1?x=1", base + "/DocumentReference/d", base + "/Binary/a/b"} {
		if id, ok := BinaryID(base, abs); ok {
			t.Errorf("BinaryID(%q) = %q", abs, id)
		}
	}
}
