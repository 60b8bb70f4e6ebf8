package testenv

import (
	"fmt"
	"strings"
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
