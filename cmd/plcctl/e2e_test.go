package main

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/plcctl/plcctl/internal/golden"
	"github.com/plcctl/plcctl/plc"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// closedPort returns a 127.0.0.1 address on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// silentListener accepts connections and never answers; accepted counts them.
func silentListener(t *testing.T) (addr string, accepted chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for {
			select {
			case c := <-accepted:
				c.Close()
			default:
				return
			}
		}
	})
	return ln.Addr().String(), accepted
}

func TestExitCodes(t *testing.T) {
	s := startSim(t) // 1000 holding registers: 100..1099 is out of range
	silent, _ := silentListener(t)
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"ok", []string{"read-holding-registers", "100", "10", "-a", s.Addr}, 0, ""},
		{"usage", []string{"read-holding-registers", "-a", s.Addr}, 2, "want ADDR [COUNT]"},
		{"connection refused", []string{"read-holding-registers", "100", "10", "-a", closedPort(t)}, 1, "connection refused"},
		{"exception", []string{"read-holding-registers", "995", "10", "-a", s.Addr}, 3,
			"read-holding-registers 995..1004 on " + s.Addr + " unit 1: the device answered exception 02 illegal data address; the items are outside"},
		{"exception one-based", []string{"--one-based", "read-holding-registers", "996", "10", "-a", s.Addr}, 3,
			"read-holding-registers 996..1005 on " + s.Addr + " unit 1: the device answered exception 02 illegal data address"},
		{"exception write", []string{"write-register", "1000", "1", "-a", s.Addr}, 3,
			"write-register 1000 on " + s.Addr + " unit 1: the device answered exception 02 illegal data address"},
		{"exception raw", []string{"raw", "0x41", "-a", s.Addr}, 3, "unit 1: the device answered exception 01 illegal function; the device does not support this function"},
		{"timeout", []string{"read-holding-registers", "0", "-t", "200ms", "-a", silent}, 1, "read-holding-registers 0 on " + silent + " unit 1: no answer within 200ms; check the unit id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.args...)
			if r.code != tc.code {
				t.Fatalf("plcctl %v: exit %d, want %d; stderr:\n%s", tc.args, r.code, tc.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.msg) {
				t.Errorf("plcctl %v: stderr %q, want it to contain %q", tc.args, r.stderr, tc.msg)
			}
			if tc.code != 0 && r.stdout != "" {
				t.Errorf("plcctl %v: failed but wrote %q to stdout", tc.args, r.stdout)
			}
		})
	}
}

// TestOutOfRangeSendsNothing proves a value that does not fit its type is
// refused before anything reaches the device: no connection, no request.
func TestOutOfRangeSendsNothing(t *testing.T) {
	s := startSim(t)
	addr, accepted := silentListener(t)
	cases := [][]string{
		{"write-register", "100", "70000"},
		{"write-register", "100", "-32769", "--type", "int16"},
		{"write-registers", "100", "1", "2", "4294967296", "--type", "uint32"},
		{"write-registers", "100", "3.5e38", "--type", "float32"},
		{"write-coils", "0", "1", "0", "2"},
		{"mask-write-register", "0", "0x1FFFF", "0"},
		{"read-write-registers", "0", "1", "10", "65536"},
		// Ranges past address 65535: write-registers refused them, FC 23
		// sent them (the device answered 02, exit 3).
		{"read-write-registers", "0", "2", "65535", "7", "8"},
		{"read-write-registers", "65535", "2", "0", "1"},
		{"read-write-registers", "65535", "1", "0", "1", "--type", "float32"},
		{"write-file-record", "4", "1", "-1"},
	}
	for _, args := range cases {
		for _, target := range []string{s.Addr, addr} {
			r := runCLI(t, append(args, "-a", target)...)
			if r.code != exitUsage {
				t.Errorf("plcctl %v: exit %d, want 2", args, r.code)
			}
		}
	}
	if st := s.Stats(); st.Accepted != 0 || st.Requests != 0 {
		t.Errorf("simulator saw %d connections and %d requests, want none", st.Accepted, st.Requests)
	}
	select {
	case <-accepted:
		t.Error("a refused write connected to the device")
	case <-time.After(50 * time.Millisecond):
	}
	if got := s.HoldingRegisters(100, 4); fmt.Sprint(got) != "[0 0 0 0]" {
		t.Errorf("registers 100..103 = %v, want untouched", got)
	}
}

// TestDryRunDoesNotConnect: --dry-run prints the frame and never dials.
func TestDryRunDoesNotConnect(t *testing.T) {
	addr, accepted := silentListener(t)
	out := mustRun(t, "write-register", "--dry-run", "1", "3", "-a", addr)
	if out != "00 01 00 00 00 06 01 06 00 01 00 03\n" {
		t.Errorf("dry run printed %q", out)
	}
	select {
	case <-accepted:
		t.Error("--dry-run connected to the device")
	case <-time.After(50 * time.Millisecond):
	}
}

// TestDryRunMatchesGoldenFrames: the frames --dry-run prints are the
// project's golden request frames (transaction id aside).
func TestDryRunMatchesGoldenFrames(t *testing.T) {
	want := map[string][]string{
		"fc05_write_coil_173_on":         {"write-coil", "--dry-run", "172", "on"},
		"fc06_write_register_2_to_3":     {"write-register", "--dry-run", "1", "3"},
		"fc15_write_10_coils_from_20":    {"write-coils", "--dry-run", "19", "1011001110"},
		"fc16_write_2_regs_from_2":       {"write-registers", "--dry-run", "1", "10", "258"},
		"fc21_write_file_record_1_group": {"write-file-record", "--dry-run", "4", "7", "0x06AF", "0x04BE", "0x100D"},
	}
	found := 0
	for _, f := range golden.MustLoad(t) {
		args, ok := want[f.Name]
		if !ok {
			continue
		}
		found++
		out := mustRun(t, args...)
		adu, err := golden.Hex(out)
		if err != nil || len(adu) != len(f.Request) || string(adu[2:]) != string(f.Request[2:]) {
			t.Errorf("plcctl %v = %s, want golden %s (transaction id aside)", args, strings.TrimSpace(out), spacedHex(f.Request))
		}
	}
	if found != len(want) {
		t.Errorf("found %d of %d golden frames", found, len(want))
	}
}

// TestTypedRoundTrips writes and reads back every type in every word order
// through the simulator, and checks the registers against plc.Encode.
func TestTypedRoundTrips(t *testing.T) {
	s := startSim(t)
	values := map[plc.Type][]string{
		plc.Uint16: {"0", "65535", "4660"}, plc.Int16: {"-32768", "32767", "-1"},
		plc.Uint32: {"0", "4294967295", "123456789"}, plc.Int32: {"-2147483648", "2147483647", "-2"},
		plc.Uint64: {"18446744073709551615", "1"}, plc.Int64: {"-9223372036854775808", "-2"},
		plc.Float32: {"123.456", "-1.5", "1e-45"}, plc.Float64: {"3.141592653589793", "-1e308"},
		plc.Hex: {"0xBEEF", "0x0001"}, plc.Bits: {"1000000000000001"}, plc.String: {"PLC-01"},
	}
	for _, typ := range plc.Types() {
		for _, o := range []plc.WordOrder{plc.ABCD, plc.CDAB, plc.BADC, plc.DCBA} {
			t.Run(typ.String()+"/"+o.String(), func(t *testing.T) {
				vals := values[typ]
				flags := []string{"--type", typ.String(), "--word-order", strings.ToLower(o.String()), "-a", s.Addr}
				mustRun(t, append(append([]string{"write-registers", "10"}, vals...), flags...)...)
				want, _ := plc.EncodeText(typ, o, vals...)
				if got := s.HoldingRegisters(10, uint16(len(want))); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("registers = %04X, want %04X", got, want)
				}
				n := len(vals)
				if typ == plc.String {
					n = len(want)
				}
				out := mustRun(t, append([]string{"read-holding-registers", "10", fmt.Sprint(n), "-o", "json"}, flags...)...)
				var got struct{ Values []any }
				if err := json.Unmarshal([]byte(out), &got); err != nil {
					t.Fatal(err)
				}
				for i, v := range got.Values {
					back, err := plc.ParseValue(typ, fmt.Sprint(v))
					want, _ := plc.ParseValue(typ, vals[i])
					if f, ok := v.(float64); ok && typ != plc.Float32 && typ != plc.Float64 {
						back, err = plc.ParseValue(typ, jsonInt(out, i, f))
					}
					if err != nil || back != want {
						t.Errorf("value %d read back as %v (%v), want %v", i, v, err, vals[i])
					}
				}
			})
		}
	}
}

// jsonInt returns the i-th number of "values" exactly as written (float64
// would round 64-bit integers).
func jsonInt(out string, i int, _ float64) string {
	var raw struct{ Values []json.Number }
	d := json.NewDecoder(strings.NewReader(out))
	d.UseNumber()
	if err := d.Decode(&raw); err != nil || i >= len(raw.Values) {
		return ""
	}
	return raw.Values[i].String()
}

// TestReadSplitsLargeCounts: a count beyond one request's limit works.
func TestReadSplitsLargeCounts(t *testing.T) {
	s := simtest.Start(t, simulator.Config{})
	for i := range 300 {
		s.SetHoldingRegisters(uint16(i), uint16(i))
	}
	out := mustRun(t, "read-holding-registers", "0", "150", "--type", "uint32", "-o", "json", "-a", s.Addr)
	var got struct {
		Count  int
		Values []uint32
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Count != 150 || len(got.Values) != 150 {
		t.Fatalf("read 150 uint32 = %q, %v", out, err)
	}
	if got.Values[149] != 298<<16|299 {
		t.Errorf("value 149 = %#x, want %#x", got.Values[149], 298<<16|299)
	}
	s.SetCoils(2990, true)
	out = mustRun(t, "read-coils", "0", "3000", "-o", "json", "-a", s.Addr)
	if !strings.Contains(out, `"count":3000`) || strings.Count(out, "true") != 1 {
		t.Errorf("read 3000 coils: %.200s", out)
	}
}

// TestTrace: --trace shows every frame sent and received, in hex, on stderr.
func TestTrace(t *testing.T) {
	s := startSim(t)
	s.SetHoldingRegisters(107, 0x022B, 0, 0x64)
	r := runCLI(t, "--trace", "--log-format", "json", "read-holding-registers", "107", "3", "-a", s.Addr)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{`"tx":"`, `"rx":"`, "0103006b0003", "0103060" + "22b00000064"} {
		if !strings.Contains(strings.ToLower(r.stderr), want) {
			t.Errorf("--trace stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if r.stdout != "107  555\n108  0\n109  100\n" {
		t.Errorf("stdout = %q, want only the data", r.stdout)
	}
}

func TestAddressEnv(t *testing.T) {
	s := startSim(t)
	s.SetHoldingRegisters(0, 7)
	t.Setenv(addressEnv, s.Addr)
	if out := mustRun(t, "read-holding-registers", "0"); out != "0  7\n" {
		t.Errorf("with %s set: %q", addressEnv, out)
	}
}

// TestUnitID proves --unit reaches the wire for every connection path,
// including unit 0 (plc.Options treats 0 as "default"): a gateway-mode
// simulator serving only unit 5 (plus 0 and 255) answers 0B to any other.
func TestUnitID(t *testing.T) {
	s := simtest.Start(t, simulator.Config{UnitIDs: []uint8{5}})
	s.SetHoldingRegisters(0, 7)
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"unit 5 read", []string{"--unit", "5", "read-holding-registers", "0"}, 0},
		{"unit 0 read", []string{"--unit", "0", "read-holding-registers", "0"}, 0},
		{"unit 0 write", []string{"--unit", "0", "write-register", "1", "9"}, 0},
		{"unit 0 bench write", []string{"--unit", "0", "bench", "--requests", "20", "--function", "write"}, 0},
		{"unit 1 not served", []string{"--unit", "1", "read-holding-registers", "0"}, 3},
		{"unit 7 bench", []string{"--unit", "7", "bench", "--requests", "5", "--function", "write"}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, append(tc.args, "-a", s.Addr)...)
			if r.code != tc.code {
				t.Fatalf("plcctl %v: exit %d, want %d\nstderr: %s", tc.args, r.code, tc.code, r.stderr)
			}
		})
	}
}

// TestRetriesFlag: a read whose connection is closed under it is resent on
// the next connection with --retries 1 (the default) and fails with exit 1
// with --retries 0; a write is never resent, whatever --retries says.
func TestRetriesFlag(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		sent uint64 // requests of that function the simulator received
		fc   uint8
	}{
		{"read retried", []string{"read-holding-registers", "0"}, 0, 2, 3},
		{"read not retried", []string{"--retries", "0", "read-holding-registers", "0"}, 1, 1, 3},
		{"write never retried", []string{"--retries", "3", "write-register", "0", "5"}, 1, 1, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := simtest.Start(t, simulator.Config{})
			s.SetFaults(simulator.FaultRule{Action: simulator.FaultCloseFIN, Count: 1})
			r := runCLI(t, append(tc.args, "-a", s.Addr)...)
			if r.code != tc.code {
				t.Fatalf("plcctl %v: exit %d, want %d\nstderr: %s", tc.args, r.code, tc.code, r.stderr)
			}
			if n := s.FunctionRequests(tc.fc); n != tc.sent {
				t.Fatalf("the simulator received %d requests, want %d", n, tc.sent)
			}
		})
	}
}

// TestLogLevelFlag: --log-level debug shows one line per transaction on
// stderr; the default (warn) shows none; stdout carries only data.
func TestLogLevelFlag(t *testing.T) {
	s := startSim(t)
	quiet := runCLI(t, "read-holding-registers", "0", "-a", s.Addr, "--log-format", "json")
	debug := runCLI(t, "read-holding-registers", "0", "-a", s.Addr, "--log-format", "json", "--log-level", "debug")
	if quiet.code != 0 || debug.code != 0 {
		t.Fatalf("exit %d / %d", quiet.code, debug.code)
	}
	if strings.Contains(quiet.stderr, `"transaction"`) {
		t.Fatalf("default level logged transactions:\n%s", quiet.stderr)
	}
	if !strings.Contains(debug.stderr, `"message":"transaction"`) {
		t.Fatalf("--log-level debug logged no transaction:\n%s", debug.stderr)
	}
	if quiet.stdout != debug.stdout {
		t.Fatalf("log level changed stdout: %q vs %q", quiet.stdout, debug.stdout)
	}
}
