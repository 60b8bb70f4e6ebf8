package rows

import (
	"strings"
	"time"
)

// The shapes a FHIR date, dateTime or instant takes, most precise first. A dateTime with a time
// has a zone in FHIR; one without is read as UTC rather than dropped.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	time.DateOnly,
	"2006-01",
	"2006",
}

// When reads a FHIR date, dateTime or instant as the instant it starts: "2024-03" is the first
// of March. A text that is none of these (an onsetString, a hostile value) is the zero time, which
// orders last.
func When(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
