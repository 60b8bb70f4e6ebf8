package mcp_test

import (
	"fmt"
	"strings"
	"testing"
)

// lineDiff returns a unified diff, line by line, from want (the snapshot) to got: "-" lines are
// only in want, "+" lines only in got, with up to context unchanged lines around each change
// and a "@@ -line,count +line,count @@" header for each hunk. Equal texts give "". It finds a
// longest common subsequence of the lines between the common head and tail, exactly when that
// middle is small (snapshots are a few hundred lines), and otherwise shows the whole middle as
// replaced, which is still a correct diff.
func lineDiff(want, got string, context int) string {
	if want == got {
		return ""
	}
	a, b := splitLines(want), splitLines(got)
	head := 0
	for head < len(a) && head < len(b) && a[head] == b[head] {
		head++
	}
	tail := 0
	for tail < len(a)-head && tail < len(b)-head && a[len(a)-1-tail] == b[len(b)-1-tail] {
		tail++
	}
	var ops []edit
	for i := range head {
		ops = append(ops, edit{' ', i, i})
	}
	ops = append(ops, middle(a[head:len(a)-tail], b[head:len(b)-tail], head)...)
	for k := range tail {
		ops = append(ops, edit{' ', len(a) - tail + k, len(b) - tail + k})
	}
	return hunks(ops, a, b, context)
}

// splitLines cuts s after each newline, so that a last line without one differs from the same
// line with one.
func splitLines(s string) []string {
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// edit is one line of the script: ' ' keeps a[i] (which is b[j]), '-' drops a[i], '+' adds b[j].
type edit struct {
	op   byte
	i, j int
}

// maxCells bounds the LCS table (8 bytes a cell): past it the middle shows as replaced.
const maxCells = 1 << 22

// middle diffs a and b, which start at line off of both texts, through an LCS table.
func middle(a, b []string, off int) []edit {
	n, m := len(a), len(b)
	var ops []edit
	if n*m > maxCells {
		for i := range n {
			ops = append(ops, edit{'-', off + i, off})
		}
		for j := range m {
			ops = append(ops, edit{'+', off + n, off + j})
		}
		return ops
	}
	// lcs[i][j] is the length of a longest common subsequence of a[i:] and b[j:].
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			ops = append(ops, edit{' ', off + i, off + j})
			i, j = i+1, j+1
		case j == m || i < n && lcs[i+1][j] >= lcs[i][j+1]:
			ops = append(ops, edit{'-', off + i, off + j})
			i++
		default:
			ops = append(ops, edit{'+', off + i, off + j})
			j++
		}
	}
	return ops
}

// hunks prints the changes in ops with context lines around them, merging changes whose
// contexts meet.
func hunks(ops []edit, a, b []string, context int) string {
	var out strings.Builder
	for start := 0; start < len(ops); {
		for start < len(ops) && ops[start].op == ' ' {
			start++
		}
		if start == len(ops) {
			break
		}
		// The hunk runs from context lines before this change to context lines after the
		// last change that follows within 2*context unchanged lines.
		end, same := start, 0
		for k := start; k < len(ops) && same <= 2*context; k++ {
			if ops[k].op == ' ' {
				same++
			} else {
				end, same = k+1, 0
			}
		}
		from, to := max(start-context, 0), min(end+context, len(ops))
		var wantN, gotN int
		for _, e := range ops[from:to] {
			if e.op != '+' {
				wantN++
			}
			if e.op != '-' {
				gotN++
			}
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", span(ops[from].i, wantN), span(ops[from].j, gotN))
		for _, e := range ops[from:to] {
			line := a[min(e.i, len(a)-1)] // ' ' and '-' lines are want's
			if e.op == '+' {
				line = b[e.j]
			}
			text, ended := strings.CutSuffix(line, "\n")
			fmt.Fprintf(&out, "%c%s\n", e.op, text)
			if !ended {
				out.WriteString("\\ No newline at end of file\n")
			}
		}
		start = to
	}
	return out.String()
}

// span is a hunk header's "line,count", 1-based; an empty side names the line before it.
func span(first, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", first)
	}
	return fmt.Sprintf("%d,%d", first+1, n)
}

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
