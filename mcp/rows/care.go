package rows

import (
	"encoding/json"
	"strings"
)

// carePlanRow is a care plan: what it is for, its activities and whether it is in force.
type carePlanRow struct {
	ID          string `json:"id"`
	Date        string `json:"date,omitempty"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	Status      string `json:"status,omitempty"`
	Intent      string `json:"intent,omitempty"`
	Category    string `json:"category,omitempty"`
	Addresses   string `json:"addresses,omitempty"`
	Activities  string `json:"activities,omitempty"`
	By          string `json:"by,omitempty"`
	Note        string `json:"note,omitempty"`
}

func carePlan(raw json.RawMessage, _ Resolver) (any, string, concept, error) {
	var c struct {
		ID          string       `json:"id"`
		Status      string       `json:"status"`
		Intent      string       `json:"intent"`
		Category    []concept    `json:"category"`
		Title       string       `json:"title"`
		Description string       `json:"description"`
		Period      period       `json:"period"`
		Created     string       `json:"created"`
		Addresses   []reference  `json:"addresses"`
		Author      reference    `json:"author"`
		Note        []annotation `json:"note"`
		Activity    []struct {
			Detail struct {
				Code        concept `json:"code"`
				Status      string  `json:"status"`
				Description string  `json:"description"`
			} `json:"detail"`
			Reference reference `json:"reference"`
		} `json:"activity"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, "", concept{}, err
	}
	var acts []string
	for i, a := range c.Activity {
		if i == maxItems {
			break
		}
		s := first(a.Detail.Code.name(), cut(a.Detail.Description, maxText), a.Reference.who())
		if a.Detail.Status != "" {
			s += " (" + cut(a.Detail.Status, maxText) + ")"
		}
		acts = append(acts, s)
	}
	about := concept{Text: c.Title}
	if len(c.Category) > 0 && c.Title == "" {
		about = c.Category[0]
	}
	row := carePlanRow{
		ID: cut(c.ID, maxText), Date: first(c.Period.span(), cut(c.Created, maxText)), Title: cut(c.Title, maxText),
		Description: cut(c.Description, maxLong), Status: cut(c.Status, maxText), Intent: cut(c.Intent, maxText),
		Category: names(c.Category), Addresses: refs(c.Addresses), Activities: cut(strings.Join(acts, "; "), maxLong), By: c.Author.who(), Note: notes(c.Note),
	}
	return row, first(c.Period.Start, c.Created), about, nil
}

// goalRow is a health goal: what, its target, and how far along it is.
type goalRow struct {
	ID          string `json:"id"`
	Date        string `json:"date,omitempty"`
	Goal        string `json:"goal,omitempty"`
	Status      string `json:"status,omitempty"`
	Achievement string `json:"achievement,omitempty"`
	Target      string `json:"target,omitempty"`
	By          string `json:"by,omitempty"`
	Note        string `json:"note,omitempty"`
}

func goal(raw json.RawMessage, _ Resolver) (any, string, concept, error) {
	var g struct {
		ID                string       `json:"id"`
		LifecycleStatus   string       `json:"lifecycleStatus"`
		AchievementStatus concept      `json:"achievementStatus"`
		Description       concept      `json:"description"`
		StartDate         string       `json:"startDate"`
		StatusDate        string       `json:"statusDate"`
		ExpressedBy       reference    `json:"expressedBy"`
		Note              []annotation `json:"note"`
		Target            []struct {
			Measure        concept    `json:"measure"`
			DetailQuantity *quantity  `json:"detailQuantity"`
			DetailRange    *fhirRange `json:"detailRange"`
			DetailString   string     `json:"detailString"`
			DueDate        string     `json:"dueDate"`
		} `json:"target"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, "", concept{}, err
	}
	var targets []string
	for i, t := range g.Target {
		if i == maxItems {
			break
		}
		detail := cut(t.DetailString, maxText)
		switch {
		case t.DetailQuantity != nil:
			detail = t.DetailQuantity.text()
		case t.DetailRange != nil:
			detail = t.DetailRange.text()
		}
		s := strings.TrimSpace(t.Measure.name() + " " + detail)
		if t.DueDate != "" {
			s = strings.TrimSpace(s + " by " + cut(t.DueDate, maxText))
		}
		targets = append(targets, s)
	}
	row := goalRow{
		ID: cut(g.ID, maxText), Date: first(cut(g.StartDate, maxText), cut(g.StatusDate, maxText)), Goal: g.Description.name(),
		Status: cut(g.LifecycleStatus, maxText), Achievement: g.AchievementStatus.name(), Target: strings.Join(targets, "; "), By: g.ExpressedBy.who(), Note: notes(g.Note),
	}
	return row, first(g.StartDate, g.StatusDate), g.Description, nil
}

// careTeamRow is a care team: who is on it and in what role.
type careTeamRow struct {
	ID      string `json:"id"`
	Date    string `json:"date,omitempty"`
	Name    string `json:"name,omitempty"`
	Status  string `json:"status,omitempty"`
	Members string `json:"members,omitempty"`
}

func careTeam(raw json.RawMessage, _ Resolver) (any, string, concept, error) {
	var c struct {
		ID          string `json:"id"`
		Status      string `json:"status"`
		Name        string `json:"name"`
		Period      period `json:"period"`
		Participant []struct {
			Role   []concept `json:"role"`
			Member reference `json:"member"`
		} `json:"participant"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, "", concept{}, err
	}
	var members []string
	for i, p := range c.Participant {
		if i == maxItems*2 {
			break
		}
		s := p.Member.who()
		if r := names(p.Role); r != "" {
			s += " (" + r + ")"
		}
		members = append(members, s)
	}
	row := careTeamRow{ID: cut(c.ID, maxText), Date: c.Period.span(), Name: cut(c.Name, maxText),
		Status: cut(c.Status, maxText), Members: cut(strings.Join(members, "; "), maxLong)}
	return row, c.Period.Start, concept{Text: c.Name}, nil
}

// deviceRow is an implanted or used device: what it is and how to identify it.
type deviceRow struct {
	ID      string `json:"id"`
	Device  string `json:"device,omitempty"`
	Code    string `json:"code,omitempty"`
	Status  string `json:"status,omitempty"`
	Maker   string `json:"maker,omitempty"`
	UDI     string `json:"udi,omitempty"`
	Made    string `json:"made,omitempty"`
	Expires string `json:"expires,omitempty"`
	Lot     string `json:"lot,omitempty"`
	Serial  string `json:"serial,omitempty"`
}

func device(raw json.RawMessage, _ Resolver) (any, string, concept, error) {
	var d struct {
		ID              string  `json:"id"`
		Status          string  `json:"status"`
		Type            concept `json:"type"`
		ManufactureDate string  `json:"manufactureDate"`
		Manufacturer    string  `json:"manufacturer"`
		ExpirationDate  string  `json:"expirationDate"`
		LotNumber       string  `json:"lotNumber"`
		SerialNumber    string  `json:"serialNumber"`
		DeviceName      []struct {
			Name string `json:"name"`
		} `json:"deviceName"`
		UDICarrier []struct {
			DeviceIdentifier string `json:"deviceIdentifier"`
			CarrierHRF       string `json:"carrierHRF"`
		} `json:"udiCarrier"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, "", concept{}, err
	}
	var udi []string
	for _, u := range d.UDICarrier {
		if s := first(u.CarrierHRF, u.DeviceIdentifier); s != "" {
			udi = append(udi, s)
		}
	}
	name := d.Type.name()
	if len(d.DeviceName) > 0 && d.DeviceName[0].Name != "" {
		name = cut(d.DeviceName[0].Name, maxText)
	}
	row := deviceRow{ID: cut(d.ID, maxText), Device: name, Code: joinCodes(d.Type), Status: cut(d.Status, maxText), Maker: cut(d.Manufacturer, maxText),
		UDI: cut(strings.Join(udi, ", "), maxText), Made: cut(d.ManufactureDate, maxText), Expires: cut(d.ExpirationDate, maxText),
		Lot: cut(d.LotNumber, maxText), Serial: cut(d.SerialNumber, maxText)}
	return row, d.ManufactureDate, d.Type, nil
}

// coverageRow is an insurance coverage: the payer, the plan and the member's ids.
type coverageRow struct {
	ID           string `json:"id"`
	Date         string `json:"date,omitempty"`
	Payer        string `json:"payer,omitempty"`
	Type         string `json:"type,omitempty"`
	Status       string `json:"status,omitempty"`
	Member       string `json:"member,omitempty"`
	Relationship string `json:"relationship,omitempty"`
	Plan         string `json:"plan,omitempty"`
}

func coverage(raw json.RawMessage, _ Resolver) (any, string, concept, error) {
	var c struct {
		ID           string      `json:"id"`
		Status       string      `json:"status"`
		Type         concept     `json:"type"`
		SubscriberID string      `json:"subscriberId"`
		Relationship concept     `json:"relationship"`
		Period       period      `json:"period"`
		Payor        []reference `json:"payor"`
		Class        []struct {
			Type  concept `json:"type"`
			Value string  `json:"value"`
			Name  string  `json:"name"`
		} `json:"class"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, "", concept{}, err
	}
	var plan []string
	for i, cl := range c.Class {
		if i == maxItems {
			break
		}
		plan = append(plan, strings.TrimSpace(cl.Type.name()+" "+cut(cl.Value, maxText)+" "+cut(cl.Name, maxText)))
	}
	row := coverageRow{ID: cut(c.ID, maxText), Date: c.Period.span(), Payer: refs(c.Payor), Type: c.Type.name(),
		Status: cut(c.Status, maxText), Member: cut(c.SubscriberID, maxText), Relationship: codeOrText([]concept{c.Relationship}),
		Plan: strings.Join(plan, "; ")}
	return row, c.Period.Start, c.Type, nil
}
