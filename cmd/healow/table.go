package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/healow-mcp/healow-mcp/vault"
)

// What the reading subcommands (status, practices, audit) share: tables, colour, times.

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

// writeJSON writes v indented, or on one line (for --watch, one snapshot per line).
func writeJSON(w io.Writer, v any, indent bool) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	return enc.Encode(v)
}

// isTerminal reports whether f is a terminal, where colour helps; in a pipe or a file it would
// be noise. NO_COLOR (https://no-color.org) turns it off everywhere.
func isTerminal(f *os.File) bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Colours for a table cell. Every code is five bytes and every painted cell ends with the same
// reset, so all the cells of a painted column are widened alike and tabwriter still aligns them.
const (
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	red    = "\x1b[31m"
	plain  = "\x1b[39m"
	reset  = "\x1b[0m"
)

type painter bool

func (p painter) paint(colour, s string) string {
	if !p {
		return s
	}
	return colour + s + reset
}

// openStoreIfAny opens the token store when it exists, and returns nil when it does not: a
// command that only reads should not create one.
func openStoreIfAny() (*vault.Store, error) {
	path, err := vault.DefaultPath()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return openStore()
}

// span writes a duration the way a person reads it: "45s", "3m12s", "2h5m", "3d4h".
func span(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return strings.TrimSuffix(fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60), "00s")
	case d < 48*time.Hour:
		return strings.TrimSuffix(fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60), "00m")
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}

func ago(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	if t.After(now) {
		return "in " + span(t.Sub(now))
	}
	return span(now.Sub(t)) + " ago"
}

// left says how long until t, or how long since it passed.
func left(t, now time.Time) string {
	switch {
	case t.IsZero():
		return "none"
	case t.After(now):
		return span(t.Sub(now))
	}
	return "expired " + span(now.Sub(t)) + " ago"
}

func clockTime(t time.Time) string { return t.Local().Format("15:04:05") }

func ms(d time.Duration) string {
	if d < 10*time.Millisecond {
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}

// shorten keeps a table cell to n characters.
func shorten(s string, n int) string {
	r := []rune(strings.Join(strings.Fields(s), " "))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n-1]) + "…"
}
