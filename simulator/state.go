package simulator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/plcctl/plcctl/internal/limitfile"
)

// stateFormat names the state file format; another value is refused.
const stateFormat = "plcsim-state/1"

// maxStateFile bounds what LoadState reads: a memory of four full tables
// saves as about 3.5 MB, so 255 of them fit with room to spare.
const maxStateFile = 1 << 30

// checkRegular refuses a state file that exists and is not a regular file
// (a directory is left to the open, which names it). Reading /dev/zero
// would fill memory, and a save renames its temporary file over the path:
// over /dev/null, as root, it would replace the device.
func checkRegular(path string) error {
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().IsRegular() || fi.IsDir() {
		return nil
	}
	return fmt.Errorf("simulator: state file %s is not a regular file but a %s; give the name of a file", path, fileKind(fi.Mode()))
}

// fileKind names what a file that is not regular is.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return "special file"
}

// stateFile is what SaveState writes: a header, the retentive contents and
// a checksum over them, so a damaged file is recognised, not half-loaded.
type stateFile struct {
	Format      string          `json:"format"`
	Fingerprint string          `json:"fingerprint"`
	Saved       time.Time       `json:"saved"`
	Checksum    string          `json:"checksum"` // sha256 of Units, compact
	Units       json.RawMessage `json:"units"`
}

// ErrStateMismatch is wrapped by LoadState's error for a state file saved
// by another plant or layout.
var ErrStateMismatch = errors.New("simulator: state file belongs to another plant or layout")

// ErrStateCorrupt is wrapped by LoadState's error for a file that is not a
// complete, intact state file.
var ErrStateCorrupt = errors.New("simulator: state file is corrupt")

// stateCorruptError is LoadState's error for a file that is not an intact
// state file: which file, and why in words (damaged, empty, or another kind
// of file given as the state file). It is ErrStateCorrupt for errors.Is.
type stateCorruptError struct{ path, why string }

func (e *stateCorruptError) Error() string {
	return "simulator: state file " + e.path + ": " + e.why + "; move it away to start with fresh memory"
}

func (e *stateCorruptError) Is(target error) bool { return target == ErrStateCorrupt }

// SaveState writes snap to path atomically: a temporary file in the same
// directory, written and fsynced, renamed over path, then the directory
// fsynced. A crash at any moment leaves either the old file or the new one,
// never a torn one.
func SaveState(path, fingerprint string, snap ServerSnapshot) error {
	commit, err := PrepareState(path, fingerprint, snap)
	if err != nil {
		return err
	}
	return commit()
}

// PrepareState is the first half of SaveState: it writes and fsyncs the
// temporary file. The commit it returns renames it over path and fsyncs
// the directory; until then path is untouched.
func PrepareState(path, fingerprint string, snap ServerSnapshot) (commit func() error, err error) {
	if err := checkRegular(path); err != nil {
		return nil, err
	}
	units, err := json.Marshal(snap)
	if err != nil {
		return nil, fmt.Errorf("simulator: save state: %w", err)
	}
	sum := sha256.Sum256(units)
	b, err := json.MarshalIndent(stateFile{Format: stateFormat, Fingerprint: fingerprint, Saved: time.Now().UTC(),
		Checksum: hex.EncodeToString(sum[:]), Units: units}, "", " ")
	if err != nil {
		return nil, fmt.Errorf("simulator: save state: %w", err)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("simulator: save state: %w", err)
	}
	fail := func(err error) (func() error, error) {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("simulator: save state: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	return func() error {
		if err := os.Rename(tmp.Name(), path); err != nil {
			os.Remove(tmp.Name())
			return fmt.Errorf("simulator: save state: %w", err)
		}
		d, err := os.Open(dir)
		if err != nil {
			return fmt.Errorf("simulator: save state: %w", err)
		}
		defer d.Close()
		if err := d.Sync(); err != nil {
			return fmt.Errorf("simulator: save state: sync %s: %w", dir, err)
		}
		return nil
	}, nil
}

// RemoveStaleStateTemps removes temporary files a save interrupted by a
// crash left next to path.
func RemoveStaleStateTemps(path string) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "."+base+".tmp-*"))
	for _, m := range matches {
		os.Remove(m)
	}
}

// LoadState reads a state file written by SaveState. It returns ok false
// (and no error) when the file does not exist; an error wrapping
// ErrStateCorrupt when it is not an intact state file, or ErrStateMismatch
// when its fingerprint is not fingerprint.
func LoadState(path, fingerprint string) (snap ServerSnapshot, ok bool, err error) {
	if err := checkRegular(path); err != nil {
		return snap, false, err
	}
	corrupt := func(why string) error { return &stateCorruptError{path: path, why: why} }
	b, err := limitfile.Read(path, maxStateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return snap, false, nil
	}
	if errors.As(err, new(*limitfile.TooLargeError)) {
		return snap, false, corrupt("it is larger than " + limitfile.Size(maxStateFile) + ", more than any state plcsim saves")
	}
	if err != nil {
		return snap, false, fmt.Errorf("simulator: load state: %w", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return snap, false, corrupt("it is empty")
	}
	var f stateFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return snap, false, corrupt(decodeReason(err))
	}
	if f.Format == "" {
		return snap, false, corrupt(fmt.Sprintf("it is not a plcsim state file (it has no \"format\": %q)", stateFormat))
	}
	if f.Format != stateFormat {
		return snap, false, corrupt(fmt.Sprintf("format %q, want %q", f.Format, stateFormat))
	}
	var units bytes.Buffer
	if err := json.Compact(&units, f.Units); err != nil {
		return snap, false, corrupt(err.Error())
	}
	if sum := sha256.Sum256(units.Bytes()); hex.EncodeToString(sum[:]) != f.Checksum {
		return snap, false, corrupt("it is damaged: its checksum does not match its contents")
	}
	if f.Fingerprint != fingerprint {
		return snap, false, fmt.Errorf("%w: %s was saved at %s for fingerprint %s, this plcsim is %s; use another --state file, or move it away to start fresh",
			ErrStateMismatch, path, f.Saved.Format(time.RFC3339), short(f.Fingerprint), short(fingerprint))
	}
	if err := json.Unmarshal(f.Units, &snap); err != nil {
		return snap, false, corrupt(err.Error())
	}
	return snap, true, nil
}

// decodeReason says in words why the state file's JSON did not decode: a
// file cut short, one that is not JSON at all (another file given as
// --state), or JSON that is not a state file.
func decodeReason(err error) string {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "it is damaged: it ends early, as if cut off while it was written"
	case errors.As(err, &syn):
		return fmt.Sprintf("it is not a plcsim state file (not JSON: byte %d: %s)", syn.Offset, strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ) && typ.Field == "":
		return fmt.Sprintf("it is not a plcsim state file (a JSON %s, not an object)", typ.Value)
	case errors.As(err, &typ):
		return fmt.Sprintf("it is not a plcsim state file (%q holds a JSON %s)", typ.Field, typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "it is not a plcsim state file (it has the key " + strings.TrimPrefix(err.Error(), "json: unknown field ") + ")"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func short(fp string) string {
	if len(fp) > 12 {
		return fp[:12]
	}
	return fp
}

// Fingerprint identifies the shape of the server's memories: unit ids,
// table layouts and retentive selections, plus extra (a plant's identity,
// say). A state file is only loaded by a server with the same fingerprint.
func (s *Server) Fingerprint(extra string) string {
	var b strings.Builder
	names, mems := s.memoriesNamed(true)
	for i, m := range mems {
		c, d, h, in := m.Layout()
		fmt.Fprintf(&b, "unit %s c%v d%v h%v i%v r%+v\n", names[i], c, d, h, in, m.Retentive())
	}
	b.WriteString(extra)
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// RetentiveSnapshot returns the retentive part (Memory.SetRetentive) of
// every memory that has one.
func (s *Server) RetentiveSnapshot() ServerSnapshot {
	names, mems := s.memories()
	out := ServerSnapshot{Units: map[string]Snapshot{}}
	for i, m := range mems {
		if sel := m.Retentive(); sel != nil {
			out.Units[names[i]] = m.Snapshot(sel)
		}
	}
	return out
}

// RestoreRetentive sets the retentive part of each memory named in snap;
// nothing changes on error.
func (s *Server) RestoreRetentive(snap ServerSnapshot) error {
	byName, _ := s.memoryByName()
	for n, ms := range snap.Units {
		m, ok := byName[n]
		if !ok || m.Retentive() == nil {
			return fmt.Errorf("simulator: state names memory %q, which has no retentive part here", n)
		}
		if err := m.checkSnapshot(ms, m.Retentive()); err != nil {
			return fmt.Errorf("unit %s: %w", n, err)
		}
	}
	for n, ms := range snap.Units {
		m := byName[n]
		m.Restore(ms, m.Retentive())
	}
	return nil
}
