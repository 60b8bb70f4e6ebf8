package testenv

import (
	"strings"
	"testing"
)

// A difference from a golden file reads as the lines that changed, with a little of what is
// around them, not as two whole files to compare by eye.
func TestLineDiff(t *testing.T) {
	t.Parallel()
	var a []string
	for i := range 20 {
		a = append(a, "line "+string(rune('a'+i)))
	}
	b := append([]string(nil), a...)
	b[3] = "line D"
	b = append(b[:15], append([]string{"added"}, b[15:]...)...)
	got := LineDiff(strings.Join(a, "\n"), strings.Join(b, "\n"))
	want := `  line b
  line c
- line d
+ line D
  line e
  line f
…
  line n
  line o
+ added
  line p
  line q
…
`
	if !strings.HasPrefix(got, "…\n") || strings.TrimPrefix(got, "…\n") != want {
		t.Fatalf("diff:\n%s", got)
	}
	if d := LineDiff("same\n", "same\n"); strings.ContainsAny(d, "+-") {
		t.Fatalf("equal texts differ:\n%s", d)
	}
}
