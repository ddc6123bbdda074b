package main

import (
	"bufio"
	"io"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in       string
		tbl      table
		oneBased bool
		want     uint16
		bad      bool
	}{
		{"0", holdingRegisters, false, 0, false},
		{"65535", holdingRegisters, false, 65535, false},
		{"0x6B", holdingRegisters, false, 107, false},
		{"65536", holdingRegisters, false, 0, true},
		{"-1", holdingRegisters, false, 0, true},
		{"1", holdingRegisters, true, 0, false},
		{"65536", holdingRegisters, true, 65535, false},
		{"0", holdingRegisters, true, 0, true},
		{"ref:40001", holdingRegisters, false, 0, false},
		{"REF:40108", holdingRegisters, true, 107, false},
		{"ref:465536", holdingRegisters, false, 65535, false},
		{"ref:30010", inputRegisters, false, 9, false},
		{"ref:10197", discreteInputs, false, 196, false},
		{"ref:00001", coils, false, 0, false},
		{"ref:40000", holdingRegisters, false, 0, true},
		{"ref:465537", holdingRegisters, false, 0, true},
		{"ref:4001", holdingRegisters, false, 0, true},
		{"ref:40001", inputRegisters, false, 0, true},
		{"ref:20001", holdingRegisters, false, 0, true},
		{"ref:4x001", holdingRegisters, false, 0, true},
	}
	for _, tc := range tests {
		a := &app{}
		a.opts.oneBased = tc.oneBased
		got, err := a.parseAddress(tc.in, tc.tbl)
		if tc.bad {
			if err == nil {
				t.Errorf("parseAddress(%q, one-based %v) = %d, want an error", tc.in, tc.oneBased, got)
			} else if exitCode(err) != exitUsage {
				t.Errorf("parseAddress(%q) error %v is not a usage error", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseAddress(%q, one-based %v) = %d, %v, want %d", tc.in, tc.oneBased, got, err, tc.want)
		}
	}
}

func TestParseFlagsNegativeNumbers(t *testing.T) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	n := fs.Int("n", 0, "")
	typ := fs.StringP("type", "T", "", "")
	dry := fs.Bool("dry-run", false, "")
	err := parseFlags(fs, []string{"100", "-42", "--n", "-7", "-1.5", "--type", "int16", "-T", "x", "-Inf", "--dry-run", "--", "-3"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"100", "-42", "-1.5", "-Inf", "-3"}; !reflect.DeepEqual(fs.Args(), want) {
		t.Errorf("args = %q, want %q", fs.Args(), want)
	}
	if *n != -7 || *typ != "x" || !*dry {
		t.Errorf("flags n=%d type=%q dry=%v", *n, *typ, *dry)
	}
	if err := parseFlags(fs, []string{"-x"}); err == nil {
		t.Error("unknown shorthand -x accepted")
	}
}

func TestSplitWords(t *testing.T) {
	tests := map[string][]string{
		`read-coils 0 10`:                {"read-coils", "0", "10"},
		`  write-registers 0 'PLC 01'  `: {"write-registers", "0", "PLC 01"},
		`a "b \"c\" d" e\ f`:             {"a", `b "c" d`, "e f"},
		`read-coils 0 # comment`:         {"read-coils", "0"},
		`# only a comment`:               nil,
		`write-registers 0 a#b`:          {"write-registers", "0", "a#b"},
		`x ''`:                           {"x", ""},
		"tab\tseparated":                 {"tab", "separated"},
	}
	for in, want := range tests {
		got, err := splitWords(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("splitWords(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	if _, err := splitWords(`a 'b`); err == nil {
		t.Error("unterminated quote accepted")
	}
}

// TestLineEditor drives the editor with the bytes a terminal sends.
func TestLineEditor(t *testing.T) {
	tests := []struct {
		name, keys string
		history    []string
		want       string
		err        error
	}{
		{"plain", "read-coils 0\r", nil, "read-coils 0", nil},
		{"backspace", "read-coilx\x7fs 0\r", nil, "read-coils 0", nil},
		{"left and insert", "ead\x1b[D\x1b[D\x1b[Dr\r", nil, "read", nil},
		{"home end", "bc\x1b[Ha\x1b[Fd\r", nil, "abcd", nil},
		{"ctrl-a ctrl-e ctrl-k", "abcdef\x01\x06\x06\x0b\x05X\r", nil, "abX", nil},
		{"ctrl-u", "junk\x15good\r", nil, "good", nil},
		{"ctrl-w", "read-coils 0 10\x17\x1710\r", nil, "read-coils 10", nil},
		{"delete", "abc\x01\x1b[3~\r", nil, "bc", nil},
		{"history up", "\x1b[A\x1b[A\r", []string{"first", "second"}, "first", nil},
		{"history up down keeps draft", "dra\x1b[A\x1b[Bft\r", []string{"old"}, "draft", nil},
		{"history past oldest", "\x1b[A\x1b[A\x1b[A\r", []string{"only"}, "only", nil},
		{"tab completes", "read-h\t0\r", nil, "read-holding-registers 0", nil},
		{"ctrl-c", "abc\x03", nil, "", errInterrupted},
		{"ctrl-d empty", "\x04", nil, "", io.EOF},
		{"ctrl-d deletes", "ab\x01\x04\r", nil, "b", nil},
		{"utf-8", "wert °C\r", nil, "wert °C", nil},
	}
	a := &app{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			ed := &lineEditor{in: bufio.NewReader(strings.NewReader(tc.keys)), out: &out, history: tc.history,
				complete: a.completeCommand}
			got, err := ed.readLine("> ")
			if got != tc.want || err != tc.err {
				t.Errorf("readLine(%q) = %q, %v, want %q, %v", tc.keys, got, err, tc.want, tc.err)
			}
			if !strings.Contains(out.String(), "> ") {
				t.Errorf("no prompt drawn: %q", out.String())
			}
		})
	}
}

func TestLineEditorHistory(t *testing.T) {
	ed := &lineEditor{}
	for _, l := range []string{"a", "", "b", "b", "c"} {
		ed.addHistory(l)
	}
	if !reflect.DeepEqual(ed.history, []string{"a", "b", "c"}) {
		t.Errorf("history = %q", ed.history)
	}
}

func TestLatencies(t *testing.T) {
	var l latencies
	for i := 100; i >= 1; i-- {
		l = append(l, msDuration(i))
	}
	s := l.summary()
	if s.Min != 1 || s.Max != 100 || s.P50 != 50 || s.P90 != 90 || s.P99 != 99 || s.Avg != 50.5 {
		t.Errorf("summary = %+v", s)
	}
}

func msDuration(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// TestIsNegativeNumber: the hand-written matcher takes as positional
// arguments exactly what the regexp it replaced did.
func TestIsNegativeNumber(t *testing.T) {
	re := regexp.MustCompile(`^-([0-9]|\.[0-9]|(?i:inf|nan)$)`)
	for _, s := range []string{"-42", "-1.5", "-0x10", "-Inf", "-INF", "-nan", "-NaN", "-.5", "-9", "-0",
		"-", "--", "-.", "-.x", "-a", "-infinity", "-in", "-nanx", "-u", "--timeout", "42", "", "inf", "-+1", "- 1", "-٣"} {
		if got, want := isNegativeNumber(s), re.MatchString(s); got != want {
			t.Errorf("isNegativeNumber(%q) = %v, the regexp says %v", s, got, want)
		}
	}
}

// TestSharedDefaults: the shared flags' defaults are sharedDefaults, which
// parse uses to reset a command's options without building a flag set.
func TestSharedDefaults(t *testing.T) {
	var o sharedOptions
	o.addSharedFlags(pflag.NewFlagSet("t", pflag.ContinueOnError))
	if want := sharedDefaults(); o != want {
		t.Errorf("options after addSharedFlags = %+v, want sharedDefaults() = %+v", o, want)
	}
}
