package testenv

import (
	"strings"
	"testing"
)

// A difference from a golden file or a snapshot reads as the lines that changed, with a little
// of what is around them, not as two whole files to compare by eye.
func TestLineDiff(t *testing.T) {
	t.Parallel()
	lines := func(ls ...string) string { return strings.Join(ls, "\n") + "\n" }
	ten := []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}
	for _, tc := range []struct {
		name, want, got, diff string
	}{
		{"equal", lines(ten...), lines(ten...), ""},
		{"one line changed", lines(ten...), lines("1", "2", "3", "4", "five", "6", "7", "8", "9", "10"),
			"@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"},
		{"a line added at the top", lines("b", "c"), lines("a", "b", "c"),
			"@@ -1,2 +1,3 @@\n+a\n b\n c\n"},
		{"the last line removed", lines(ten...), lines(ten[:9]...),
			"@@ -7,4 +7,3 @@\n 7\n 8\n 9\n-10\n"},
		{"changes far apart, two hunks", lines(ten...), lines("one", "2", "3", "4", "5", "6", "7", "8", "9", "ten"),
			"@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n@@ -7,4 +7,4 @@\n 7\n 8\n 9\n-10\n+ten\n"},
		{"changes close together, one hunk", lines(ten...), lines("1", "2", "x", "4", "5", "y", "7", "8", "9", "10"),
			"@@ -1,9 +1,9 @@\n 1\n 2\n-3\n+x\n 4\n 5\n-6\n+y\n 7\n 8\n 9\n"},
		{"a line moved", lines("a", "b", "c", "d"), lines("b", "c", "d", "a"),
			"@@ -1,4 +1,4 @@\n-a\n b\n c\n d\n+a\n"},
		{"the last newline lost", lines("a", "b"), "a\nb",
			"@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n"},
	} {
		if got := lineDiff(tc.want, tc.got, 3); got != tc.diff {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.diff)
		}
	}
	// Past the table's bound, the changed middle shows as replaced, still between the common
	// head and tail.
	big := strings.Repeat("x\n", 3000)
	if got := lineDiff("a\n"+big+"z\n", "a\n"+strings.Repeat("y\n", 3000)+"z\n", 1); !strings.HasPrefix(got, "@@ -1,3002 +1,3002 @@\n a\n-x\n") ||
		!strings.HasSuffix(got, "+y\n z\n") || strings.Count(got, "\n-x") != 3000 {
		t.Errorf("large diff: %.200q ... %q", got, got[len(got)-100:])
	}
}
