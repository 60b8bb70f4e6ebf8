package sandbox

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// imagingStudy is one radiology report the sandbox files.
type imagingStudy struct {
	loinc, display string
	region         string
}

// imagingStudies are read by radiologists at length: their reports are the largest resources a
// patient's record holds, which is what makes a page of them overflow a client's output cap.
var imagingStudies = []imagingStudy{
	{"36643-5", "XR Chest 2 Views", "chest"},
	{"24627-2", "CT Chest", "chest"},
	{"24558-9", "CT Abdomen and Pelvis", "abdomen and pelvis"},
	{"30704-1", "US Abdomen", "abdomen"},
	{"24590-2", "MR Brain", "head"},
	{"37362-0", "XR Knee", "right knee"},
}

// reportSentences are the synthetic findings a report is written from.
var reportSentences = []string{
	"No acute abnormality is identified in the %s.",
	"Comparison is made with the prior study; the appearance of the %s is unchanged.",
	"Soft tissues of the %s are unremarkable, and no mass or collection is seen.",
	"There is no evidence of fracture, dislocation or aggressive osseous lesion in the %s.",
	"Vascular structures of the %s are patent and of normal calibre.",
	"Mild degenerative change is noted, within normal limits for age, in the %s.",
	"No free fluid or free air is seen in the %s.",
	"Incidental findings in the %s are benign in appearance and need no follow-up.",
}

// reportText writes a long, deterministic report for study; the sandbox's synthetic data is
// labelled so at the top.
func (b *builder) reportText(s imagingStudy, at time.Time, clinician string) string {
	var t strings.Builder
	fmt.Fprintf(&t, "%s (synthetic sandbox data, not a real patient)\nDate: %s. Ordering clinician: %s.\n\n",
		strings.ToUpper(s.display), dateOnly(at), clinician)
	t.WriteString("FINDINGS:\n")
	for i := 0; t.Len() < 14000; i++ {
		fmt.Fprintf(&t, "%d. "+reportSentences[(i+b.rng.IntN(3))%len(reportSentences)]+"\n", i+1, s.region)
	}
	fmt.Fprintf(&t, "\nIMPRESSION: No acute findings in the %s.\n", s.region)
	return t.String()
}

// addImagingReports files one radiology DiagnosticReport per study, spread over the visits, with
// a narrative (as eCW sends) and the report as an inline presentedForm.
func (b *builder) addImagingReports() {
	for i, s := range imagingStudies {
		v := b.visits[i%len(b.visits)]
		at := v.start.Add(time.Duration(i+1) * 24 * time.Hour)
		text := b.reportText(s, at, v.clinName)
		r := b.own("DiagnosticReport", "dr")
		r.date, r.status = at, "final"
		r.codes, r.categories = []string{token(loinc, s.loinc)}, []string{token(v20074, "RAD")}
		b.add(r, obj{
			"text": obj{"status": "generated",
				"div": `<div xmlns="http://www.w3.org/1999/xhtml"><pre>` + xmlEscape(text) + `</pre></div>`},
			"status":            "final",
			"category":          []obj{concept("Radiology", coding(v20074, "RAD", "Radiology"))},
			"code":              concept(s.display, coding(loinc, s.loinc, s.display)),
			"subject":           b.patientRef(),
			"encounter":         ref("Encounter/"+v.id, ""),
			"effectiveDateTime": dateTime(at),
			"issued":            at.Add(3 * time.Hour).UTC().Format(time.RFC3339),
			"performer":         []obj{ref(b.orgRef, b.spec.name)},
			"conclusion":        text,
			"presentedForm": []obj{{
				"contentType": "text/plain",
				"data":        base64.StdEncoding.EncodeToString([]byte(text)),
				"title":       s.display + " report",
			}},
		})
	}
}
