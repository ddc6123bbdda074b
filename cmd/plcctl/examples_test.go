package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// An example line as a user would type it, run in-process: shell quoting
// and # comments (splitWords), $(seq A B) expanded, "> FILE" redirections
// dropped (stdout is checked instead), and the value of every -a/--address
// replaced by the test simulator's address, so that no example ever sends
// anything off this machine.
var (
	seqSubst = regexp.MustCompile(`\$\(seq (\d+) (\d+)\)`)
	redirect = regexp.MustCompile(`\s>\s*\S+`)
	endless  = regexp.MustCompile(`^(watch|poll|ping)\b`)
)

func exampleArgs(t *testing.T, line, addr string) []string {
	t.Helper()
	line = seqSubst.ReplaceAllStringFunc(line, func(m string) string {
		p := seqSubst.FindStringSubmatch(m)
		a, _ := strconv.Atoi(p[1])
		b, _ := strconv.Atoi(p[2])
		return strings.Join(seq(a, b), " ")
	})
	line = redirect.ReplaceAllString(line, "")
	words, err := splitWords(line)
	if err != nil {
		t.Fatalf("example %q: %v", line, err)
	}
	for i := 0; i+1 < len(words); i++ {
		if words[i] == "-a" || words[i] == "--address" {
			words[i+1] = addr
		}
	}
	return words
}

// runExample runs one example and fails unless it exits 0 and prints
// something. watch and ping are interrupted after 300 ms, as Ctrl-C would
// (their --count of 20 rounds at 500ms would take the test's budget), and
// must still exit 0.
func runExample(t *testing.T, where, line, addr string) {
	t.Helper()
	args := exampleArgs(t, line, addr)
	if len(args) == 0 {
		t.Fatalf("%s: empty example %q", where, line)
	}
	var r result
	if endless.MatchString(strings.Join(args, " ")) {
		r = runCtx(cancelAfter(t, 300*time.Millisecond), args...)
	} else {
		r = runCLI(t, args...)
	}
	if r.code != 0 {
		t.Errorf("%s: plcctl %s: exit %d\nstdout: %s\nstderr: %s", where, line, r.code, r.stdout, r.stderr)
	} else if r.stdout == "" && !strings.Contains(line, "shell") {
		t.Errorf("%s: plcctl %s printed nothing", where, line)
	}
}

// exampleEnv is what the examples assume exists: a device (the simulator,
// also as $PLCCTL_ADDRESS), the plant file station.yaml in the working
// directory, and the shell script commissioning.txt.
func exampleEnv(t *testing.T) string {
	t.Helper()
	s := simtest.Start(t, simulator.Config{})
	s.SetFIFO(1246, 0x01B8, 0x1284) // read-fifo 1246 has a queue to show
	plant, err := os.ReadFile(filepath.Join("..", "..", "testdata", "plants", "pump-station.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("station.yaml", plant, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("commissioning.txt", []byte("write-register 0 42\nread-holding-registers 0 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(addressEnv, s.Addr)
	t.Setenv(plantEnv, "station.yaml")
	return s.Addr
}

// TestHelpExamplesRun runs every example of every command's help (issue 13:
// some were wrong, e.g. read-input-registers ref:40001).
func TestHelpExamplesRun(t *testing.T) {
	addr := exampleEnv(t)
	a := &app{}
	n := 0
	for _, c := range a.allCommands() {
		for _, e := range c.example {
			n++
			runExample(t, "help "+c.name, e, addr)
		}
	}
	if n < 40 {
		t.Errorf("ran %d help examples, want every one (more than 40)", n)
	}
}

// TestREADMEExamplesRun runs every plcctl command line in the README's sh
// code blocks.
func TestREADMEExamplesRun(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	addr := exampleEnv(t)
	n, tls := 0, 0
	inSh := false
	lines := strings.Split(string(readme), "\n")
	for i := 0; i < len(lines); i++ {
		line, at := lines[i], i+1
		for strings.HasSuffix(line, "\\") && i+1 < len(lines) { // a continued line
			i++
			line = strings.TrimSuffix(line, "\\") + " " + strings.TrimSpace(lines[i])
		}
		switch {
		case strings.HasPrefix(line, "```"):
			inSh = line == "```sh" && !inSh
			continue
		case !inSh:
			continue
		}
		rest, ok := strings.CutPrefix(line, "plcctl ")
		if !ok {
			rest, ok = strings.CutPrefix(line, "bin/plcctl ")
		}
		if !ok {
			continue // make, plcsim, printf pipelines: not plcctl lines
		}
		if strings.Contains(rest, "--tls-") {
			tls++ // needs plcsim with TLS and the demo PKI: see the TLS section's own test
			continue
		}
		n++
		runExample(t, "README.md:"+strconv.Itoa(at), rest, addr)
	}
	if n < 30 {
		t.Errorf("ran %d README examples, want every one (more than 30)", n)
	}
	t.Logf("ran %d README examples; %d TLS examples left to the TLS tests", n, tls)
}
