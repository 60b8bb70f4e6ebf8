package vault

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Times are stored as RFC 3339 text in UTC with nanoseconds, so the file stays readable with the
// sqlite3 shell and every value reads back Equal to what was written. The zero time is stored as
// NULL, meaning "never".

func encodeTime(t time.Time) sql.NullString {
	if t.IsZero() {
		return sql.NullString{}
	}
	return sql.NullString{String: t.UTC().Format(time.RFC3339Nano), Valid: true}
}

func decodeTime(column string, s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s.String)
	if err != nil {
		return time.Time{}, fmt.Errorf("column %s holds %q, not an RFC 3339 time: %w", column, s.String, err)
	}
	return t, nil
}

// Scopes are stored as a JSON array, which keeps nil (stored "null") apart from an empty list
// (stored "[]") so that both read back exactly as they were written.

func encodeScopes(scopes []string) (string, error) {
	b, err := json.Marshal(scopes)
	if err != nil {
		return "", fmt.Errorf("encode scopes: %w", err)
	}
	return string(b), nil
}

func decodeScopes(s string) ([]string, error) {
	var scopes []string
	if err := json.Unmarshal([]byte(s), &scopes); err != nil {
		return nil, fmt.Errorf("column scopes holds %q, not a JSON list of strings: %w", s, err)
	}
	return scopes, nil
}

// checkSMARTConfig rejects a configuration that is not JSON, so a truncated download is never
// cached as if it were the practice's configuration.
func checkSMARTConfig(raw []byte) error {
	if len(raw) > 0 && !json.Valid(raw) {
		return fmt.Errorf("vault: the SMART configuration to cache is not valid JSON (%d bytes): fetch it again", len(raw))
	}
	return nil
}
