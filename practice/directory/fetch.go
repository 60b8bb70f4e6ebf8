package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// The copy on disk: the directory as it was sent, and what is known of it.
const (
	copyFile = "practice-directory.json"
	metaFile = "practice-directory.meta.json"
)

// meta is what a conditional GET needs, and which URL the copy came from: a copy of another
// directory (the sandbox's, say) is never searched for this one.
type meta struct {
	URL          string    `json:"url"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	Checked      time.Time `json:"checked"` // when the host last sent or confirmed the copy
}

// readCopy returns the copy on disk when it is this URL's and parses; otherwise nothing, and the
// directory is downloaded again.
func (d *Directory) readCopy() (*Index, meta) {
	var m meta
	raw, err := os.ReadFile(filepath.Join(d.folder, metaFile))
	if err != nil || json.Unmarshal(raw, &m) != nil || m.URL != d.url {
		return nil, meta{}
	}
	f, err := os.Open(filepath.Join(d.folder, copyFile))
	if err != nil {
		return nil, meta{}
	}
	defer f.Close()
	idx, err := Parse(io.LimitReader(f, d.maxBytes))
	if err != nil {
		return nil, meta{}
	}
	return idx, m
}

// refresh asks the directory's host for the directory, conditionally when a copy is in hand.
// It returns the new index and its meta, or (nil, the meta confirmed) when the copy is current.
func (d *Directory) refresh(ctx context.Context, have bool, m meta) (*Index, meta, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.url, nil)
	if err != nil {
		return nil, m, err
	}
	req.Header.Set("Accept", "application/fhir+json, application/json")
	if have && m.ETag != "" {
		req.Header.Set("If-None-Match", m.ETag)
	}
	if have && m.LastModified != "" {
		req.Header.Set("If-Modified-Since", m.LastModified)
	}
	resp, err := d.hc.Do(req)
	if err != nil {
		return nil, m, err
	}
	defer resp.Body.Close()
	now := d.clock.Now()
	switch {
	case resp.StatusCode == http.StatusNotModified && have:
		m.Checked = now
		if err := d.writeMeta(m); err != nil {
			return nil, m, err
		}
		return nil, m, nil
	case resp.StatusCode != http.StatusOK:
		return nil, m, fmt.Errorf("%s answered HTTP %d", d.url, resp.StatusCode)
	case resp.ContentLength > d.maxBytes:
		return nil, m, fmt.Errorf("%w: %s sends %d bytes, over %s", errTooLarge, d.url, resp.ContentLength, size(d.maxBytes))
	}
	idx, err := d.keep(resp.Body)
	if err != nil {
		return nil, m, err
	}
	fresh := meta{URL: d.url, ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"), Checked: now}
	if err := d.writeMeta(fresh); err != nil {
		return nil, m, err
	}
	return idx, fresh, nil
}

// errTooLarge is a directory past maxBytes, however its host described it.
var errTooLarge = errors.New("the practice directory is larger than healow accepts")

func size(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

// keep writes the body to a temporary file beside the copy, parses it from there (so the
// directory is never held whole in memory), and puts it in the copy's place only once it
// parsed: a download cut short, too large or malformed never replaces a good copy.
func (d *Directory) keep(body io.Reader) (*Index, error) {
	if err := os.MkdirAll(d.folder, 0o700); err != nil {
		return nil, fmt.Errorf("keeping the practice directory in %s: %w", d.folder, err)
	}
	tmp, err := os.CreateTemp(d.folder, copyFile+".*") // 0600
	if err != nil {
		return nil, fmt.Errorf("keeping the practice directory in %s: %w", d.folder, err)
	}
	defer os.Remove(tmp.Name()) // gone already once renamed
	defer tmp.Close()
	n, err := io.Copy(tmp, io.LimitReader(body, d.maxBytes+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("reading the practice directory: %w", err)
	case n > d.maxBytes:
		return nil, fmt.Errorf("%w: over %s", errTooLarge, size(d.maxBytes))
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	idx, err := Parse(tmp)
	if err != nil {
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(d.folder, copyFile)); err != nil {
		return nil, fmt.Errorf("keeping the practice directory in %s: %w", d.folder, err)
	}
	return idx, nil
}

// writeMeta replaces the meta file whole (a rename), mode 0600.
func (d *Directory) writeMeta(m meta) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(d.folder, metaFile+".*")
	if err != nil {
		return fmt.Errorf("keeping the practice directory in %s: %w", d.folder, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(d.folder, metaFile))
}
