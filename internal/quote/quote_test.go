package quote

import (
	"net/url"
	"strings"
	"testing"
)

func TestQuoteCutsLongValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"Patient", `"Patient"`},
		{"a\"b\n", `"a\"b\n"`},
		{strings.Repeat("x", Max), `"` + strings.Repeat("x", Max) + `"`},
		{strings.Repeat("x", 5<<20), `"` + strings.Repeat("x", Max) + `"… (5242680 more bytes left out)`},
		{strings.Repeat("\x00", 1000), `"` + strings.Repeat(`\x00`, Max/4) + `"… (950 more bytes left out)`},
		{strings.Repeat("é", 1000), `"` + strings.Repeat("é", Max/2) + `"… (1800 more bytes left out)`},
	} {
		if got := Quote(tc.in); got != tc.want {
			t.Errorf("Quote(%.20q...) = %.80s... (%d bytes), want %.80s...", tc.in, got, len(got), tc.want)
		}
	}
	_, err := url.Parse("https://host:" + strings.Repeat("9x", 1<<20) + "/fhir")
	if why := URLReason(err); len(why) > 2*Max+3 || strings.Contains(why, "https://host") {
		t.Errorf("URLReason = %.100s... (%d bytes)", why, len(why))
	}
}
