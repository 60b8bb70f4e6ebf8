package practice

import (
	"encoding/json"
	"strings"
)

// maxOutcome bounds the words an OperationOutcome contributes to an error message.
const maxOutcome = 300

// describeOutcome renders an OperationOutcome body as one line ("error invalid: diagnostics;
// ..."), or "" when the body is not one. Other bodies are left out on purpose: an error page
// may echo request headers, and error texts reach the model.
func describeOutcome(body []byte) string {
	var oo struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Severity    string `json:"severity"`
			Code        string `json:"code"`
			Diagnostics string `json:"diagnostics"`
			Details     struct {
				Text string `json:"text"`
			} `json:"details"`
		} `json:"issue"`
	}
	if json.Unmarshal(body, &oo) != nil || oo.ResourceType != "OperationOutcome" {
		return ""
	}
	var parts []string
	for _, is := range oo.Issue {
		words := is.Diagnostics
		if words == "" {
			words = is.Details.Text
		}
		p := strings.TrimSpace(is.Severity + " " + is.Code)
		if words != "" {
			p += ": " + words
		}
		parts = append(parts, p)
	}
	s := strings.Join(parts, "; ")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxOutcome {
		s = s[:maxOutcome] + "…"
	}
	return s
}
