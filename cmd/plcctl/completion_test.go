package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
		// bash splits --flag=value at "=" and completes only what follows it.
		{[]string{"read-holding-registers", "--output", "=", "j"}, "json"},
		{[]string{"read-holding-registers", "--output", "="}, "text json csv"},
		{[]string{"read-input-registers", "--word-order", "=", "cd"}, "CDAB"},
		{[]string{"--plant", "=", plant, "get", "tank"}, "tank1.level tank2.level"},
		// bench's --function is read or write, not scan's read commands.
		{[]string{"bench", "--function", ""}, "read write"},
		{[]string{"bench", "--function=w"}, "--function=write"},
		// After the tag of set comes its value, not another tag (every
		// tag was offered again); after watch's first tag, only tags (the
		// read commands were offered too); write-coil's value is on or off.
		{[]string{"--plant", plant, "set", "pump1.cmd", ""}, "on off"},
		{[]string{"--plant", plant, "set", "setpoint", ""}, ""},
		{[]string{"--plant", plant, "set", "setpoint", "2.5", ""}, ""},
		{[]string{"--plant", plant, "watch", "flow", "read"}, ""},
		{[]string{"--plant", plant, "watch", "flow", "tank1"}, "tank1.level"},
		{[]string{"--plant", plant, "watch", "--count", "2", "flow", "tank2"}, "tank2.level"},
		{[]string{"--plant", plant, "watch", "read-coils", "0", "--count", "1", "--inter"}, "--interval"},
		{[]string{"write-coil", "12", "o"}, "on off"},
		{[]string{"write-coil", "12", "on", ""}, ""},
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

// TestCompletionShells loads each completion script into the real shell
// (Debian's bash, zsh and fish) and completes as that shell would on Tab.
func TestCompletionShells(t *testing.T) {
	bin, _ := buildBinaries(t)
	cases := []struct {
		words string
		want  string // the candidates, sorted
	}{
		{"read-holding-registers 0 --type fl", "float32 float64"},
		{"wri", "write-coil write-coils write-file-record write-register write-registers"},
		{"watch read-coils 0 --cou", "--count"},
	}
	sorted := func(out []byte) string {
		f := strings.Fields(string(out))
		slices.Sort(f)
		return strings.Join(f, " ")
	}
	shell := func(t *testing.T, name string) string {
		path, err := exec.LookPath(name)
		if err != nil {
			t.Fatalf("%s is needed (Debian's %s package; .ci/run installs it)", name, name)
		}
		return path
	}
	t.Run("bash", func(t *testing.T) {
		bash := shell(t, "bash")
		script := mustRun(t, "completion", "bash")
		// bash itself splits --output=j into --output = j (COMP_WORDBREAKS).
		bashCases := append(cases[:len(cases):len(cases)], struct{ words, want string }{"read-coils 0 --output = j", "json"},
			struct{ words, want string }{"read-coils 0 --output =", "csv json text"})
		for _, tc := range bashCases {
			words := strings.Fields(tc.words)
			prog := script + "\nCOMP_WORDS=(" + bin + " " + tc.words + "); COMP_CWORD=" + itoa(len(words)) +
				"; _plcctl; echo \"${COMPREPLY[*]}\""
			out, err := exec.Command(bash, "--norc", "-c", prog).CombinedOutput()
			if err != nil || sorted(out) != tc.want {
				t.Errorf("bash completion of %q = %q (%v), want %q", tc.words, out, err, tc.want)
			}
		}
	})
	// zsh and fish run the script's own words[1], "plcctl": on PATH.
	path := filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH")
	t.Run("zsh", func(t *testing.T) {
		zsh := shell(t, "zsh")
		script := mustRun(t, "completion", "zsh")
		if out, err := exec.Command(zsh, "-n", "-c", script).CombinedOutput(); err != nil {
			t.Fatalf("zsh -n: %v %s", err, out)
		}
		for _, tc := range cases {
			// Outside a completion widget compadd and compdef are not
			// builtins: stand-ins print what the function would offer.
			words := strings.Fields(tc.words)
			prog := "compdef() { :; }; compadd() { print -l -- \"${(@P)2}\"; }; _files() { print FILES; }\n" + script +
				"\nwords=(plcctl " + tc.words + "); CURRENT=" + itoa(len(words)+1) + "; _plcctl"
			cmd := exec.Command(zsh, "-f", "-c", prog)
			cmd.Env = append(os.Environ(), "PATH="+path)
			out, err := cmd.CombinedOutput()
			if err != nil || sorted(out) != tc.want {
				t.Errorf("zsh completion of %q = %q (%v), want %q", tc.words, out, err, tc.want)
			}
		}
	})
	t.Run("fish", func(t *testing.T) {
		fish := shell(t, "fish")
		script := filepath.Join(t.TempDir(), "plcctl.fish")
		if err := os.WriteFile(script, []byte(mustRun(t, "completion", "fish")), 0o644); err != nil {
			t.Fatal(err)
		}
		// No candidates from plcctl: file names, as bash and zsh offer
		// (fish offered nothing for shell FILE or --plant FILE).
		files := t.TempDir()
		if err := os.WriteFile(filepath.Join(files, "commissioning.txt"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		fishCases := append(cases[:len(cases):len(cases)],
			struct{ words, want string }{"shell " + filepath.Join(files, "comm"), filepath.Join(files, "commissioning.txt")},
			struct{ words, want string }{"--plant " + filepath.Join(files, "comm"), filepath.Join(files, "commissioning.txt")})
		for _, tc := range fishCases {
			// complete -C completes a command line as Tab would.
			cmd := exec.Command(fish, "--no-config", "-c", "source "+script+"; complete -C 'plcctl "+tc.words+"'")
			cmd.Env = append(os.Environ(), "PATH="+path, "HOME="+t.TempDir())
			out, err := cmd.CombinedOutput()
			if err != nil || sorted(out) != tc.want {
				t.Errorf("fish completion of %q = %q (%v), want %q", tc.words, out, err, tc.want)
			}
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestCompletionArgumentCount: completion with no shell or two says how
// many arguments it got ("want bash, zsh or fish" after "completion bash
// zsh" read as if bash were not one of them).
func TestCompletionArgumentCount(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"completion"}, "plcctl completion: want one shell, bash, zsh or fish, got no arguments\n"},
		{[]string{"completion", "bash", "zsh"}, "plcctl completion: want one shell, bash, zsh or fish, got 2 arguments\n"},
	} {
		r := runCLI(t, tc.args...)
		if r.code != exitUsage || !strings.HasPrefix(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("plcctl %v: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, r.code, r.stdout, r.stderr, tc.want)
		}
	}
}

// TestOnlyTextOutput: -o json or csv given to snapshot or completion, whose
// output has one form, is a usage error with nothing sent; it was ignored,
// and a script asking for JSON got YAML.
func TestOnlyTextOutput(t *testing.T) {
	silent, accepted := silentListener(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"snapshot", "--holding-registers", "0-1", "-o", "json", "-a", silent},
			"plcctl snapshot: --output json: snapshot writes a plant file (YAML) only; leave --output out\n"},
		{[]string{"-o", "CSV", "completion", "bash"}, "plcctl completion: --output csv: completion prints a shell script only; leave --output out\n"},
	} {
		r := runCLI(t, tc.args...)
		if r.code != exitUsage || !strings.HasPrefix(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("plcctl %v: exit %d, stdout %.80q, stderr %q; want exit 2 and %q", tc.args, r.code, r.stdout, r.stderr, tc.want)
		}
	}
	noConnection(t, accepted, "snapshot -o json")
	if out := mustRun(t, "completion", "bash", "-o", "text"); !strings.HasPrefix(out, "# bash completion") {
		t.Errorf("completion bash -o text = %.80q", out)
	}
}
