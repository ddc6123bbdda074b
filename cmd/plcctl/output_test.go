package main

import (
	"strings"
	"testing"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plc"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// transcript runs each command line against addr and returns
// "$ plcctl ARGS" followed by its stdout, for a golden file.
func transcript(t *testing.T, addr string, lines ...string) string {
	t.Helper()
	var sb strings.Builder
	for _, l := range lines {
		args, err := splitWords(l)
		if err != nil {
			t.Fatal(err)
		}
		sb.WriteString("$ plcctl " + l + "\n")
		sb.WriteString(mustRun(t, append(args, "-a", addr)...))
	}
	return sb.String()
}

// identity is a fixed device identification, so the golden output does
// not follow changes to plcsim's own.
var identity = simulator.Identity{Objects: map[uint8]string{
	modbus.ObjectVendorName: "ACME", modbus.ObjectProductCode: "PLC-9000", modbus.ObjectMajorMinorRevision: "2.11",
	modbus.ObjectProductName: "Test PLC", 0x80: "private",
}}

// loadFixture fills the simulator with the values the golden outputs show.
func loadFixture(t *testing.T, s *simtest.Server) {
	t.Helper()
	s.SetHoldingRegisters(100, 1, 2, 3)
	f, _ := plc.Encode(plc.Float32, plc.CDAB, float32(123.456), float32(-1.5))
	s.SetHoldingRegisters(200, f...)
	s.SetHoldingRegisters(300, plc.EncodeString("PLC-01", false)...)
	s.SetHoldingRegisters(400, 0x00FF, 0x8001)
	i, _ := plc.Encode(plc.Int32, plc.ABCD, int32(123456789), int32(-2))
	s.SetHoldingRegisters(500, i...)
	s.SetInputRegisters(9, 0xFFFE, 10)
	s.SetCoils(20, true, false, true, true, false, false, true, true, true, false)
	s.SetDiscreteInputs(196, true, false, true)
	s.SetFIFO(50, 440, 4740)
	s.SetFileRecord(4, 1, 0x0DFE, 0x0020)
}

func TestOutputReadsGolden(t *testing.T) {
	s := simtest.Start(t, simulator.Config{Identity: identity})
	loadFixture(t, s)
	lines := []string{}
	for _, o := range []string{"text", "json", "csv"} {
		lines = append(lines,
			"-o "+o+" read-holding-registers 100 3",
			"-o "+o+" read-holding-registers 200 2 --type float32 --word-order CDAB",
			"-o "+o+" read-holding-registers 300 3 --type string",
			"-o "+o+" read-holding-registers 400 2 --type hex",
			"-o "+o+" read-coils 20 10",
		)
	}
	lines = append(lines,
		"read-holding-registers 400 2 --type bits",
		"-o json read-holding-registers 400 2 --type bits",
		"read-holding-registers 500 2 --type int32",
		"read-holding-registers 500 1 --type uint64",
		"read-input-registers 9 2 --type int16",
		"read-input-registers ref:30010 2 --type int16",
		"--one-based read-holding-registers 101 3",
		"read-holding-registers --one-based ref:40101 3",
		"read-discrete-inputs 196 3",
		"-o json read-discrete-inputs 196 3",
		"read-holding-registers 98 6 --type uint16",
	)
	checkGolden(t, "output/reads.txt", transcript(t, s.Addr, lines...))
}

func TestOutputOtherGolden(t *testing.T) {
	s := simtest.Start(t, simulator.Config{Identity: identity})
	loadFixture(t, s)
	var lines []string
	for _, o := range []string{"text", "json", "csv"} {
		lines = append(lines,
			"-o "+o+" read-fifo 50",
			"-o "+o+" read-file-record 4 1 2",
			"-o "+o+" read-device-id --level extended",
			"-o "+o+" raw 3 00 64 00 02",
			"-o "+o+" write-registers 600 1.5 -2 --type float32",
			"-o "+o+" write-coils 30 1 0 1",
			"-o "+o+" write-register 610 -3 --type int16",
			"-o "+o+" mask-write-register 100 0xFFFC 0x0001",
			"-o "+o+" read-write-registers 100 2 700 9 8",
			"-o "+o+" write-registers --dry-run 100 1 2 3",
		)
	}
	lines = append(lines,
		"read-device-id --level individual --object 1",
		"write-coil 5 on",
		"write-file-record 4 7 0x06AF 0x04BE 0x100D",
		"-o json write-file-record 4 7 0x06AF 0x04BE 0x100D",
		"read-file-record 4 7 3 --type hex",
		"write-coil --dry-run 172 on",
		"write-register --dry-run -u 17 1 3",
		"write-coils --dry-run 19 1011001110",
		"mask-write-register --dry-run 4 0x00F2 0x0025",
		"read-write-registers --dry-run 3 6 14 0x00FF 0x00FF 0x00FF",
		"write-file-record --dry-run 4 7 0x06AF 0x04BE 0x100D",
		"raw --dry-run 0x41 01 02",
		"-o json write-registers --dry-run 0 PLC-01 --type string",
	)
	checkGolden(t, "output/other.txt", transcript(t, s.Addr, lines...))
}

// TestReadFIFOEmpty: an empty queue prints nothing in text mode, so a note
// on stderr says it is empty (a blank looked like a hang); stdout stays
// data only, and JSON and CSV, which show it already, get no note.
func TestReadFIFOEmpty(t *testing.T) {
	s := startSim(t)
	s.SetFIFO(50, 440, 4740)
	for _, tc := range []struct {
		name, args     string
		stdout, stderr string
	}{
		{"text empty", "read-fifo 0", "", "read-fifo: the FIFO at 0 is empty (the device answered a FIFO count of 0)\n"},
		{"text empty one-based", "--one-based read-fifo 8", "", "read-fifo: the FIFO at 8 is empty (the device answered a FIFO count of 0)\n"},
		{"json empty", "-o json read-fifo 0", `{"function":"read-fifo","unit":1,"address":0,"count":0,"type":"uint16","values":[]}` + "\n", ""},
		{"csv empty", "-o csv read-fifo 0", "index,value\n", ""},
		{"text queued", "read-fifo 50", "0  440\n1  4740\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args, err := splitWords(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			r := runCLI(t, append(args, "-a", s.Addr)...)
			if r.code != 0 || r.stdout != tc.stdout || r.stderr != tc.stderr {
				t.Errorf("plcctl %s: exit %d, stdout %q, stderr %q; want exit 0, stdout %q, stderr %q",
					tc.args, r.code, r.stdout, r.stderr, tc.stdout, tc.stderr)
			}
		})
	}
}

// TestWordOrderOnlyWhenApplied: JSON names the word order only where it
// changed the values. "word_order":"BADC" on hex values (shown as sent)
// claimed a byte swap that was not made, and "CDAB" on a uint16 a word swap
// a single register cannot have.
func TestWordOrderOnlyWhenApplied(t *testing.T) {
	s := simtest.Start(t, simulator.Config{HoldingRegisters: 10})
	s.SetHoldingRegisters(0, 0x0102, 0x0304)
	for _, tc := range []struct {
		args []string
		want string // the word_order key, "" for none
	}{
		{[]string{"--type", "hex", "--word-order", "BADC"}, ""},
		{[]string{"--type", "bits", "--word-order", "DCBA"}, ""},
		{[]string{"--type", "uint16", "--word-order", "CDAB"}, ""},
		{[]string{"--type", "int16", "--word-order", "BADC"}, `"word_order":"BADC"`},
		{[]string{"--type", "string", "--word-order", "DCBA"}, `"word_order":"DCBA"`},
		{[]string{"--type", "string", "--word-order", "CDAB"}, ""},
		{[]string{"--type", "float32", "--word-order", "CDAB"}, `"word_order":"CDAB"`},
	} {
		out := mustRun(t, append([]string{"read-holding-registers", "0", "1", "-o", "json", "-a", s.Addr}, tc.args...)...)
		if got := strings.Contains(out, `"word_order"`); got != (tc.want != "") || tc.want != "" && !strings.Contains(out, tc.want) {
			t.Errorf("read-holding-registers %v -o json = %s, want word_order %q", tc.args, out, tc.want)
		}
	}
}

// TestTextStringsVisible: text output quotes a string that would not be
// seen as it is: empty (the line was the address and a blank), with a
// leading or trailing space (lost in the column), or unprintable; JSON and
// CSV carry it as it is.
func TestTextStringsVisible(t *testing.T) {
	s := startSim(t)
	s.SetHoldingRegisters(0, 0, 0, 0x4142, 0x2000, 0x2041, 0x4200, 0x4142, 0x0700)
	for _, tc := range []struct{ addr, text string }{
		{"0", `0  ""` + "\n"},
		{"2", `2  "AB "` + "\n"},
		{"4", `4  " AB"` + "\n"},
		{"6", `6  "AB\a"` + "\n"},
	} {
		if got := mustRun(t, "-a", s.Addr, "read-holding-registers", tc.addr, "2", "--type", "string"); got != tc.text {
			t.Errorf("string at %s: text %q, want %q", tc.addr, got, tc.text)
		}
	}
	if got := mustRun(t, "-a", s.Addr, "-o", "csv", "read-holding-registers", "2", "2", "--type", "string"); got != "address,value\n2,AB \n" {
		t.Errorf("csv %q, want the string as it is", got)
	}
}
