package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/plcctl/plcctl/internal/suggest"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// TestFlagsAnywhere: flags work before the command, between its arguments
// and after them, for watch's own flags too (issue 13: "watch
// read-holding-registers 0 2 --interval 1s" said unknown flag).
func TestFlagsAnywhere(t *testing.T) {
	s := startSim(t)
	s.SetHoldingRegisters(0, 7, 8)
	want := `{"function":"read-holding-registers","unit":1,"address":0,"count":2,"type":"uint16","values":[7,8]}`
	for _, args := range [][]string{
		{"-o", "json", "-a", s.Addr, "read-holding-registers", "0", "2"},
		{"read-holding-registers", "0", "2", "-o", "json", "-a", s.Addr},
		{"read-holding-registers", "-o", "json", "0", "-a", s.Addr, "2"},
		{"-a", s.Addr, "read-holding-registers", "--type", "uint16", "0", "2", "-o", "json"},
		{"--type", "uint16", "-o", "json", "read-holding-registers", "0", "2", "-a", s.Addr}, // a command flag before the command
	} {
		if out := strings.TrimSpace(mustRun(t, args...)); out != want {
			t.Errorf("plcctl %v = %s, want %s", args, out, want)
		}
	}
	for _, args := range [][]string{
		{"watch", "read-holding-registers", "0", "2", "--interval", "1ms", "--count", "2", "-o", "json", "-a", s.Addr},
		{"watch", "--count", "2", "read-holding-registers", "0", "2", "--interval", "1ms", "-o", "json", "-a", s.Addr},
		{"--interval", "1ms", "watch", "--count", "2", "-o", "json", "read-holding-registers", "0", "2", "-a", s.Addr},
	} {
		lines := strings.Split(strings.TrimSpace(mustRun(t, args...)), "\n")
		if len(lines) != 2 {
			t.Fatalf("plcctl %v printed %d rounds, want 2 (--count after READ-COMMAND):\n%s", args, len(lines), strings.Join(lines, "\n"))
		}
		var rec struct {
			Round  int   `json:"round"`
			Values []int `json:"values"`
		}
		if err := json.Unmarshal([]byte(lines[1]), &rec); err != nil || rec.Round != 2 || len(rec.Values) != 2 || rec.Values[1] != 8 {
			t.Errorf("plcctl %v: second round %s (%v)", args, lines[1], err)
		}
	}
}

// TestCaseRule: flag names are case-sensitive; the words flags take are not,
// for every enumerated flag alike (issue 13: "-o JSON" was refused while
// "--type FLOAT32" was accepted).
func TestCaseRule(t *testing.T) {
	s := startSim(t)
	s.SetHoldingRegisters(0, 0x4049, 0x0FDB)
	for _, args := range [][]string{
		{"read-holding-registers", "0", "-o", "JSON", "--type", "FLOAT32", "--word-order", "abcd"},
		{"read-holding-registers", "0", "-o", "Json", "--type", "Float32", "--log-level", "WARN", "--log-format", "TEXT"},
	} {
		out := mustRun(t, append(args, "-a", s.Addr)...)
		if !strings.Contains(out, `"type":"float32","values":[3.1415927]`) {
			t.Errorf("plcctl %v = %s", args, out)
		}
	}
	if out := mustRun(t, "-o", "CSV", "read-coils", "0", "-a", s.Addr); out != "address,value\n0,0\n" {
		t.Errorf("-o CSV = %q", out)
	}
	// bench --function too (it refused WRITE)
	if out := mustRun(t, "bench", "--function", "WRITE", "--requests", "1", "-o", "json", "-a", s.Addr); !strings.Contains(out, `"target":"write-registers"`) {
		t.Errorf("bench --function WRITE = %s", out)
	}
	if out := mustRun(t, "write-coil", "3", "ON", "-a", s.Addr); out != "wrote 1 coil at 3\n" {
		t.Errorf("write-coil 3 ON = %q", out)
	}
	if out := mustRun(t, "read-device-id", "--level", "BASIC", "-o", "json", "-a", s.Addr); !strings.Contains(out, `"level":"basic"`) {
		t.Errorf("--level BASIC = %q", out)
	}
	r := runCLI(t, "read-coils", "0", "--Output", "json", "-a", s.Addr)
	if r.code != exitUsage || !strings.Contains(r.stderr, "unknown flag: --Output; did you mean --output?") {
		t.Errorf("--Output: exit %d, stderr %q: flag names stay case-sensitive, with a suggestion", r.code, r.stderr)
	}
}

// TestDidYouMean: a mistyped command or flag gets a suggestion.
func TestDidYouMean(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"read-holding-register", "0"}, `unknown command "read-holding-register"; did you mean read-holding-registers?`},
		{[]string{"-o", "json", "raed-coils", "0"}, `unknown command "raed-coils"; did you mean read-coils?`},
		{[]string{"help", "wach"}, `unknown command "wach"; did you mean watch?`},
		{[]string{"read-coils", "0", "--one-base"}, "unknown flag: --one-base; did you mean --one-based?"},
		{[]string{"watch", "read-coils", "0", "--intervall", "1s"}, "unknown flag: --intervall; did you mean --interval?"},
		{[]string{"watch", "read-coil", "0"}, `; did you mean read-coils?`},
		{[]string{"frobnicate"}, `unknown command "frobnicate"` + "\n"},
		// after "--" a command is an argument: it said unknown command
		// "read-coils"; did you mean read-coils?
		{[]string{"--", "read-coils", "0"}, `plcctl: the command "read-coils" comes after "--", which makes every word after it an argument: put the command before "--"` + "\n"},
	} {
		r := runCLI(t, tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("plcctl %v: exit %d, stderr %q, want %q", tc.args, r.code, r.stderr, tc.msg)
		}
	}
}

// TestLongWordsBounded: an error names the word the user typed quoted and
// cut after suggest.MaxQuoted runes, with its length, wherever the word is
// (a command, help's argument, watch's read command, a flag's name or
// value, an argument): "unknown command" echoed a word of any length whole.
func TestLongWordsBounded(t *testing.T) {
	long := strings.Repeat("x", 100000)
	cut := `"` + long[:suggest.MaxQuoted] + `"... (100000 bytes)`
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{long, "0"}, "plcctl: unknown command " + cut + "\n"},
		{[]string{"help", long}, "plcctl help: unknown command " + cut + "\n"},
		{[]string{"watch", long}, "plcctl watch: " + cut + " is not a read command"},
		{[]string{"read-coils", "0", "--" + long}, "unknown flag: --" + long[:suggest.MaxQuoted] + "... (100000 bytes)\n"},
		{[]string{"read-coils", "0", "--timeout", long}, "invalid argument " + cut + ` for "-t, --timeout" flag: want a duration`},
		{[]string{"read-coils", "0", "--one-based=" + long}, "invalid argument " + cut + ` for "--one-based" flag: want true or false` + "\n"},
		{[]string{"read-coils", long}, "address " + cut + ": want a number 0..65535\n"},
		{[]string{"read-coils", "0", "-o", long}, "--output " + cut + ": want text, json or csv\n"},
		{[]string{"\x1b[2J" + long}, `unknown command "\x1b[2J` + long[:suggest.MaxQuoted-4] + `"... (100004 bytes)`},
	} {
		r := runCLI(t, tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.msg) || len(r.stderr) > 500 {
			t.Errorf("plcctl %.60q...: exit %d, stderr (%d bytes) %.300q, want exit 2 and %q", tc.args, r.code, len(r.stderr), r.stderr, tc.msg)
		}
	}
}

// TestHelpIgnoresSharedFlags: shared flags given with help (before or
// after it) are not taken for the command it describes: "plcctl -a HOST
// help read-coils" said unknown command "-a".
func TestHelpIgnoresSharedFlags(t *testing.T) {
	want := mustRun(t, "read-coils", "--help")
	for _, args := range [][]string{
		{"-a", "127.0.0.1:1", "help", "read-coils"},
		{"help", "-o", "json", "read-coils"},
		{"help", "read-coils", "--one-based", "-u", "3"},
	} {
		if r := runCLI(t, args...); r.code != 0 || r.stdout != want || r.stderr != "" {
			t.Errorf("plcctl %v: exit %d, stderr %q; want read-coils' help", args, r.code, r.stderr)
		}
	}
	if r := runCLI(t, "-o", "json", "help"); r.code != 0 || !strings.HasPrefix(r.stdout, "plcctl talks Modbus TCP") {
		t.Errorf("plcctl -o json help: exit %d, stdout %.60q", r.code, r.stdout)
	}
}

// TestHelpOfHelp: "plcctl help --help" describes help (it said unknown command).
func TestHelpOfHelp(t *testing.T) {
	for _, args := range [][]string{{"help", "--help"}, {"help", "-h"}} {
		r := runCLI(t, args...)
		if r.code != 0 || r.stdout != helpHelp || r.stderr != "" {
			t.Errorf("plcctl %v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
}

// TestVersionFlag: --version prints the name, a version and the toolchain.
func TestVersionFlag(t *testing.T) {
	r := runCLI(t, "--version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "plcctl ") || !strings.Contains(r.stdout, "go1.") || r.stderr != "" {
		t.Errorf("--version: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestLogsTextByDefault: warnings on stderr (not a terminal here) are text
// lines unless --log-format json asks (issue 13: JSON whenever stderr was
// not a terminal).
func TestLogsTextByDefault(t *testing.T) {
	s := startSim(t)
	// 40001 as a plain address warns that it is not a Modicon reference.
	text := runCLI(t, "read-holding-registers", "40001", "-a", s.Addr)
	if !strings.Contains(text.stderr, "WRN 40001 is protocol address 40001") || strings.Contains(text.stderr, "{") {
		t.Errorf("default log line: %q, want a text WRN line", text.stderr)
	}
	// With --one-based too (there was no warning at all): 40001 is the
	// register number 40001, protocol address 40000, not holding register 1.
	one := runCLI(t, "--one-based", "read-holding-registers", "40001", "-a", s.Addr)
	if !strings.Contains(one.stderr, "WRN 40001 is register number 40001 (protocol address 40000); for Modicon holding register 1 write ref:40001") {
		t.Errorf("--one-based 40001: stderr %q, want the Modicon warning", one.stderr)
	}
	if one := runCLI(t, "--one-based", "read-input-registers", "30010", "-a", s.Addr); !strings.Contains(one.stderr, "for Modicon input register 10 write ref:30010") {
		t.Errorf("--one-based 30010: stderr %q, want the Modicon warning", one.stderr)
	}
	js := runCLI(t, "read-holding-registers", "40001", "-a", s.Addr, "--log-format", "json")
	var ev struct{ Level, Message string }
	if err := json.Unmarshal([]byte(strings.SplitN(js.stderr, "\n", 2)[0]), &ev); err != nil || ev.Level != "warn" {
		t.Errorf("--log-format json: %q (%v)", js.stderr, err)
	}
	if r := runCLI(t, "read-coils", "0", "--log-format", "auto"); r.code != exitUsage || !strings.Contains(r.stderr, "want text or json") {
		t.Errorf("--log-format auto: exit %d, %q", r.code, r.stderr)
	}
}

// TestFileRecordLimits: a file-record request larger than one request can
// carry is refused before anything is sent, in records of the values given
// (the codec's words were "lengths ask for a 256-byte response, more than
// 253" and "request data length 253 out of range 9..251").
func TestFileRecordLimits(t *testing.T) {
	seq := func(n int) []string {
		var vs []string
		for i := range n {
			vs = append(vs, strconv.Itoa(i))
		}
		return vs
	}
	for _, tc := range []struct {
		name string
		args []string
		want string // the usage line; "" for a request within the limit
	}{
		{"read 62 float32", []string{"read-file-record", "4", "0", "62", "--type", "float32"}, ""},
		{"read 63 float32", []string{"read-file-record", "4", "0", "63", "--type", "float32"},
			"plcctl read-file-record: COUNT 63 of float32 takes 126 records; one request reads at most 124\n"},
		{"read 125", []string{"read-file-record", "4", "0", "125"}, "plcctl read-file-record: count \"125\": want 1..124\n"},
		{"write 122", append([]string{"write-file-record", "4", "0", "--dry-run"}, seq(122)...), ""},
		{"write 123", append([]string{"write-file-record", "4", "0"}, seq(123)...),
			"plcctl write-file-record: 123 values of uint16 take 123 records; one request writes at most 122\n"},
		{"write 62 float32", append([]string{"write-file-record", "4", "0", "--type", "float32"}, seq(62)...),
			"plcctl write-file-record: 62 values of float32 take 124 records; one request writes at most 122\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startSim(t)
			r := runCLI(t, append(tc.args, "-a", s.Addr)...)
			switch {
			case tc.want == "" && r.code != exitOK:
				t.Errorf("exit %d, want 0:\n%s", r.code, r.stderr)
			case tc.want != "" && (r.code != exitUsage || !strings.HasPrefix(r.stderr, tc.want)):
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and:\n%s", r.code, r.stderr, tc.want)
			case tc.want != "" && s.Stats().Accepted != 0:
				t.Errorf("a refused request connected")
			}
		})
	}
}

// TestReadDeviceIDArguments: an argument to read-device-id (an object id,
// most likely) is refused naming the flag it belongs in, and the command
// once ("plcctl read-device-id: read-device-id takes no arguments, got 1").
func TestReadDeviceIDArguments(t *testing.T) {
	r := runCLI(t, "read-device-id", "0x80")
	want := "plcctl read-device-id: want no arguments (an object id goes in --object, with --level individual), got 1 argument\n"
	if r.code != exitUsage || !strings.HasPrefix(r.stderr, want) {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and:\n%s", r.code, r.stderr, want)
	}
}

// TestDurationAndRateFlagWords: a duration or rate that does not parse is
// said in plcctl's words, and help names what the flag takes (D, R). They
// said Go's ("time: invalid duration \"abc\"", "time: unknown unit \"x\" in
// duration \"10x\"", "strconv.ParseFloat: parsing \"abc\": invalid syntax"),
// and help showed Go's type names ("--timeout duration", "--rate float").
func TestDurationAndRateFlagWords(t *testing.T) {
	for _, args := range [][]string{
		{"-t", "abc", "read-coils", "0"},
		{"read-coils", "0", "--timeout", "5"}, // a number without its unit
		{"watch", "--interval", "10x", "read-coils", "0"},
		{"watch", "--plant", "../../testdata/plants/pump-station.yaml", "flow", "--interval", "10x"},
		{"scan", "--unit-timeout", "zz"},
		{"bench", "--duration", "q"},
		{"ping", "--rate", "abc"},
	} {
		r := runCLI(t, args...)
		if r.code != exitUsage || strings.Contains(r.stderr, "time:") || strings.Contains(r.stderr, "strconv") ||
			!strings.Contains(r.stderr, "want a") {
			t.Errorf("plcctl %v: exit %d, stderr:\n%s\nwant exit 2 saying what is wanted in plcctl's words", args, r.code, r.stderr)
		}
	}
	for cmd, want := range map[string]string{"read-coils": "--timeout D ", "watch": "--interval D ", "scan": "--unit-timeout D ",
		"bench": "--duration D ", "ping": "--rate R "} {
		if out := mustRun(t, cmd, "--help"); !strings.Contains(out, want) || strings.Contains(out, " duration ") || strings.Contains(out, " float ") {
			t.Errorf("plcctl %s --help lacks %q or shows a Go type name:\n%s", cmd, want, out)
		}
	}
}

// TestReadWriteRegistersSpan: an FC 23 error names which range is written
// and which read. It said "read-write-registers 100..101 then 0..3", which
// reads as the command line's order (RADDR first) while the first range
// was the write's; and a range past 65535 names the argument.
func TestReadWriteRegistersSpan(t *testing.T) {
	s := simtest.Start(t, simulator.Config{HoldingRegisters: 100})
	r := runCLI(t, "read-write-registers", "0", "4", "100", "7", "8", "-a", s.Addr)
	if r.code != exitException || !strings.Contains(r.stderr, "plcctl: read-write-registers write 100..101, read 0..3 on ") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 3 naming write 100..101, read 0..3", r.code, r.stderr)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"0", "2", "65535", "7", "8"}, "2 registers from WADDR 65535 run past the last address"},
		{[]string{"65535", "2", "0", "1"}, "RCOUNT 2 from RADDR 65535 runs past the last address (room for 1 value)"},
	} {
		r := runCLI(t, append([]string{"read-write-registers", "-a", s.Addr}, tc.args...)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("read-write-registers %v: exit %d, stderr:\n%s\nwant exit 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}
