package egress

import "testing"

// The checks run once per connect, token request and actor load, never per FHIR request; this
// says what one costs.
func BenchmarkCheck(b *testing.B) {
	p, err := Parse("fhir.example.org, 10.1.2.3, ::1")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if p.CheckFHIRBase("https://fhir4.healow.com/fhir/r4/FEIGCD") != nil || p.CheckAuthServer("https://[::1]:8443/oauth/token") != nil {
			b.Fatal("refused")
		}
	}
}
