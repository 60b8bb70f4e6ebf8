package status

import (
	"regexp"
	"strings"
)

// A URL in an error, without the punctuation that may follow it in a sentence.
var urlPattern = regexp.MustCompile("https?://[^\\s\"'<>`]+")

// redact keeps patient data out of an error meant for status output: a URL inside the practice's
// FHIR base becomes the base and "/…" (its path names records), any other URL loses its query,
// and the patient's id is replaced wherever it stands alone.
func redact(msg, base, patientID string) string {
	base = strings.TrimRight(base, "/")
	msg = urlPattern.ReplaceAllStringFunc(msg, func(u string) string {
		trimmed := strings.TrimRight(u, ".,;:)]")
		tail := u[len(trimmed):]
		switch {
		case base != "" && trimmed == base:
		case base != "" && strings.HasPrefix(trimmed, base):
			trimmed = base + "/…"
		default:
			if i := strings.IndexAny(trimmed, "?#"); i >= 0 {
				trimmed = trimmed[:i]
			}
		}
		return trimmed + tail
	})
	if patientID != "" {
		re := regexp.MustCompile(`(^|[^\w-])` + regexp.QuoteMeta(patientID) + `($|[^\w-])`)
		for re.MatchString(msg) { // overlapping matches, such as "id id", need a second pass
			msg = re.ReplaceAllString(msg, "${1}<patient>${2}")
		}
	}
	return msg
}
