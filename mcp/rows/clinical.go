package rows

import (
	"encoding/json"
	"strings"
)

// onset[x], abatement[x] and occurrence[x] as FHIR writes them.
type onset struct {
	DateTime string   `json:"onsetDateTime"`
	Period   period   `json:"onsetPeriod"`
	String   string   `json:"onsetString"`
	Age      quantity `json:"onsetAge"`
}

func (o onset) text() string {
	if a := o.Age.text(); a != "" {
		return "age " + a
	}
	return first(cut(o.DateTime, maxText), o.Period.span(), cut(o.String, maxText))
}

// conditionRow is a problem or diagnosis: what, since when, whether it is still active.
type conditionRow struct {
	ID           string `json:"id"`
	Problem      string `json:"problem,omitempty"`
	Code         string `json:"code,omitempty"`
	Status       string `json:"status,omitempty"`
	Verification string `json:"verification,omitempty"`
	Onset        string `json:"onset,omitempty"`
	Ended        string `json:"ended,omitempty"`
	Recorded     string `json:"recorded,omitempty"`
	Severity     string `json:"severity,omitempty"`
	Category     string `json:"category,omitempty"`
	Note         string `json:"note,omitempty"`
}

func condition(raw json.RawMessage, _ Resolver) (any, string, concept, error) {
	var c struct {
		ID                 string       `json:"id"`
		ClinicalStatus     concept      `json:"clinicalStatus"`
		VerificationStatus concept      `json:"verificationStatus"`
		Category           []concept    `json:"category"`
		Severity           concept      `json:"severity"`
		Code               concept      `json:"code"`
		RecordedDate       string       `json:"recordedDate"`
		Note               []annotation `json:"note"`
		onset
		AbatementDateTime string   `json:"abatementDateTime"`
		AbatementPeriod   period   `json:"abatementPeriod"`
		AbatementString   string   `json:"abatementString"`
		AbatementAge      quantity `json:"abatementAge"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, "", concept{}, err
	}
	ended := first(cut(c.AbatementDateTime, maxText), c.AbatementPeriod.span(), cut(c.AbatementString, maxText))
	if a := c.AbatementAge.text(); a != "" {
		ended = "age " + a
	}
	row := conditionRow{
		ID: cut(c.ID, maxText), Problem: c.Code.name(), Code: joinCodes(c.Code),
		Status: codeOrText([]concept{c.ClinicalStatus}), Verification: codeOrText([]concept{c.VerificationStatus}),
		Onset: c.onset.text(), Ended: ended, Recorded: cut(c.RecordedDate, maxText),
		Severity: c.Severity.name(), Category: codeOrText(c.Category), Note: notes(c.Note),
	}
	return row, first(c.onset.DateTime, c.onset.Period.Start, c.RecordedDate), c.Code, nil
}

// allergyRow is an allergy or intolerance: to what, how bad, and what it does.
type allergyRow struct {
	ID           string `json:"id"`
	Substance    string `json:"substance,omitempty"`
	Code         string `json:"code,omitempty"`
	Status       string `json:"status,omitempty"`
	Verification string `json:"verification,omitempty"`
	Type         string `json:"type,omitempty"`
	Category     string `json:"category,omitempty"`
	Criticality  string `json:"criticality,omitempty"`
	Reactions    string `json:"reactions,omitempty"`
	Onset        string `json:"onset,omitempty"`
	Recorded     string `json:"recorded,omitempty"`
	Note         string `json:"note,omitempty"`
}

func allergy(raw json.RawMessage, _ Resolver) (any, string, concept, error) {
	var a struct {
		ID                 string       `json:"id"`
		ClinicalStatus     concept      `json:"clinicalStatus"`
		VerificationStatus concept      `json:"verificationStatus"`
		Type               string       `json:"type"`
		Category           []string     `json:"category"`
		Criticality        string       `json:"criticality"`
		Code               concept      `json:"code"`
		RecordedDate       string       `json:"recordedDate"`
		Note               []annotation `json:"note"`
		onset
		Reaction []struct {
			Substance     concept   `json:"substance"`
			Manifestation []concept `json:"manifestation"`
			Description   string    `json:"description"`
			Severity      string    `json:"severity"`
		} `json:"reaction"`
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, "", concept{}, err
	}
	var reactions []string
	for i, r := range a.Reaction {
		if i == maxItems {
			break
		}
		s := first(names(r.Manifestation), cut(r.Description, maxText))
		if r.Severity != "" {
			s += " (" + cut(r.Severity, maxText) + ")"
		}
		reactions = append(reactions, strings.TrimSpace(s))
	}
	row := allergyRow{
		ID: cut(a.ID, maxText), Substance: a.Code.name(), Code: joinCodes(a.Code),
		Status: codeOrText([]concept{a.ClinicalStatus}), Verification: codeOrText([]concept{a.VerificationStatus}),
		Type: cut(a.Type, maxText), Category: cut(strings.Join(a.Category, ", "), maxText), Criticality: cut(a.Criticality, maxText),
		Reactions: strings.Join(reactions, "; "), Onset: a.onset.text(), Recorded: cut(a.RecordedDate, maxText), Note: notes(a.Note),
	}
	return row, first(a.onset.DateTime, a.onset.Period.Start, a.RecordedDate), a.Code, nil
}

// immunizationRow is a vaccination: which vaccine, when, and whether it was given.
type immunizationRow struct {
	ID      string `json:"id"`
	Date    string `json:"date,omitempty"`
	Vaccine string `json:"vaccine,omitempty"`
	Code    string `json:"code,omitempty"`
	Status  string `json:"status,omitempty"`
	Reason  string `json:"reason,omitempty"` // why it was not done
	Dose    string `json:"dose,omitempty"`
	Lot     string `json:"lot,omitempty"`
	Site    string `json:"site,omitempty"`
	Where   string `json:"where,omitempty"`
	Note    string `json:"note,omitempty"`
}

func immunization(raw json.RawMessage, _ Resolver) (any, string, concept, error) {
	var im struct {
		ID                 string       `json:"id"`
		Status             string       `json:"status"`
		StatusReason       concept      `json:"statusReason"`
		VaccineCode        concept      `json:"vaccineCode"`
		OccurrenceDateTime string       `json:"occurrenceDateTime"`
		OccurrenceString   string       `json:"occurrenceString"`
		LotNumber          string       `json:"lotNumber"`
		Location           reference    `json:"location"`
		Site               concept      `json:"site"`
		Note               []annotation `json:"note"`
		ProtocolApplied    []struct {
			Series             string      `json:"series"`
			DoseNumberPositive json.Number `json:"doseNumberPositiveInt"`
			DoseNumberString   string      `json:"doseNumberString"`
			SeriesDoses        json.Number `json:"seriesDosesPositiveInt"`
		} `json:"protocolApplied"`
	}
	if err := json.Unmarshal(raw, &im); err != nil {
		return nil, "", concept{}, err
	}
	var dose string
	if len(im.ProtocolApplied) > 0 {
		p := im.ProtocolApplied[0]
		dose = first(p.DoseNumberPositive.String(), cut(p.DoseNumberString, maxText))
		if p.SeriesDoses != "" {
			dose += " of " + p.SeriesDoses.String()
		}
		if p.Series != "" {
			dose = strings.TrimSpace(dose + " (" + cut(p.Series, maxText) + ")")
		}
	}
	row := immunizationRow{
		ID: cut(im.ID, maxText), Date: first(cut(im.OccurrenceDateTime, maxText), cut(im.OccurrenceString, maxText)),
		Vaccine: im.VaccineCode.name(), Code: joinCodes(im.VaccineCode), Status: cut(im.Status, maxText),
		Reason: im.StatusReason.name(), Dose: dose, Lot: cut(im.LotNumber, maxText), Site: im.Site.name(), Where: im.Location.who(), Note: notes(im.Note),
	}
	return row, im.OccurrenceDateTime, im.VaccineCode, nil
}

// procedureRow is a procedure: what was done, when, by whom and why.
type procedureRow struct {
	ID        string `json:"id"`
	Date      string `json:"date,omitempty"`
	Procedure string `json:"procedure,omitempty"`
	Code      string `json:"code,omitempty"`
	Status    string `json:"status,omitempty"`
	Reason    string `json:"reason,omitempty"`
	By        string `json:"by,omitempty"`
	Site      string `json:"site,omitempty"`
	Where     string `json:"where,omitempty"`
	Outcome   string `json:"outcome,omitempty"`
	Note      string `json:"note,omitempty"`
}

func procedure(raw json.RawMessage, _ Resolver) (any, string, concept, error) {
	var p struct {
		ID                string       `json:"id"`
		Status            string       `json:"status"`
		Code              concept      `json:"code"`
		PerformedDateTime string       `json:"performedDateTime"`
		PerformedPeriod   period       `json:"performedPeriod"`
		PerformedString   string       `json:"performedString"`
		ReasonCode        []concept    `json:"reasonCode"`
		ReasonReference   []reference  `json:"reasonReference"`
		BodySite          []concept    `json:"bodySite"`
		Location          reference    `json:"location"`
		Outcome           concept      `json:"outcome"`
		Note              []annotation `json:"note"`
		Performer         []struct {
			Actor reference `json:"actor"`
		} `json:"performer"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, "", concept{}, err
	}
	var by []reference
	for _, pf := range p.Performer {
		by = append(by, pf.Actor)
	}
	row := procedureRow{
		ID: cut(p.ID, maxText), Date: first(cut(p.PerformedDateTime, maxText), p.PerformedPeriod.span(), cut(p.PerformedString, maxText)),
		Procedure: p.Code.name(), Code: joinCodes(p.Code), Status: cut(p.Status, maxText),
		Reason: first(names(p.ReasonCode), refs(p.ReasonReference)), By: refs(by), Site: names(p.BodySite), Where: p.Location.who(),
		Outcome: p.Outcome.name(), Note: notes(p.Note),
	}
	return row, first(p.PerformedDateTime, p.PerformedPeriod.Start), p.Code, nil
}
