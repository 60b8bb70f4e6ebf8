package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"time"
)

const docCategorySystem = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"

// document is one DocumentReference and the Binary its attachment names.
type document struct {
	loinc, display string
	contentType    string
	title          string
	content        []byte
	visit          visit
	format         obj // content.format, for C-CDA
}

// addDocuments adds the attachment kinds a client must handle: plain text,
// PDF, PNG, C-CDA XML, HTML and RTF. Attachment URLs are relative
// ("Binary/<id>"), as eCW serves them.
func (b *builder) addDocuments() {
	first, last := b.visits[0], b.visits[len(b.visits)-1]
	docs := []document{
		{"11506-3", "Progress note", "text/plain", "Progress note", b.progressNote(last), last, nil},
		{"57133-1", "Referral note", "application/pdf", "Referral note", tinyPDF(b.referralLines()), b.visits[1], nil},
		{"72170-4", "Photographic image", "image/png", "Clinical photo", tinyPNG(), first, nil},
		{"34133-9", "Summary of episode note", "application/xml", "Continuity of Care Document", b.ccda(last), last,
			coding("http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode", "urn:hl7-org:sdwg:ccda-structuredBody:2.1",
				"Documents following C-CDA constraints using a structured body")},
		{"75498-6", "After visit summary", "text/html", "After visit summary", b.afterVisitSummary(last), last, nil},
		{"69730-0", "Instructions", "text/rtf", "Patient instructions", b.instructionsRTF(), b.visits[1], nil},
	}
	if n := b.spec.notes; n > 0 {
		for _, v := range b.visits[len(b.visits)-n : len(b.visits)-1] {
			docs = append(docs, document{"11506-3", "Progress note", "text/plain", "Progress note", b.progressNote(v), v, nil})
		}
	}
	for _, d := range docs {
		bin := b.own("Binary", "bin")
		bin.contentType, bin.content = d.contentType, d.content
		b.add(bin, obj{"contentType": d.contentType, "data": base64.StdEncoding.EncodeToString(d.content)})

		content := obj{"attachment": obj{
			"contentType": d.contentType,
			"url":         "Binary/" + bin.id,
			"title":       d.title,
			"size":        len(d.content),
			"creation":    dateTime(d.visit.start),
		}}
		if d.format != nil {
			content["format"] = d.format
		}
		r := b.own("DocumentReference", "doc")
		r.date, r.status = d.visit.start, "current"
		r.codes, r.categories = []string{token(loinc, d.loinc)}, []string{token(docCategorySystem, "clinical-note")}
		b.add(r, obj{
			"status":      "current",
			"docStatus":   "final",
			"type":        concept(d.display, coding(loinc, d.loinc, d.display)),
			"category":    []obj{concept("Clinical Note", coding(docCategorySystem, "clinical-note", "Clinical Note"))},
			"subject":     b.patientRef(),
			"date":        d.visit.start.UTC().Format(time.RFC3339),
			"author":      []obj{ref(d.visit.clinRef, d.visit.clinName)},
			"custodian":   ref(b.orgRef, b.spec.name),
			"description": d.title,
			"content":     []obj{content},
			"context": obj{
				"encounter": []obj{ref("Encounter/"+d.visit.id, "")},
				"period":    obj{"start": dateTime(d.visit.start)},
			},
		})
	}
}

func (b *builder) problemNames() string {
	var names []string
	for _, c := range b.spec.problems {
		names = append(names, c.display)
	}
	return strings.Join(names, "; ")
}

// complaints vary a long record's progress notes, so that its words are not all one note's.
var complaints = []string{
	"Routine follow-up. Feeling well, no new complaints.",
	"Two weeks of dry cough after a cold, no fever, sleeping poorly.",
	"Low back pain after lifting boxes, worse in the morning, no numbness.",
	"Occasional dizziness on standing; home blood pressure readings in the 120s.",
	"Seasonal allergies with itchy eyes and sneezing; antihistamine helps.",
	"Right knee ache on stairs since a fall while hiking; mild swelling.",
	"Heartburn after late meals; trying to eat earlier.",
	"Tired in the afternoons; asks about vitamin D and iron levels.",
	"Numbness in the toes at night; checks feet daily as advised.",
	"Anxious about work; sleeping six hours; walks daily.",
}

func (b *builder) progressNote(v visit) []byte {
	var s strings.Builder
	fmt.Fprintf(&s, "PROGRESS NOTE (synthetic sandbox data, not a real patient)\n\n")
	fmt.Fprintf(&s, "Patient: %s    DOB: %s\n", b.p.patientName, b.spec.patient.birthDate)
	fmt.Fprintf(&s, "Date: %s    Provider: %s\nPractice: %s\n\n", dateOnly(v.start), v.clinName, b.spec.name)
	complaint := "Routine follow-up. Feeling well, no new complaints."
	if b.spec.notes > 0 {
		complaint = complaints[b.rng.IntN(len(complaints))]
	}
	fmt.Fprintf(&s, "Subjective: %s\n", complaint)
	fmt.Fprintf(&s, "Assessment: %s.\n", b.problemNames())
	fmt.Fprintf(&s, "Plan: %s\n", b.spec.carePlan)
	return []byte(s.String())
}

func (b *builder) referralLines() []string {
	v := b.visits[1]
	return []string{
		"REFERRAL NOTE (synthetic sandbox data)",
		"Patient: " + b.p.patientName + "   DOB: " + b.spec.patient.birthDate,
		"Date: " + dateOnly(v.start) + "   From: " + v.clinName,
		"Referral: " + b.spec.referral.display,
		"Reason: " + b.spec.problems[0].display,
		"Question for the consultant: evaluation and advice on ongoing management.", // a word no other record has
	}
}

// tinyPDF renders lines of Helvetica on one letter page. The cross-reference
// table is computed from real offsets so strict readers accept the file.
func tinyPDF(lines []string) []byte {
	var text strings.Builder
	text.WriteString("BT /F1 12 Tf 72 720 Td 16 TL")
	for i, l := range lines {
		if i > 0 {
			text.WriteString(" T*")
		}
		esc := strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(l)
		fmt.Fprintf(&text, " (%s) Tj", esc)
	}
	text.WriteString(" ET")
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", text.Len(), text.String()),
	}
	var out bytes.Buffer
	out.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n") // binary comment marks the file as binary to transfer tools
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return out.Bytes()
}

// tinyPNG is a 16×16 gradient: enough for a client to decode and show.
func tinyPNG() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 16, 16))
	for y := range 16 {
		for x := range 16 {
			img.Set(x, y, color.NRGBA{R: uint8(x * 16), G: uint8(y * 16), B: 160, A: 255})
		}
	}
	var out bytes.Buffer
	if err := png.Encode(&out, img); err != nil {
		panic(err) // encoding an in-memory image cannot fail
	}
	return out.Bytes()
}

func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// ccda is a minimal C-CDA Continuity of Care Document: the header a reader
// looks for and one narrative section.
func (b *builder) ccda(v visit) []byte {
	pt := b.spec.patient
	gender := map[string]string{"female": "F", "male": "M"}[pt.gender]
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3">
  <realmCode code="US"/>
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <templateId root="2.16.840.1.113883.10.20.22.1.1" extension="2015-08-01"/>
  <templateId root="2.16.840.1.113883.10.20.22.1.2" extension="2015-08-01"/>
  <id root="2.16.840.1.113883.19.5" extension="` + xmlEscape(b.spec.code) + `-CCD"/>
  <code code="34133-9" codeSystem="2.16.840.1.113883.6.1" displayName="Summary of episode note"/>
  <title>Continuity of Care Document (synthetic sandbox data)</title>
  <effectiveTime value="` + v.start.UTC().Format("20060102150405") + `+0000"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
  <recordTarget>
    <patientRole>
      <id extension="` + xmlEscape(pt.mrn) + `" root="2.16.840.1.113883.19.5"/>
      <patient>
        <name><given>` + xmlEscape(pt.given) + `</given><family>` + xmlEscape(pt.family) + `</family></name>
        <administrativeGenderCode code="` + gender + `" codeSystem="2.16.840.1.113883.5.1"/>
        <birthTime value="` + strings.ReplaceAll(pt.birthDate, "-", "") + `"/>
      </patient>
    </patientRole>
  </recordTarget>
  <custodian><assignedCustodian><representedCustodianOrganization>
    <name>` + xmlEscape(b.spec.name) + `</name>
  </representedCustodianOrganization></assignedCustodian></custodian>
  <component>
    <structuredBody>
      <component>
        <section>
          <code code="11450-4" codeSystem="2.16.840.1.113883.6.1" displayName="Problem list"/>
          <title>Problems</title>
          <text>` + xmlEscape(b.problemNames()) + `</text>
        </section>
      </component>
    </structuredBody>
  </component>
</ClinicalDocument>
`)
}

// afterVisitSummary is the HTML handout a patient takes home.
func (b *builder) afterVisitSummary(v visit) []byte {
	var s strings.Builder
	s.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>After visit summary</title></head><body>\n")
	fmt.Fprintf(&s, "<h1>After visit summary</h1>\n<p>Synthetic sandbox data, not a real patient.</p>\n")
	fmt.Fprintf(&s, "<p>%s, seen on %s by %s at %s.</p>\n", xmlEscape(b.p.patientName), dateOnly(v.start),
		xmlEscape(v.clinName), xmlEscape(b.spec.name))
	fmt.Fprintf(&s, "<h2>Your problems</h2>\n<p>%s</p>\n", xmlEscape(b.problemNames()))
	fmt.Fprintf(&s, "<h2>Your plan</h2>\n<p>%s</p>\n</body></html>\n", xmlEscape(b.spec.carePlan))
	return []byte(s.String())
}

// instructionsRTF is a short RTF letter, the format eCW exports typed letters in.
func (b *builder) instructionsRTF() []byte {
	esc := strings.NewReplacer(`\`, `\\`, "{", `\{`, "}", `\}`)
	return []byte(`{\rtf1\ansi\deff0{\fonttbl{\f0 Helvetica;}}\f0\fs24 ` +
		`{\b Patient instructions (synthetic sandbox data)}\par ` +
		esc.Replace(b.p.patientName) + `\par ` +
		esc.Replace(b.spec.carePlan) + `\par }` + "\n")
}
