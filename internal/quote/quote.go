// Package quote repeats values from outside in error messages, cut to a length that keeps a
// message readable whatever a model or a server sent.
package quote

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Max is how much of a value from outside an error message repeats: tool arguments,
// URLs, names and words a server sent.
const Max = 200

// Quote renders a value that came from outside (a tool argument, a URL, a name, a server's word)
// for an error message: quoted as Go quotes strings, and cut after Max characters of the
// quoted text with how much was left out, so that a 5 MB argument never comes back as a 5 MB
// error. Every error in the module that repeats such a value goes through it.
func Quote(s string) string {
	if q := strconv.Quote(s); len(q) <= Max+2 {
		return q
	}
	var b strings.Builder
	b.WriteByte('"')
	i := 0
	for i < len(s) {
		_, w := utf8.DecodeRuneInString(s[i:])
		q := strconv.Quote(s[i : i+w]) // \xff for a byte that is not UTF-8, as strconv.Quote(s) has it
		if b.Len()-1+len(q)-2 > Max {
			break
		}
		b.WriteString(q[1 : len(q)-1])
		i += w
	}
	b.WriteByte('"')
	fmt.Fprintf(&b, "… (%d more bytes left out)", len(s)-i)
	return b.String()
}

// URLReason says why url.Parse refused a URL, without the URL, which a *url.Error repeats
// whole: the caller quotes it once, with Quote.
func URLReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	s := err.Error()
	if len(s) > 2*Max {
		s = strings.ToValidUTF8(s[:2*Max], "") + "…"
	}
	return s
}
