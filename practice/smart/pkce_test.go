package smart

import (
	"bytes"
	"errors"
	"regexp"
	"testing"
	"testing/iotest"
)

func TestPKCERFC7636AppendixB(t *testing.T) {
	t.Parallel()
	octets := []byte{116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186,
		22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121}
	p, err := newPKCE(bytes.NewReader(octets))
	if err != nil {
		t.Fatal(err)
	}
	if p.Verifier != "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" {
		t.Errorf("verifier = %q", p.Verifier)
	}
	if p.Challenge != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Errorf("challenge = %q", p.Challenge)
	}
}

func TestNewPKCE(t *testing.T) {
	t.Parallel()
	shape := regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	a, err := NewPKCE()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewPKCE()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []PKCE{a, b} {
		if !shape.MatchString(p.Verifier) || !shape.MatchString(p.Challenge) || ChallengeS256(p.Verifier) != p.Challenge {
			t.Errorf("malformed pair %+v", p)
		}
	}
	if a.Verifier == b.Verifier {
		t.Error("two verifiers are equal")
	}
}

func TestNewPKCERandomFailure(t *testing.T) {
	t.Parallel()
	boom := errors.New("entropy gone")
	if _, err := newPKCE(iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Errorf("err = %v, want it to wrap the reader's error", err)
	}
}
