package main

import (
	"strings"
	"testing"
)

// commandNames returns every command name in help order.
func commandNames() []string {
	a := &app{}
	var names []string
	for _, c := range a.allCommands() {
		names = append(names, c.name)
	}
	return names
}

func TestHelpGolden(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		r := runCLI(t, args...)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("plcctl %v: exit %d, stderr %q", args, r.code, r.stderr)
		}
		checkGolden(t, "help/plcctl.txt", r.stdout)
	}
	for _, name := range commandNames() {
		t.Run(name, func(t *testing.T) {
			r := runCLI(t, "help", name)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("plcctl help %s: exit %d, stderr %q", name, r.code, r.stderr)
			}
			checkGolden(t, "help/"+name+".txt", r.stdout)
			for _, args := range [][]string{{name, "--help"}, {name, "-h"}, {"-u", "3", name, "--help"}} {
				if r2 := runCLI(t, args...); r2.code != 0 || r2.stdout != r.stdout {
					t.Errorf("plcctl %v: exit %d, output differs from plcctl help %s", args, r2.code, name)
				}
			}
			if !strings.Contains(r.stdout, exitCodesHelp) {
				t.Errorf("help %s does not document the exit codes", name)
			}
		})
	}
}

func TestHelpAlias(t *testing.T) {
	if a, b := runCLI(t, "help", "poll"), runCLI(t, "help", "watch"); a.code != 0 || a.stdout != b.stdout {
		t.Errorf("help poll = exit %d, want the help of watch", a.code)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"no command", nil, "no command given"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"help unknown", []string{"help", "frobnicate"}, `unknown command "frobnicate"`},
		{"unknown flag", []string{"read-coils", "--bogus", "0"}, "unknown flag: --bogus"},
		{"unknown global flag", []string{"--bogus", "read-coils", "0"}, "unknown flag: --bogus"},
		{"missing address", []string{"read-coils"}, "want ADDR [COUNT]"},
		{"bad address", []string{"read-coils", "x"}, `address "x"`},
		{"address too big", []string{"read-holding-registers", "65536"}, "did you mean --one-based"},
		{"count past end", []string{"read-holding-registers", "65535", "2"}, "count"},
		{"one-based zero", []string{"--one-based", "read-coils", "0"}, "start at 1"},
		{"wrong table reference", []string{"read-coils", "ref:40001"}, "names a holding register"},
		{"bad type", []string{"read-input-registers", "0", "--type", "int128"}, "--type"},
		{"bad word order", []string{"read-input-registers", "0", "--word-order", "ABDC"}, "--word-order"},
		{"bad output", []string{"-o", "xml", "read-coils", "0"}, "--output"},
		{"value too big", []string{"write-register", "0", "70000"}, "VALUE 70000 is out of range for a register"},
		{"negative uint16", []string{"write-register", "0", "-1"}, "VALUE -1 is out of range for a register"},
		{"float32 overflow", []string{"write-registers", "0", "1e39", "--type", "float32"}, "V 1e39 is out of range for --type float32"},
		{"wide type on write-register", []string{"write-register", "0", "1", "--type", "float32"}, "use write-registers"},
		{"bad coil", []string{"write-coil", "0", "maybe"}, "coil value maybe is not"},
		{"too many registers", []string{"write-registers", "0", "--type", "float64", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10",
			"11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31"}, "quantity 124"},
		{"raw exception fc", []string{"raw", "0x83"}, "not a request function code"},
		{"raw bad hex", []string{"raw", "3", "0G"}, "hex bytes"},
		{"watch a write", []string{"watch", "write-coil", "0", "on"}, "not a read command"},
		{"device id object without individual", []string{"read-device-id", "--object", "4"}, "--level individual"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, append(tc.args, "-a", "127.0.0.1:1")...)
			if r.code != exitUsage {
				t.Fatalf("plcctl %v: exit %d, want 2; stderr:\n%s", tc.args, r.code, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("plcctl %v wrote to stdout: %q", tc.args, r.stdout)
			}
			if !strings.Contains(r.stderr, tc.msg) || !strings.Contains(r.stderr, "Usage: plcctl") {
				t.Errorf("plcctl %v: stderr %q, want it to contain %q and a short usage", tc.args, r.stderr, tc.msg)
			}
		})
	}
}

// TestCommandTable: every entry of the command table builds the command it
// names (the table holds the names, aliases and summaries, the builders the
// rest), and no word names two commands.
func TestCommandTable(t *testing.T) {
	a := &app{}
	seen := map[string]bool{}
	for _, g := range commandTable {
		for _, s := range g.cmds {
			if c := s.command(a); c.name != s.name || c.summary != s.summary || strings.HasSuffix(s.summary, ".") {
				t.Errorf("table entry %q builds command %q (summary %q)", s.name, c.name, s.summary)
			}
			for _, w := range append([]string{s.name}, s.aliases...) {
				if seen[w] || w == "help" {
					t.Errorf("%q names two commands", w)
				}
				seen[w] = true
				if got := a.lookup(w); got == nil || got.name != s.name {
					t.Errorf("lookup(%q) does not find %q", w, s.name)
				}
			}
		}
	}
	if a.lookup("no-such-command") != nil {
		t.Error("lookup of an unknown name built a command")
	}
}

// TestWatchInnerHelp: -h or --help among the words of watch's read command
// or tags prints watch's help on stdout, exit 0, as anywhere else; it was
// "plcctl watch: read-coils: pflag: help requested", exit 2.
func TestWatchInnerHelp(t *testing.T) {
	want := mustRun(t, "watch", "--help")
	for _, args := range [][]string{
		{"watch", "read-coils", "0", "--help"},
		{"watch", "read-holding-registers", "-h", "0"},
		{"watch", "--plant", plantPath("pump-station"), "setpoint", "--help"},
	} {
		r := runCLI(t, args...)
		if r.code != 0 || r.stdout != want || r.stderr != "" {
			t.Errorf("plcctl %v: exit %d, stderr %q, stdout is watch's help: %v", args, r.code, r.stderr, r.stdout == want)
		}
	}
}
