package rows

import "encoding/json"

// encounterRow is a visit: when, what kind, with whom, where and why.
type encounterRow struct {
	ID        string `json:"id"`
	Date      string `json:"date,omitempty"`
	Ended     string `json:"ended,omitempty"`
	Type      string `json:"type,omitempty"`
	Class     string `json:"class,omitempty"`
	Status    string `json:"status,omitempty"`
	Reason    string `json:"reason,omitempty"`
	With      string `json:"with,omitempty"`
	Where     string `json:"where,omitempty"`
	Diagnoses string `json:"diagnoses,omitempty"`
	By        string `json:"by,omitempty"` // the organization responsible
}

func encounter(raw json.RawMessage, _ Resolver) (any, string, concept, error) {
	var e struct {
		ID              string      `json:"id"`
		Status          string      `json:"status"`
		Class           coding      `json:"class"`
		Type            []concept   `json:"type"`
		ServiceType     concept     `json:"serviceType"`
		Period          period      `json:"period"`
		ReasonCode      []concept   `json:"reasonCode"`
		ReasonReference []reference `json:"reasonReference"`
		ServiceProvider reference   `json:"serviceProvider"`
		Participant     []struct {
			Individual reference `json:"individual"`
		} `json:"participant"`
		Location []struct {
			Location reference `json:"location"`
		} `json:"location"`
		Diagnosis []struct {
			Condition reference `json:"condition"`
		} `json:"diagnosis"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, "", concept{}, err
	}
	var with, where, diagnoses []reference
	for _, p := range e.Participant {
		with = append(with, p.Individual)
	}
	for _, l := range e.Location {
		where = append(where, l.Location)
	}
	for _, d := range e.Diagnosis {
		diagnoses = append(diagnoses, d.Condition)
	}
	row := encounterRow{
		ID: cut(e.ID, maxText), Date: cut(e.Period.Start, maxText), Ended: cut(e.Period.End, maxText),
		Type: first(names(e.Type), e.ServiceType.name()), Class: first(cut(e.Class.Code, maxText), cut(e.Class.Display, maxText)),
		Status: cut(e.Status, maxText), Reason: first(names(e.ReasonCode), refs(e.ReasonReference)),
		With: refs(with), Where: refs(where), Diagnoses: refs(diagnoses), By: e.ServiceProvider.who(),
	}
	about := concept{}
	if len(e.Type) > 0 {
		about = e.Type[0]
	}
	return row, e.Period.Start, about, nil
}
