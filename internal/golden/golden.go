// Package golden loads testdata/golden-frames.txt: one transaction per line,
// "origin:name | request ADU | response ADU" in spaced hex, '#' comments,
// "(none)" for a request the server must not answer. One file drives the
// encoder, decoder, simulator and client tests.
package golden

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Frame is one golden transaction.
type Frame struct {
	Origin   string // spec, spec-corrected, guide, constructed
	Name     string
	Line     int
	Request  []byte
	Response []byte // nil when the server must send nothing
}

// NoResponse reports whether the server must not answer.
func (f Frame) NoResponse() bool { return f.Response == nil }

// Path returns the absolute path of testdata/golden-frames.txt.
func Path() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "golden-frames.txt")
}

// Load parses the golden file at path.
func Load(path string) ([]Frame, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var frames []Frame
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fr, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("golden: %s:%d: %w", path, n, err)
		}
		fr.Line = n
		frames = append(frames, fr)
	}
	return frames, sc.Err()
}

// MustLoad loads the project's golden file or fails the test.
func MustLoad(t testing.TB) []Frame {
	t.Helper()
	frames, err := Load(Path())
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) == 0 {
		t.Fatal("golden: no frames")
	}
	return frames
}

func parseLine(line string) (Frame, error) {
	parts := strings.Split(line, "|")
	if len(parts) != 3 {
		return Frame{}, fmt.Errorf("want 3 fields separated by |, got %d", len(parts))
	}
	origin, name, ok := strings.Cut(strings.TrimSpace(parts[0]), ":")
	if !ok {
		return Frame{}, fmt.Errorf("name %q lacks an origin prefix", parts[0])
	}
	req, err := Hex(parts[1])
	if err != nil {
		return Frame{}, fmt.Errorf("%s request: %w", name, err)
	}
	fr := Frame{Origin: origin, Name: name, Request: req}
	if rsp := strings.TrimSpace(parts[2]); rsp != "(none)" {
		if fr.Response, err = Hex(rsp); err != nil {
			return Frame{}, fmt.Errorf("%s response: %w", name, err)
		}
	}
	return fr, nil
}

// Hex decodes spaced hex such as "00 01 FF".
func Hex(s string) ([]byte, error) {
	return hex.DecodeString(strings.Join(strings.Fields(s), ""))
}
