package rows

import (
	"encoding/json"
	"fmt"
	"strings"
)

type attachment struct {
	ContentType string `json:"contentType"`
	URL         string `json:"url"`
	Title       string `json:"title"`
	Data        string `json:"data"`
}

// attachmentRow says what a document holds and where to read it.
type attachmentRow struct {
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
	URL   string `json:"url,omitempty"`
}

func attachments(as []attachment) []attachmentRow {
	var out []attachmentRow
	for i, a := range as {
		if i == maxItems {
			break
		}
		r := attachmentRow{Type: cut(a.ContentType, maxText), Title: cut(a.Title, maxText), URL: cut(a.URL, maxLong)}
		if r.URL == "" && a.Data != "" {
			r.URL = "inline (ask for detail full)"
		}
		out = append(out, r)
	}
	return out
}

// reportRow is a lab or imaging report: what, when, its conclusion and the results it groups.
type reportRow struct {
	ID         string          `json:"id"`
	Date       string          `json:"date,omitempty"`
	Report     string          `json:"report,omitempty"`
	Code       string          `json:"code,omitempty"`
	Status     string          `json:"status,omitempty"`
	Category   string          `json:"category,omitempty"`
	Conclusion string          `json:"conclusion,omitempty"`
	Results    string          `json:"results,omitempty"`
	By         string          `json:"by,omitempty"`
	Content    []attachmentRow `json:"content,omitempty"`
}

func diagnosticReport(raw json.RawMessage, _ Resolver) (any, string, concept, error) {
	var d struct {
		ID                string       `json:"id"`
		Status            string       `json:"status"`
		Category          []concept    `json:"category"`
		Code              concept      `json:"code"`
		EffectiveDateTime string       `json:"effectiveDateTime"`
		EffectivePeriod   period       `json:"effectivePeriod"`
		Issued            string       `json:"issued"`
		Performer         []reference  `json:"performer"`
		Result            []reference  `json:"result"`
		Conclusion        string       `json:"conclusion"`
		ConclusionCode    []concept    `json:"conclusionCode"`
		PresentedForm     []attachment `json:"presentedForm"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, "", concept{}, err
	}
	var results []string
	for i, r := range d.Result {
		if i == maxItems*4 {
			results = append(results, "…")
			break
		}
		results = append(results, r.who())
	}
	row := reportRow{
		ID: cut(d.ID, maxText), Date: first(cut(d.EffectiveDateTime, maxText), d.EffectivePeriod.span(), cut(d.Issued, maxText)),
		Report: d.Code.name(), Code: joinCodes(d.Code), Status: cut(d.Status, maxText), Category: codeOrText(d.Category),
		Conclusion: conclusion(d.Conclusion, names(d.ConclusionCode)),
		Results:    strings.Join(results, "; "), By: refs(d.Performer), Content: attachments(d.PresentedForm),
	}
	return row, first(d.EffectiveDateTime, d.EffectivePeriod.Start, d.Issued), d.Code, nil
}

// conclusion is a report's conclusion as a row shows it: whole when it is short; else its
// impression, the radiologist's summary, when it has one, or its start, saying where the rest is.
func conclusion(text, coded string) string {
	text = strings.TrimSpace(text)
	if len(text) > maxLong {
		size := len(text)
		if i := strings.Index(strings.ToUpper(text), "IMPRESSION:"); i >= 0 {
			text = text[i:]
		}
		text = cut(text, maxLong-80) + fmt.Sprintf(" (the whole conclusion is %d bytes: ask for detail full)", size)
	}
	return strings.TrimSpace(text + " " + coded)
}

// documentRow is a document: what kind, when, by whom, and its attachments to read.
type documentRow struct {
	ID          string          `json:"id"`
	Date        string          `json:"date,omitempty"`
	Type        string          `json:"type,omitempty"`
	Code        string          `json:"code,omitempty"`
	Category    string          `json:"category,omitempty"`
	Description string          `json:"description,omitempty"`
	Status      string          `json:"status,omitempty"`
	Author      string          `json:"author,omitempty"`
	Visit       string          `json:"visit,omitempty"` // when the care it records took place
	Content     []attachmentRow `json:"content,omitempty"`
}

func documentReference(raw json.RawMessage, _ Resolver) (any, string, concept, error) {
	var d struct {
		ID          string      `json:"id"`
		Status      string      `json:"status"`
		DocStatus   string      `json:"docStatus"`
		Type        concept     `json:"type"`
		Category    []concept   `json:"category"`
		Date        string      `json:"date"`
		Author      []reference `json:"author"`
		Description string      `json:"description"`
		Content     []struct {
			Attachment attachment `json:"attachment"`
		} `json:"content"`
		Context struct {
			Period period `json:"period"`
		} `json:"context"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, "", concept{}, err
	}
	var as []attachment
	for _, c := range d.Content {
		as = append(as, c.Attachment)
	}
	status := cut(d.Status, maxText)
	if d.DocStatus != "" {
		status += " (" + cut(d.DocStatus, maxText) + ")"
	}
	row := documentRow{
		ID: cut(d.ID, maxText), Date: first(cut(d.Date, maxText), d.Context.Period.span()),
		Type: d.Type.name(), Code: joinCodes(d.Type), Category: names(d.Category), Description: cut(d.Description, maxLong),
		Status: strings.TrimSpace(status), Author: refs(d.Author), Visit: d.Context.Period.span(), Content: attachments(as),
	}
	return row, first(d.Context.Period.Start, d.Date), d.Type, nil
}

// orderRow is an order or referral: what was ordered, when, by whom, and its state.
type orderRow struct {
	ID       string `json:"id"`
	Date     string `json:"date,omitempty"`
	Order    string `json:"order,omitempty"`
	Code     string `json:"code,omitempty"`
	Status   string `json:"status,omitempty"`
	Intent   string `json:"intent,omitempty"`
	Priority string `json:"priority,omitempty"`
	Category string `json:"category,omitempty"`
	When     string `json:"when,omitempty"` // when it is to happen
	Reason   string `json:"reason,omitempty"`
	By       string `json:"by,omitempty"`
	To       string `json:"to,omitempty"`
	Note     string `json:"note,omitempty"`
}

func serviceRequest(raw json.RawMessage, _ Resolver) (any, string, concept, error) {
	var s struct {
		ID                 string       `json:"id"`
		Status             string       `json:"status"`
		Intent             string       `json:"intent"`
		Priority           string       `json:"priority"`
		Category           []concept    `json:"category"`
		Code               concept      `json:"code"`
		AuthoredOn         string       `json:"authoredOn"`
		OccurrenceDateTime string       `json:"occurrenceDateTime"`
		OccurrencePeriod   period       `json:"occurrencePeriod"`
		Requester          reference    `json:"requester"`
		Performer          []reference  `json:"performer"`
		ReasonCode         []concept    `json:"reasonCode"`
		ReasonReference    []reference  `json:"reasonReference"`
		Note               []annotation `json:"note"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, "", concept{}, err
	}
	row := orderRow{
		ID: cut(s.ID, maxText), Date: cut(s.AuthoredOn, maxText), Order: s.Code.name(), Code: joinCodes(s.Code),
		Status: cut(s.Status, maxText), Intent: cut(s.Intent, maxText), Priority: cut(s.Priority, maxText),
		Category: names(s.Category), When: first(cut(s.OccurrenceDateTime, maxText), s.OccurrencePeriod.span()),
		Reason: first(names(s.ReasonCode), refs(s.ReasonReference)), By: s.Requester.who(), To: refs(s.Performer), Note: notes(s.Note),
	}
	return row, first(s.AuthoredOn, s.OccurrenceDateTime, s.OccurrencePeriod.Start), s.Code, nil
}
