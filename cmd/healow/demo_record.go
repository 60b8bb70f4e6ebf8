package main

import (
	"encoding/json"
	"fmt"
)

// recordSearch looks for a word across the whole record, documents' text included, as a model
// asked "where did they mention X?" would; the first call reads each practice's record.
func (d *demoClient) recordSearch(text string) error {
	answer, err := d.text("search_record", map[string]any{"text": text})
	if err != nil {
		return err
	}
	var r struct {
		Matches  []struct{ Type, ID, Date, Practice, Snippet string }
		More     int
		Coverage []struct{ Practice, State, Read string }
	}
	if err := json.Unmarshal([]byte(answer), &r); err != nil {
		return fmt.Errorf("search_record: %w", err)
	}
	fmt.Fprintf(d.out, "\nsearch_record %q: %d matches\n", text, len(r.Matches)+r.More)
	for _, c := range r.Coverage {
		fmt.Fprintf(d.out, "  %s: %s (%s)\n", c.Practice, c.State, c.Read)
	}
	for _, m := range r.Matches[:min(3, len(r.Matches))] {
		fmt.Fprintf(d.out, "  %s %s/%s (%s): %s\n", m.Date, m.Type, m.ID, m.Practice, cut(m.Snippet, 100))
	}
	return nil
}
