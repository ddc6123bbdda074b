package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/plcctl/plcctl/internal/golden"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// TestWriteStringLength: --length pads the field with NULs, so no old tail
// is left, and refuses a string that does not fit; several words are refused
// instead of joined (issue 13: "hello world" became "helloworldd" over an
// older, longer value).
func TestWriteStringLength(t *testing.T) {
	s := startSim(t)
	mustRun(t, "write-registers", "310", "helloworldd", "--type", "string", "-a", s.Addr)
	r := runCLI(t, "write-registers", "310", "hello", "world", "--type", "string", "-a", s.Addr)
	if r.code != exitUsage || !strings.Contains(r.stderr, "quote a string with spaces, e.g. 'hello world'") {
		t.Errorf("two words: exit %d, %s", r.code, r.stderr)
	}
	out := mustRun(t, "write-registers", "310", "hello world", "--type", "string", "--length", "8", "-a", s.Addr)
	if out != "wrote 8 registers at 310..317\n" {
		t.Errorf("write: %q", out)
	}
	want := []uint16{'h'<<8 | 'e', 'l'<<8 | 'l', 'o'<<8 | ' ', 'w'<<8 | 'o', 'r'<<8 | 'l', 'd' << 8, 0, 0}
	if got := s.HoldingRegisters(310, 8); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("registers %04X, want %04X", got, want)
	}
	out = mustRun(t, "read-holding-registers", "310", "8", "--type", "string", "-a", s.Addr)
	if out != "310  hello world\n" {
		t.Errorf("read back %q", out)
	}
	// Byte-swapped: the NUL padding is the same in any order.
	mustRun(t, "write-registers", "320", "ab", "--type", "string", "--length", "3", "--word-order", "BADC", "-a", s.Addr)
	if got := s.HoldingRegisters(320, 3); fmt.Sprint(got) != fmt.Sprint([]uint16{'b'<<8 | 'a', 0, 0}) {
		t.Errorf("BADC registers %04X", got)
	}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"write-registers", "310", "seventeen chars!!", "--type", "string", "--length", "8"},
			"string of 17 bytes does not fit --length 8 (8 registers hold 16 characters)"},
		{[]string{"write-registers", "310", "1", "--length", "8"}, "--length is the length of a --type string field"},
		{[]string{"write-registers", "310", "x", "--type", "string", "--length", "0"}, "--length 0: want 1..65536"},
		{[]string{"write-registers", "65534", "x", "--type", "string", "--length", "3"}, "3 registers from 65534 run past the last address"},
	} {
		r := runCLI(t, append(tc.args, "-a", s.Addr)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("plcctl %v: exit %d, %s", tc.args, r.code, r.stderr)
		}
	}
	// Without --length the rest of the field is kept, and a warning says so.
	s.SetHoldingRegisters(400, 0x4142, 0x4344, 0x4546)
	r = runCLI(t, "write-registers", "400", "xy", "--type", "string", "-a", s.Addr)
	if r.code != 0 || !strings.Contains(r.stderr, "give --length to pad it with NULs") {
		t.Errorf("no --length: exit %d, stderr %q", r.code, r.stderr)
	}
	if got := s.HoldingRegisters(400, 3); fmt.Sprint(got) != fmt.Sprint([]uint16{'x'<<8 | 'y', 0x4344, 0x4546}) {
		t.Errorf("registers %04X", got)
	}
	if st := s.Stats(); st.MalformedPDUs != 0 || st.FramingFaults != 0 {
		t.Errorf("simulator faults %+v", st)
	}
}

func seq(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

// TestWriteSplit: a write over one request's limit is refused unless
// --split, which sends it in order in several requests, cut between values,
// and warns that it is not atomic (issue 13).
func TestWriteSplit(t *testing.T) {
	s := startSim(t)
	args := append([]string{"write-registers", "0"}, seq(1, 130)...)
	r := runCLI(t, append(args, "-a", s.Addr)...)
	if r.code != exitUsage || !strings.Contains(r.stderr, "quantity 130 out of range 1..123; give --split") {
		t.Errorf("no --split: exit %d, %s", r.code, r.stderr)
	}
	if st := s.Stats(); st.Requests != 0 {
		t.Fatalf("a refused write sent %d requests", st.Requests)
	}
	r = runCLI(t, append(args, "--split", "-a", s.Addr)...)
	if r.code != 0 || r.stdout != "wrote 130 registers at 0..129\n" ||
		!strings.Contains(r.stderr, "writing 130 registers in 2 requests, one after the other: not atomic") {
		t.Errorf("--split: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if got := s.HoldingRegisters(0, 130); got[0] != 1 || got[122] != 123 || got[123] != 124 || got[129] != 130 {
		t.Errorf("registers %v", got)
	}
	if st := s.Stats(); st.Requests != 2 {
		t.Errorf("%d requests, want 2", st.Requests)
	}

	// float32 values: 123 registers would tear the 62nd value; the cut is at 122.
	out := mustRun(t, append(append([]string{"write-registers", "0", "--split", "--dry-run", "--type", "float32"}, seq(1, 62)...), "-a", s.Addr)...)
	frames := strings.Split(strings.TrimSpace(out), "\n")
	if len(frames) != 2 {
		t.Fatalf("dry run printed %d frames, want 2:\n%s", len(frames), out)
	}
	first, _ := golden.Hex(frames[0])
	second, _ := golden.Hex(frames[1])
	// MBAP tid 1 then 2; FC 16 quantities 122 (0x7A) at 0 and 2 at 122.
	if first[1] != 1 || first[7] != 0x10 || first[10] != 0 || first[11] != 0x7A ||
		second[1] != 2 || second[8] != 0 || second[9] != 0x7A || second[11] != 2 {
		t.Errorf("frames:\n%s", out)
	}
	mustRun(t, append(append([]string{"write-registers", "200", "--split", "--type", "float32"}, seq(1, 62)...), "-a", s.Addr)...)
	got := mustRun(t, "read-holding-registers", "200", "62", "--type", "float32", "-o", "json", "-a", s.Addr)
	if !strings.Contains(got, `"values":[1,2,3,`) || !strings.Contains(got, `,61,62]}`) {
		t.Errorf("read back %s", got)
	}

	// Coils: 1968 per request. The second part, past 1980 coils, fails.
	bits := strings.Repeat("10", 1000)
	short := simtest.Start(t, simulator.Config{Coils: 1980})
	r = runCLI(t, "write-coils", "0", bits, "--split", "-a", short.Addr)
	if r.code != exitException || !strings.Contains(r.stderr, "exception 02 illegal data address; the split write had written 1968 of 2000 items before the part that failed; the items") {
		t.Errorf("coils --split past the table: exit %d, %s", r.code, r.stderr)
	}
	s = simtest.Start(t, simulator.Config{})
	r = runCLI(t, "write-coils", "0", bits, "-a", s.Addr)
	if r.code != exitUsage || !strings.Contains(r.stderr, "give --split") {
		t.Errorf("coils without --split: exit %d, %s", r.code, r.stderr)
	}
	r = runCLI(t, "write-coils", "0", bits, "--split", "-a", s.Addr)
	if r.code != 0 || !strings.Contains(r.stderr, "writing 2000 coils in 2 requests") {
		t.Errorf("coils --split: exit %d, %s", r.code, r.stderr)
	}
	if c := s.Coils(1966, 4); fmt.Sprint(c) != "[true false true false]" {
		t.Errorf("coils 1966..1969 = %v", c)
	}
}

// TestStringWriteWarningCountsBytes: the warning of a string write without
// --length counts bytes, which is what the registers hold (two a register):
// "héllo" is 6 bytes in 3 registers, and was called 6 characters.
func TestStringWriteWarningCountsBytes(t *testing.T) {
	r := runCLI(t, "write-registers", "0", "héllo", "--type", "string", "--dry-run")
	if want := "writing 3 registers, 6 bytes: the field's registers after them keep what they held"; r.code != 0 || !strings.Contains(r.stderr, want) {
		t.Errorf("exit %d, stderr %q, want %q", r.code, r.stderr, want)
	}
}
