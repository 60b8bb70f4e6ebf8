package rows

import (
	"encoding/json"
	"strings"
)

// medicationRow is a prescription: the drug, how to take it, and whether it is current.
type medicationRow struct {
	ID         string `json:"id"`
	Date       string `json:"date,omitempty"`
	Medication string `json:"medication,omitempty"`
	Code       string `json:"code,omitempty"`
	Dose       string `json:"dose,omitempty"`
	Status     string `json:"status,omitempty"`
	Intent     string `json:"intent,omitempty"`
	Reason     string `json:"reason,omitempty"`
	By         string `json:"by,omitempty"`
	Supply     string `json:"supply,omitempty"`
	Note       string `json:"note,omitempty"`
}

type dosage struct {
	Text               string  `json:"text"`
	PatientInstruction string  `json:"patientInstruction"`
	Route              concept `json:"route"`
	Timing             struct {
		Code concept `json:"code"`
	} `json:"timing"`
	AsNeededBoolean bool `json:"asNeededBoolean"`
	DoseAndRate     []struct {
		DoseQuantity *quantity  `json:"doseQuantity"`
		DoseRange    *fhirRange `json:"doseRange"`
	} `json:"doseAndRate"`
}

// text is a dosage as written, else as its parts say it.
func (d dosage) text() string {
	if d.Text != "" {
		s := d.Text
		if d.PatientInstruction != "" && d.PatientInstruction != d.Text {
			s += " (" + d.PatientInstruction + ")"
		}
		return s
	}
	var parts []string
	for _, dr := range d.DoseAndRate {
		switch {
		case dr.DoseQuantity != nil:
			parts = append(parts, dr.DoseQuantity.text())
		case dr.DoseRange != nil:
			parts = append(parts, dr.DoseRange.text())
		}
	}
	parts = append(parts, d.Route.name(), d.Timing.Code.name())
	if d.AsNeededBoolean {
		parts = append(parts, "as needed")
	}
	parts = append(parts, d.PatientInstruction)
	var kept []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, ", ")
}

func medicationRequest(raw json.RawMessage, resolve Resolver) (any, string, concept, error) {
	var m struct {
		ID                        string       `json:"id"`
		Status                    string       `json:"status"`
		Intent                    string       `json:"intent"`
		MedicationCodeableConcept *concept     `json:"medicationCodeableConcept"`
		MedicationReference       *reference   `json:"medicationReference"`
		AuthoredOn                string       `json:"authoredOn"`
		Requester                 reference    `json:"requester"`
		ReasonCode                []concept    `json:"reasonCode"`
		ReasonReference           []reference  `json:"reasonReference"`
		Note                      []annotation `json:"note"`
		DosageInstruction         []dosage     `json:"dosageInstruction"`
		DispenseRequest           struct {
			NumberOfRepeatsAllowed json.Number `json:"numberOfRepeatsAllowed"`
			Quantity               *quantity   `json:"quantity"`
			ExpectedSupplyDuration *quantity   `json:"expectedSupplyDuration"`
		} `json:"dispenseRequest"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, "", concept{}, err
	}
	var drug concept
	name := ""
	switch {
	case m.MedicationCodeableConcept != nil:
		drug = *m.MedicationCodeableConcept
		name = drug.name()
	case m.MedicationReference != nil:
		// eCW names some drugs only in a Medication the page includes.
		if med := resolve(m.MedicationReference.Reference); med != nil {
			var md struct {
				Code concept `json:"code"`
			}
			if json.Unmarshal(med, &md) == nil {
				drug = md.Code
			}
		}
		name = first(drug.name(), m.MedicationReference.who())
	}
	var doses []string
	for i, d := range m.DosageInstruction {
		if i == maxItems {
			break
		}
		if t := d.text(); t != "" {
			doses = append(doses, t)
		}
	}
	var supply []string
	if q := m.DispenseRequest.Quantity.text(); q != "" {
		supply = append(supply, q)
	}
	if d := m.DispenseRequest.ExpectedSupplyDuration.text(); d != "" {
		supply = append(supply, "for "+d)
	}
	if n := m.DispenseRequest.NumberOfRepeatsAllowed.String(); n != "" {
		supply = append(supply, n+" refills")
	}
	row := medicationRow{
		ID: cut(m.ID, maxText), Date: cut(m.AuthoredOn, maxText), Medication: name, Code: joinCodes(drug),
		Dose: cut(strings.Join(doses, "; "), maxLong), Status: cut(m.Status, maxText), Intent: cut(m.Intent, maxText),
		Reason: first(names(m.ReasonCode), refs(m.ReasonReference)), By: m.Requester.who(),
		Supply: cut(strings.Join(supply, ", "), maxText), Note: notes(m.Note),
	}
	if drug.name() == "" {
		drug.Text = name
	}
	return row, m.AuthoredOn, drug, nil
}
