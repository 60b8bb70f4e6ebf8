package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/healow-mcp/healow-mcp/vault"
)

var auditHelp = &help{
	name:     "audit",
	synopsis: "every read of patient data, kept 90 days",
	usage:    "healow audit [--practice NAME] [--since DURATION] [--json]",
	about: "What was read, when, from which practice and by which process; never its content, a token or " +
		"the values a search was made with.",
	example: `healow audit --practice "Sunrise Family Medicine" --since 7d`,
	env:     []string{"HEALOW_TOKEN_STORE"},
}

// runAudit shows the audit trail: every read of patient data, without its content.
func runAudit(ctx context.Context, args []string) error {
	fs := auditHelp.flags()
	name := fs.String("practice", "", "only this practice (its `NAME` or id)")
	since := fs.String("since", "", "only the last `DURATION`, e.g. 1h, 30m or 7d (default: everything kept, 90 days)")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fs.usageError()
	}
	q := vault.AuditQuery{Practice: *name}
	if *since != "" {
		d, err := parseSince(*since)
		if err != nil {
			return err
		}
		q.Since = time.Now().Add(-d)
	}
	store, err := openStoreIfAny()
	if err != nil {
		return err
	}
	var rows []vault.Access
	if store != nil {
		defer store.Close()
		if rows, err = store.Audit(ctx, q); err != nil {
			return err
		}
	}
	return listAudit(os.Stdout, rows, *asJSON)
}

// parseSince takes Go durations and, since audit rows are kept for days, days ("7d").
func parseSince(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n > 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--since %q: want a duration such as 1h, 30m or 7d", s)
	}
	return d, nil
}

// auditRow is one row as healow audit shows it.
type auditRow struct {
	Time         time.Time `json:"time"`
	PID          int       `json:"pid"`
	PracticeID   string    `json:"practice_id"`
	Practice     string    `json:"practice"`
	Tool         string    `json:"tool"`
	ResourceType string    `json:"resource_type"`
	Resources    int       `json:"resources"`
	Withheld     int       `json:"withheld"`
	Outcome      string    `json:"outcome"`
}

func listAudit(out io.Writer, rows []vault.Access, asJSON bool) error {
	list := []auditRow{}
	for _, r := range rows {
		list = append(list, auditRow{Time: r.At, PID: r.PID, PracticeID: r.PracticeID, Practice: r.PracticeName,
			Tool: r.Tool, ResourceType: r.ResourceType, Resources: r.Resources, Withheld: r.Withheld, Outcome: r.Outcome})
	}
	if asJSON {
		return writeJSON(out, list, true)
	}
	if len(list) == 0 {
		fmt.Fprintln(out, "No reads of patient data are recorded (for this selection).")
		return nil
	}
	tw := newTable(out)
	fmt.Fprintln(tw, "TIME\tPID\tPRACTICE\tTOOL\tRESOURCE\tCOUNT\tWITHHELD\tOUTCOME")
	for _, r := range list {
		practice := r.Practice
		if practice == "" {
			practice = r.PracticeID
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t%d\t%s\n", r.Time.Local().Format("2006-01-02 15:04:05"), r.PID, practice,
			r.Tool, r.ResourceType, r.Resources, r.Withheld, r.Outcome)
	}
	return tw.Flush()
}
