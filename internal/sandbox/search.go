package sandbox

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// searchQuery is a parsed search. Each element of a token list is one
// occurrence of the parameter (ANDed); its strings are the comma-separated
// alternatives (ORed), as FHIR defines.
type searchQuery struct {
	patients   []string
	ids        [][]string
	categories [][]string
	codes      [][]string
	statuses   [][]string
	dates      []dateBound
	count      int
	page       int
}

// dateBound is one date parameter: the record's date must fall on the
// prefix's side of the value's range [start, end).
type dateBound struct {
	prefix     string
	start, end time.Time
}

// parseSearch reads the parameters the sandbox supports. Unknown ones are
// ignored, as FHIR servers do by default, so a client's _include or _sort
// does not turn into an error.
func parseSearch(v url.Values, pageSize int) (searchQuery, error) {
	q := searchQuery{count: pageSize, page: 1}
	for name, values := range v {
		for _, val := range values {
			switch name {
			case "patient", "subject":
				q.patients = append(q.patients, patientID(val))
			case "_id":
				q.ids = append(q.ids, strings.Split(val, ","))
			case "category":
				q.categories = append(q.categories, strings.Split(val, ","))
			case "code", "type":
				q.codes = append(q.codes, strings.Split(val, ","))
			case "status", "clinical-status":
				q.statuses = append(q.statuses, strings.Split(val, ","))
			case "date", "authoredon", "authored", "onset-date", "occurrence":
				d, err := parseDateParam(val)
				if err != nil {
					return q, fmt.Errorf("%s: %w", name, err)
				}
				q.dates = append(q.dates, d)
			case "_count":
				n, err := strconv.Atoi(val)
				if err != nil || n < 0 {
					return q, fmt.Errorf("_count must be a non-negative integer")
				}
				q.count = min(n, maxPageSize)
			case "_page":
				n, err := strconv.Atoi(val)
				if err != nil || n < 1 {
					return q, fmt.Errorf("_page must be a positive integer")
				}
				q.page = n
			}
		}
	}
	return q, nil
}

// patientID accepts "id", "Patient/id" and "<base>/Patient/id".
func patientID(ref string) string {
	if i := strings.LastIndex(ref, "Patient/"); i >= 0 {
		return ref[i+len("Patient/"):]
	}
	return ref
}

func (q searchQuery) matches(r *record) bool {
	for _, alts := range q.ids {
		if !slices.Contains(alts, r.id) {
			return false
		}
	}
	for _, alts := range q.statuses {
		if !slices.Contains(alts, r.status) {
			return false
		}
	}
	for _, alts := range q.categories {
		if !tokensMatch(alts, r.categories) {
			return false
		}
	}
	for _, alts := range q.codes {
		if !tokensMatch(alts, r.codes) {
			return false
		}
	}
	for _, d := range q.dates {
		if r.date.IsZero() || !d.admits(r.date) {
			return false
		}
	}
	return true
}

// tokensMatch reports whether any alternative ("system|code", "code",
// "|code" or "system|") matches any of the record's tokens.
func tokensMatch(alts, have []string) bool {
	for _, alt := range alts {
		// Clients may copy eCW's misspelt social-history system from its
		// scopes into a search; read it as the system it meant.
		alt = strings.Replace(alt, ecwSocialHistoryTypoCS+"|", obsCategorySystem+"|", 1)
		system, code, hasSystem := strings.Cut(alt, "|")
		if !hasSystem {
			system, code = "", alt
		}
		for _, h := range have {
			hs, hc, _ := strings.Cut(h, "|")
			if (system == "" || system == hs) && (code == "" || code == hc) {
				return true
			}
		}
	}
	return false
}

// parseDateParam reads "[prefix]value" where value is a year, month, day
// or dateTime; partial dates are read in the data's own zone.
func parseDateParam(v string) (dateBound, error) {
	v = strings.ReplaceAll(v, " ", "+") // an unescaped "+" in an offset arrives as a space
	d := dateBound{prefix: "eq"}
	if len(v) > 2 && v[0] >= 'a' && v[0] <= 'z' {
		d.prefix, v = v[:2], v[2:]
	}
	switch d.prefix {
	case "eq", "ge", "le", "gt", "lt":
	default:
		return d, fmt.Errorf("unsupported prefix %q (use eq, ge, le, gt or lt)", d.prefix)
	}
	var err error
	switch len(v) {
	case 4:
		d.start, err = time.ParseInLocation("2006", v, clinicZone)
		d.end = d.start.AddDate(1, 0, 0)
	case 7:
		d.start, err = time.ParseInLocation("2006-01", v, clinicZone)
		d.end = d.start.AddDate(0, 1, 0)
	case 10:
		d.start, err = time.ParseInLocation(time.DateOnly, v, clinicZone)
		d.end = d.start.AddDate(0, 0, 1)
	default:
		d.start, err = time.Parse(time.RFC3339, v)
		if err != nil {
			d.start, err = time.ParseInLocation("2006-01-02T15:04:05", v, clinicZone)
		}
		d.end = d.start.Add(time.Second)
	}
	if err != nil {
		return d, fmt.Errorf("cannot read date %q", v)
	}
	return d, nil
}

func (d dateBound) admits(t time.Time) bool {
	switch d.prefix {
	case "ge":
		return !t.Before(d.start)
	case "gt":
		return !t.Before(d.end)
	case "le":
		return t.Before(d.end)
	case "lt":
		return t.Before(d.start)
	default: // eq
		return !t.Before(d.start) && t.Before(d.end)
	}
}
