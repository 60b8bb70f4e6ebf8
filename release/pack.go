package main

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"
)

// devVersion is the manifest's version outside a release, as committed.
const devVersion = "0.0.0-dev"

// semver is what the bundle format wants in a manifest's version: MAJOR.MINOR.PATCH with an
// optional pre-release and build.
var semver = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// manifestVersion is a release's version as the manifest writes it: v1.2.3 is 1.2.3, and a
// build that is no release keeps devVersion.
func manifestVersion(version string) (string, error) {
	if version == "" {
		return devVersion, nil
	}
	v := strings.TrimPrefix(version, "v")
	if !semver.MatchString(v) {
		return "", fmt.Errorf("version %q is not a semantic version such as v1.2.3, which a bundle's manifest needs", version)
	}
	return v, nil
}

// object is a JSON object whose members are kept as they are, so that packing changes only the
// members it means to and the rest of the committed manifest reaches the bundle untouched.
type object map[string]json.RawMessage

func readManifest(path string) (object, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m object
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// set replaces member key of the object held in member outer (such as server.entry_point).
func (m object) set(outer, key string, v any) error {
	var o object
	if err := json.Unmarshal(m[outer], &o); err != nil {
		return fmt.Errorf("manifest member %s: %w", outer, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	o[key] = b
	m[outer], err = json.Marshal(o)
	return err
}

// forTarget is the manifest of t's bundle: the release's version, the binary's name on t as
// entry point, and t's OS alone as the platform, so that a client can refuse the bundle on
// another OS rather than fail to start it. (Nothing in the format names an architecture.)
func forTarget(m object, version string, t target) ([]byte, error) {
	out := object{}
	for k, v := range m {
		out[k] = v
	}
	v, err := manifestVersion(version)
	if err != nil {
		return nil, err
	}
	if out["version"], err = json.Marshal(v); err != nil {
		return nil, err
	}
	if err := out.set("server", "entry_point", "server/"+t.exe()); err != nil {
		return nil, err
	}
	if err := out.set("compatibility", "platforms", []string{platformOf(t.goos)}); err != nil {
		return nil, err
	}
	return json.MarshalIndent(out, "", "  ")
}

// platformOf is the bundle format's name of a GOOS: Node's process.platform.
func platformOf(goos string) string {
	if goos == "windows" {
		return "win32"
	}
	return goos
}

// packed is the time every bundle entry carries, so that the same build packs the same bytes.
var packed = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// pack writes t's bundle: a zip with manifest.json at its root and the binary bin under
// server/, executable. It returns the bundle's size.
func pack(bundle string, m object, version string, t target, bin string) (int64, error) {
	mb, err := forTarget(m, version, t)
	if err != nil {
		return 0, err
	}
	f, err := os.Create(bundle)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	z := zip.NewWriter(f)
	if err := add(z, "manifest.json", 0o644, strings.NewReader(string(mb)+"\n")); err != nil {
		return 0, err
	}
	b, err := os.Open(bin)
	if err != nil {
		return 0, err
	}
	defer b.Close()
	if err := add(z, "server/"+t.exe(), 0o755, b); err != nil {
		return 0, err
	}
	if err := z.Close(); err != nil {
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	st, err := os.Stat(bundle)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func add(z *zip.Writer, name string, mode os.FileMode, r io.Reader) error {
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: packed}
	h.SetMode(mode) // also marks the entry as made on Unix, where the mode is read from
	w, err := z.CreateHeader(h)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, r)
	return err
}
