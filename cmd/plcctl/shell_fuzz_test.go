package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// FuzzShellWords: any line of a shell script splits into words or gives
// one printable error; the words, given to a command's flags (the command
// picked by sel), parse or give one printable usage error, and the
// positional arguments are words of the line (negative numbers as given),
// each used at most as often as it was given.
func FuzzShellWords(f *testing.F) {
	for _, s := range []string{"read-holding-registers 100 10 --type float32", "write-register 5 -42",
		"write-registers --word-order cdab 0 -1 -2 -- -3", `write-register 1 "a b" 'c d' e\ f # comment`,
		"ping -c 3", "read-coils --count", "read-coils -x", "read-coils --x\x1b[2J", "'open", "a \"b",
		"read-holding-registers 1 \x00neg0 -5", "bench -n -1", "\xff\xfe -\xff"} {
		f.Add(s, uint8(0))
	}
	var specs []commandSpec
	for _, g := range commandTable {
		specs = append(specs, g.cmds...)
	}
	f.Fuzz(func(t *testing.T, line string, sel uint8) {
		words, err := splitWords(line)
		if err != nil {
			if !printable(err.Error()) {
				t.Fatalf("splitWords(%q) = %q: want one printable line", line, err)
			}
			return
		}
		spec := specs[int(sel)%len(specs)]
		c := spec.build(&app{log: zerolog.Nop()})
		if err := parseFlags(c.flags, words); err != nil {
			if msg := flagError(err, c.flags).Error(); !printable(msg) {
				t.Fatalf("%s %q: %q: want one printable line", spec.name, words, msg)
			}
			return
		}
		left := map[string]int{}
		for _, w := range words {
			left[w]++
		}
		for _, arg := range c.flags.Args() {
			if left[arg]--; left[arg] < 0 {
				t.Fatalf("%s %q: positional arguments %q are not the line's words", spec.name, words, c.flags.Args())
			}
		}
	})
}

// TestShellScriptNUL: a script word "\x00neg7" made parseFlags index past
// the negative numbers it had set aside (a panic, found while writing
// FuzzShellWords); a NUL is refused naming the word, and an unknown flag
// and the script's failure line show an escape sequence escaped.
func TestShellScriptNUL(t *testing.T) {
	script := filepath.Join(t.TempDir(), "script.txt")
	os.WriteFile(script, []byte("write-register 1 \x00neg7\nread-coils --x\x1b[2J\n"), 0o644)
	r := runCLI(t, "shell", script, "-a", "127.0.0.1:1")
	if r.code != exitUsage || strings.Contains(r.stderr, "panic") || !strings.Contains(r.stderr, `argument "\x00neg7" holds a NUL byte`) ||
		!strings.Contains(r.stderr, `unknown flag: --x\x1b[2J`) || !printable(strings.ReplaceAll(r.stderr, "\n", "")) {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestShellScriptLongLine: a script line over the scanner's 1 MiB (a binary
// given as the script) failed as if the device had ("shell on ADDR unit 1:
// bufio.Scanner: token too long", exit 1); it is a usage error naming the
// line, and nothing is sent.
func TestShellScriptLongLine(t *testing.T) {
	script := filepath.Join(t.TempDir(), "script.txt")
	os.WriteFile(script, []byte("# a comment\nread-coils "+strings.Repeat("1", 1<<20)+"\nread-coils 0\n"), 0o644)
	r := runCLI(t, "shell", script, "-a", "127.0.0.1:1")
	if r.code != exitUsage || !strings.Contains(r.stderr, "script line 2 is longer than 1 MiB") || strings.Contains(r.stderr, "bufio") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}
