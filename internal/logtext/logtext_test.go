package logtext

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestDurationsHaveUnits(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{200 * time.Millisecond, "idle=200ms"},
		{30 * time.Second, "idle=30s"},
		{1500 * time.Microsecond, "idle=1.5ms"},
		{90 * time.Minute, "idle=1h30m0s"},
		{0, "idle=0s"},
	} {
		var buf bytes.Buffer
		l := zerolog.New(Writer(&buf, false))
		l.Info().Dur("idle", tc.d).Int("conns", 3).Msg("x")
		line := buf.String()
		if !strings.Contains(line, tc.want) || !strings.Contains(line, "conns=3") {
			t.Errorf("Dur(idle, %v): %q, want %q and conns=3", tc.d, line, tc.want)
		}
	}
}

func TestOtherFieldsUntouched(t *testing.T) {
	var buf bytes.Buffer
	l := zerolog.New(Writer(&buf, false))
	l.Info().Str("for", "everyone").Int("elapsed_count", 7).Int("window_size", 5).Msg("x")
	for _, want := range []string{"for=everyone", "elapsed_count=7", "window_size=5"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("%q lacks %q", buf.String(), want)
		}
	}
}

// TestEveryDurFieldIsKnown reads the module's Go files (tests left out) for
// zerolog Dur fields and fails for a name durationFields lacks: its text
// log would print a bare number of milliseconds.
func TestEveryDurFieldIsKnown(t *testing.T) {
	dur := regexp.MustCompile(`\.Dur\("([A-Za-z0-9_]+)"`)
	root := filepath.Join("..", "..")
	found := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range dur.FindAllSubmatch(b, -1) {
			found[string(m[1])] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) < 5 {
		t.Fatalf("found only %d Dur fields (%v): is the walk reading the module?", len(found), found)
	}
	var missing []string
	for k := range found {
		if !durationFields[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("Dur fields not in durationFields (text logs would show bare milliseconds): %v", missing)
	}
}
