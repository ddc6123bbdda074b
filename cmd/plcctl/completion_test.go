package main

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestComplete(t *testing.T) {
	plant := filepath.Join("..", "..", "testdata", "plants", "pump-station.yaml")
	t.Setenv(plantEnv, "")
	tests := []struct {
		words []string
		want  string // candidates joined by spaces
	}{
		{[]string{"read-h"}, "read-holding-registers"},
		{[]string{"-o", "json", "sc"}, "scan"},
		{[]string{"read-holding-registers", "0", "--type", "fl"}, "float32 float64"},
		{[]string{"read-holding-registers", "0", "--type", "FL"}, "float32 float64"}, // the case rule
		{[]string{"read-input-registers", "--word-order", ""}, "ABCD CDAB BADC DCBA"},
		{[]string{"read-input-registers", "--word-order=cd"}, "--word-order=CDAB"},
		{[]string{"-o", ""}, "text json csv"},
		{[]string{"read-coils", "--one"}, "--one-based"},
		{[]string{"--ver"}, "--version"},
		{[]string{"watch", "read-i"}, "read-input-registers"},
		{[]string{"watch", "read-coils", "0", "--inter"}, "--interval"},
		{[]string{"scan", "--function", "read-c"}, "read-coils"},
		{[]string{"help", "ping"}, "ping"},
		{[]string{"completion", ""}, "bash zsh fish"},
		{[]string{"--plant", plant, "get", "tank"}, "tank1.level tank2.level"},
		{[]string{"set", "--plant=" + plant, "pump1.c"}, "pump1.cmd"},
		{[]string{"get", "tank"}, ""}, // no plant file: no tag names
		{[]string{"read-coils", "0"}, ""},
	}
	for _, tc := range tests {
		a := &app{}
		if got := strings.Join(a.complete(tc.words), " "); got != tc.want {
			t.Errorf("complete %q = %q, want %q", tc.words, got, tc.want)
		}
	}
	t.Setenv(plantEnv, plant)
	if got := strings.Join((&app{}).complete([]string{"get", "flo"}), " "); got != "flow" {
		t.Errorf("with $PLCCTL_PLANT: %q", got)
	}
	// The hidden command prints one candidate per line and sends nothing.
	if r := runCLI(t, completeCommand, "write-coil"); r.code != 0 || r.stdout != "write-coil\nwrite-coils\n" {
		t.Errorf("__complete: exit %d, %q", r.code, r.stdout)
	}
}

// TestCompletionBash loads the bash script into a real bash and completes
// as bash would on Tab.
func TestCompletionBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash is needed (Debian's bash package)")
	}
	bin, _ := buildBinaries(t)
	script := mustRun(t, "completion", "bash")
	for _, tc := range []struct {
		words string
		want  string
	}{
		{"read-holding-registers 0 --type fl", "float32 float64"},
		{"wri", "write-coil write-coils write-register write-registers write-file-record"},
		{"watch read-coils 0 --cou", "--count"},
	} {
		words := strings.Fields(tc.words)
		prog := script + "\nCOMP_WORDS=(" + bin + " " + tc.words + "); COMP_CWORD=" + itoa(len(words)) +
			"; _plcctl; echo \"${COMPREPLY[*]}\""
		out, err := exec.Command(bash, "-c", prog).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != tc.want {
			t.Errorf("bash completion of %q = %q (%v), want %q", tc.words, out, err, tc.want)
		}
	}
	for _, sh := range []string{"zsh", "fish"} {
		if s := mustRun(t, "completion", sh); !strings.Contains(s, "__complete") {
			t.Errorf("%s script does not ask plcctl: %s", sh, s)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
