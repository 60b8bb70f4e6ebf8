package mcp

import (
	"encoding/json"
)

// docAttachments are a DocumentReference's contents that a build reads: each attachment with a
// url (inline data is cleaned out of what the practice sent before the index sees it).
func docAttachments(res json.RawMessage, ref, date, title string) []docRef {
	var d struct {
		Content []struct {
			Attachment struct {
				ContentType string `json:"contentType"`
				URL         string `json:"url"`
				Title       string `json:"title"`
			} `json:"attachment"`
		} `json:"content"`
	}
	if json.Unmarshal(res, &d) != nil {
		return nil
	}
	var out []docRef
	for _, c := range d.Content {
		if c.Attachment.URL == "" {
			continue
		}
		t := title
		if c.Attachment.Title != "" {
			t = c.Attachment.Title
		}
		out = append(out, docRef{ref: ref, date: date, title: t, url: c.Attachment.URL, contentType: c.Attachment.ContentType})
	}
	return out
}
