package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/plcctl/plcctl/access"
	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
	"github.com/plcctl/plcctl/transport"
)

// TestPlcsimAddress: the first-run hint names where plcsim really listens.
func TestPlcsimAddress(t *testing.T) {
	if plcsimAddress != simulator.DefaultListen {
		t.Errorf("plcsimAddress %q, simulator.DefaultListen %q", plcsimAddress, simulator.DefaultListen)
	}
}

// TestErrorSentences: what a person reads on stderr is one sentence per
// failure: what failed, on which device and items, why, what to try.
func TestErrorSentences(t *testing.T) {
	s := startSim(t)
	silent, _ := silentListener(t)
	closed := closedPort(t)
	gw := simtestGateway(t)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"refused, address given", []string{"read-holding-registers", "100", "10", "-a", closed}, 1,
			"plcctl: read-holding-registers 100..109 on " + closed + " unit 1: nothing listens on " + closed +
				" (connection refused); check the address and port (-a HOST[:PORT]) and that the device is on\n"},
		{"read timeout", []string{"read-coils", "0", "8", "-t", "150ms", "-a", silent}, 1,
			"plcctl: read-coils 0..7 on " + silent + " unit 1: no answer within 150ms; check the unit id (-u; behind a gateway " +
				"it is the serial address) and that the device serves this function, or raise --timeout\n"},
		{"write timeout: outcome unknown", []string{"write-register", "7", "1", "-t", "150ms", "-a", silent}, 1,
			"plcctl: write-register 7 on " + silent + " unit 1: no answer within 150ms; outcome unknown: the write was sent " +
				"and may have been applied; read the values back before writing again\n"},
		{"exception 02", []string{"-u", "3", "read-input-registers", "999", "2", "-a", s.Addr}, 3,
			"plcctl: read-input-registers 999..1000 on " + s.Addr + " unit 3: the device answered exception 02 illegal data address; " +
				"the items are outside what the device serves: check ADDR and COUNT, and --one-based if its manual numbers from 1\n"},
		{"exception 0B behind a gateway", []string{"-u", "9", "read-holding-registers", "0", "-a", gw}, 3,
			"plcctl: read-holding-registers 0 on " + gw + " unit 9: the device answered exception 0B gateway target device failed to respond; " +
				"no device answered behind the gateway at unit 9: check -u (the serial address) and the serial line\n"},
		// Exception 02 names what the command addressed, not always ADDR and COUNT.
		{"exception 02, identification object", []string{"read-device-id", "--level", "individual", "--object", "0x90", "-a", gw}, 3,
			"plcctl: read-device-id object 0x90 on " + gw + " unit 1: the device answered exception 02 illegal data address; " +
				"the device has no identification object of that id (--level extended lists the objects it has)\n"},
		{"exception 02, mask write", []string{"mask-write-register", "20", "0xFFFE", "1", "-a", gw}, 3,
			"plcctl: mask-write-register 20 on " + gw + " unit 1: the device answered exception 02 illegal data address; " +
				"the item is outside what the device serves: check ADDR, and --one-based if its manual numbers from 1\n"},
		{"exception 02, raw", []string{"raw", "3", "00", "20", "00", "01", "-a", gw}, 3,
			"plcctl: raw function 3 on " + gw + " unit 1: the device answered exception 02 illegal data address; " +
				"the data bytes name items the device does not serve: check the address and count in them (see the frame with --dry-run)\n"},
		{"short raw request reset", []string{"raw", "3", "00", "6B", "00", "-a", s.Addr}, 1,
			"the device reset the connection: the request is malformed for function 3 (pdu length: read holding registers pdu is 4 bytes, want 5); " +
				"give the data bytes that function expects (see the frame with --dry-run)\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d", r.code, tc.code)
			}
			// One line is the sentence; log lines may come before or after it.
			var last string
			for _, l := range strings.SplitAfter(r.stderr, "\n") {
				if strings.HasPrefix(l, "plcctl: ") {
					last = l
				}
			}
			if !strings.HasSuffix(last, tc.want) || strings.Count(r.stderr, "plcctl: ") != 1 {
				t.Errorf("stderr:\n%s\nwant the last line to end with:\n%s", r.stderr, tc.want)
			}
			// A device that does not answer does not close either: the
			// graceful close then waits for its FIN in vain, which is no
			// second message after the sentence (it was "WRN no FIN from
			// peer" after it).
			if strings.Contains(tc.name, "timeout") && r.stderr != tc.want[strings.Index(tc.want, "plcctl: "):] {
				t.Errorf("stderr holds more than the sentence:\n%s", r.stderr)
			}
			for _, layer := range []string{"transport:", "plc:", "modbus:", "context deadline exceeded"} {
				if strings.Contains(last, layer) {
					t.Errorf("the sentence shows the Go chain (%q): %s", layer, last)
				}
			}
		})
	}
}

// TestIllegalAddressHint: what exception 02 tells to check follows what the
// command addresses (an identification object, a file record, a FIFO, one
// item), not ADDR and COUNT for all.
func TestIllegalAddressHint(t *testing.T) {
	tests := []struct{ cmd, want string }{
		{"read-holding-registers", "check ADDR and COUNT, and --one-based"},
		{"read-device-id", "no identification object of that id"},
		{"read-file-record", "no such file or record: check FILE, RECORD"},
		{"write-file-record", "no such file or record: check FILE, RECORD"},
		{"read-fifo", "no FIFO queue at ADDR: check ADDR, and --one-based"},
		{"write-register", "check ADDR, and --one-based"},
		{"write-coil", "check ADDR, and --one-based"},
		{"mask-write-register", "check ADDR, and --one-based"},
		{"raw", "check the address and count in them"},
		{"get", "check their address: and the numbering: of the plant file"},
	}
	for _, tc := range tests {
		e := &opError{cmd: tc.cmd, err: &modbus.ExceptionError{Function: modbus.FuncReadHoldingRegisters, Code: modbus.IllegalDataAddress}}
		_, try := explain(e, hintContext{addr: "127.0.0.1:5020", unit: 1})
		if !strings.Contains(try, tc.want) {
			t.Errorf("%s: exception 02 hint %q, want it to contain %q", tc.cmd, try, tc.want)
		}
		if tc.cmd != "read-holding-registers" && strings.Contains(try, "COUNT") {
			t.Errorf("%s takes no COUNT, but the hint says: %q", tc.cmd, try)
		}
	}
}

// simtestGateway starts a simulator in gateway mode serving only unit 1.
func simtestGateway(t *testing.T) string {
	return simtest.Start(t, simulator.Config{UnitIDs: []uint8{1}, HoldingRegisters: 10}).Addr
}

// TestFirstRun: with no address given and nothing on the default port, the
// message says where plcsim listens and how to point plcctl at it (issue 13:
// "plcsim &" then "plcctl read-holding-registers 0" only said refused).
func TestFirstRun(t *testing.T) {
	saved := defaultAddress
	defaultAddress = closedPort(t) // stands in for 127.0.0.1:502, on which nothing may listen here
	t.Cleanup(func() { defaultAddress = saved })
	t.Setenv(addressEnv, "")
	r := runCLI(t, "read-holding-registers", "0")
	want := "plcctl: read-holding-registers 0 on " + defaultAddress + " unit 1: nothing listens on " + defaultAddress +
		" (connection refused); plcsim listens on 127.0.0.1:5020 by default: try -a 127.0.0.1:5020, or give the device's " +
		"address with -a HOST[:PORT] (or PLCCTL_ADDRESS)\n"
	if r.code != exitFailure || r.stderr != want {
		t.Errorf("exit %d, stderr:\n%s\nwant:\n%s", r.code, r.stderr, want)
	}
	// Given by the environment, it is the user's address: no plcsim hint.
	t.Setenv(addressEnv, defaultAddress)
	if r := runCLI(t, "read-holding-registers", "0"); strings.Contains(r.stderr, "plcsim") {
		t.Errorf("PLCCTL_ADDRESS given: %s", r.stderr)
	}
}

// TestPlantAddressHint: a tag command dials its device's address: from the
// plant file; when nothing listens there the advice says so, not "plcsim
// listens on 127.0.0.1:5020 by default: try -a 127.0.0.1:5020", which
// pointed away from the address the file gives.
func TestPlantAddressHint(t *testing.T) {
	closed := closedPort(t)
	file := filepath.Join(t.TempDir(), "plant.yaml")
	os.WriteFile(file, []byte("version: 1\ndevices:\n  - name: pumps\n    address: "+closed+"\n    tags:\n      - {name: run, table: coil, address: 0}\n"), 0o644)
	t.Setenv(addressEnv, "")
	r := runCLI(t, "get", "--plant", file, "run")
	want := "nothing listens on " + closed + " (connection refused); it is the address of device pumps in the plant file: " +
		"check that the device (or plcsim --plant with that file) is running, or give -a HOST[:PORT]\n"
	if r.code != exitFailure || !strings.HasSuffix(r.stderr, want) || strings.Contains(r.stderr, "5020") {
		t.Errorf("exit %d, stderr:\n%s\nwant it to end:\n%s", r.code, r.stderr, want)
	}
}

// TestErrorChainAtDebug: the full Go chain is logged at --log-level debug,
// and not by default.
func TestErrorChainAtDebug(t *testing.T) {
	closed := closedPort(t)
	quiet := runCLI(t, "read-coils", "0", "-a", closed)
	debug := runCLI(t, "read-coils", "0", "-a", closed, "--log-level", "debug")
	if strings.Contains(quiet.stderr, "chain") {
		t.Errorf("default stderr has the chain: %s", quiet.stderr)
	}
	if !strings.Contains(debug.stderr, "error chain") || !strings.Contains(debug.stderr, "transport: dial tcp "+closed+": connect: connection refused") {
		t.Errorf("debug stderr lacks the chain: %s", debug.stderr)
	}
}

// TestErrorTypesKept: an opError keeps the types of its cause for errors.As
// and errors.Is, through plc, transport and net.
func TestErrorTypesKept(t *testing.T) {
	a := &app{opts: sharedOptions{address: closedPort(t), unit: 1, timeout: 200e6}}
	_, err := a.dial(context.Background(), 1, a.log)
	if err == nil {
		t.Fatal("dial of a closed port succeeded")
	}
	oe := &opError{cmd: "read-coils", err: err}
	var ne *net.OpError
	if !errors.As(oe, &ne) || ne.Op != "dial" || !errors.Is(oe, syscall.ECONNREFUSED) {
		t.Errorf("opError %v lost *net.OpError or ECONNREFUSED", oe)
	}
	exc := &transport.OpError{Op: "read coils", Err: &modbus.ExceptionError{Function: 1, Code: modbus.IllegalDataAddress}}
	oe = &opError{cmd: "read-coils", span: "0..7", err: exc}
	var top *transport.OpError
	if !errors.As(oe, &top) || !errors.Is(oe, modbus.IllegalDataAddress) || exitCode(oe) != exitException {
		t.Errorf("opError %v lost the exception", oe)
	}
	if got := oe.Error(); got != "read-coils 0..7: the device answered exception 02 illegal data address" {
		t.Errorf("Error() = %q", got)
	}
}

// TestExplainCauses covers causes the end-to-end tests cannot make on
// loopback: name resolution, unreachable networks, a dead link, bad answers.
func TestExplainCauses(t *testing.T) {
	h := hintContext{addr: "plc.example:502", unit: 1, timeout: 1e9}
	dialErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: &net.OpError{Op: "connect", Err: err}}
	}
	tests := []struct {
		err      error
		why, try string
	}{
		{&net.DNSError{Err: "no such host", Name: "plc.example", IsNotFound: true}, `cannot resolve host "plc.example"`, "check the host name"},
		{dialErr(syscall.EHOSTUNREACH), "plc.example:502 is unreachable", "check the address and this machine's network"},
		{dialErr(syscall.ENETUNREACH), "plc.example:502 is unreachable", "check the address"},
		{&transport.OpError{Op: "read coils", Err: transport.ErrLinkDead}, "the link went dead", "check that the device is on"},
		{&transport.OpError{Op: "read coils", Err: errors.Join(transport.ErrNotConnected, context.DeadlineExceeded)},
			"the link was down and did not come back within 1s", "raise --timeout"},
		// Why the last link went down, which only a "link down" warning said.
		{&transport.OpError{Op: "read coils", Err: fmt.Errorf("%w: %w (the link went down: %w)", transport.ErrNotConnected, context.DeadlineExceeded, io.EOF)},
			"the device closed the connection, and the link did not come back within 1s", "raise --timeout"},
		{&transport.OpError{Op: "read coils", Err: fmt.Errorf("%w: %w (the link went down: %w)", transport.ErrNotConnected, context.DeadlineExceeded, transport.ErrLinkDead)},
			"the link went dead (requests timed out with nothing arriving) and did not come back within 1s", "raise --timeout"},
		{&transport.OpError{Op: "read coils", Err: &modbus.FrameError{Where: "pdu", Offset: 1, Field: "byte count", Reason: "3, want 1", Err: modbus.ErrInconsistent}},
			"the device sent a malformed answer (pdu byte 1 (byte count): 3, want 1)", "--trace"},
		{&transport.OpError{Op: "read coils", Err: transport.ErrTooManyStale}, "answers to requests that were not asked", "no other client"},
		{&transport.OpError{Op: "read coils", Err: syscall.ECONNRESET}, "the device reset the connection", "--trace"},
		{&transport.OpError{Op: "read coils", Err: fmt.Errorf("read: %w", io.EOF)}, "the device closed the connection", "--trace"},
		{context.Canceled, "interrupted", ""},
		{&modbus.ExceptionError{Function: 3, Code: modbus.GatewayPathUnavailable}, "exception 0A gateway path unavailable", "the gateway has no path to unit 1"},
		{&modbus.ExceptionError{Function: 3, Code: modbus.ServerDeviceBusy}, "exception 06 server device busy", "try again later"},
	}
	for _, tc := range tests {
		why, try := explain(&opError{cmd: "read-coils", err: tc.err}, h)
		if !strings.Contains(why, tc.why) || !strings.Contains(try, tc.try) || (tc.try == "") != (try == "") {
			t.Errorf("%v:\n why %q, want %q\n try %q, want %q", tc.err, why, tc.why, try, tc.try)
		}
	}
}

// TestPingGatewayExceptionsAreLost: behind a gateway, exception 0B means no
// device answered: ping counts it as lost and exits 1 (issue 13: it said
// "answer from ..." and exited 0). Exception 02 is still an answer.
func TestPingGatewayExceptionsAreLost(t *testing.T) {
	gw := simtestGateway(t)
	r := runCLI(t, "ping", "-u", "9", "--count", "2", "--rate", "100", "-a", gw)
	if r.code != exitFailure || !strings.Contains(r.stdout, "no answer from "+gw+" unit 9: seq=1 exception 0B gateway target device failed to respond") ||
		!strings.Contains(r.stdout, "2 sent, 0 answered, 100.0% loss") {
		t.Errorf("ping of an absent unit: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, "ping", "-u", "9", "--count", "1", "-o", "json", "-a", gw)
	if !strings.Contains(r.stdout, `{"event":"lost","seq":1,`) {
		t.Errorf("ping -o json: %s", r.stdout)
	}
	r = runCLI(t, "ping", "500", "-u", "1", "--count", "1", "-a", gw) // 10 registers: 500 is out of range
	if r.code != 0 || !strings.Contains(r.stdout, "(exception 02 illegal data address)") {
		t.Errorf("ping exception 02: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestArgumentCount: a usage error counts the arguments in English, as
// the user typed them: "1 argument", not "1 arguments".
func TestArgumentCount(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"write-register"}, "want ADDR VALUE, got no arguments"},
		{[]string{"write-register", "5"}, "want ADDR VALUE, got 1 argument\n"},
		{[]string{"write-register", "5", "6", "7"}, "want ADDR VALUE, got 3 arguments"},
		{[]string{"read-holding-registers", "1", "2", "3"}, "want ADDR [COUNT], got 3 arguments"},
	} {
		var stdout, stderr strings.Builder
		code := run(context.Background(), append([]string{"-a", "127.0.0.1:1"}, tc.args...), &stdout, &stderr)
		if code != 2 || stdout.Len() != 0 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("plcctl %s: exit %d, stdout %q, stderr %q; want exit 2, nothing on stdout, %q on stderr",
				strings.Join(tc.args, " "), code, stdout.String(), stderr.String(), tc.want)
		}
	}
}

// TestShorthandSuggestsLongFlag: -c, which watch spells --count, gets the
// long flag named. (ping takes -c itself, as ping(8) does: TestPing.)
func TestShorthandSuggestsLongFlag(t *testing.T) {
	for _, cmd := range []string{"watch"} {
		var stdout, stderr strings.Builder
		code := run(context.Background(), []string{"-a", "127.0.0.1:1", cmd, "-c", "3", "0"}, &stdout, &stderr)
		if want := "did you mean --count?"; code != 2 || stdout.Len() != 0 || !strings.Contains(stderr.String(), want) {
			t.Errorf("plcctl %s -c 3: exit %d, stdout %q, stderr %q; want exit 2 and %q", cmd, code, stdout.String(), stderr.String(), want)
		}
	}
}

// TestValueSentences: a value a write command cannot send is one sentence
// that names the argument (as the usage line does), the value and the
// range, and for a negative value the --type that takes it (it was "values:
// value 65536 does not fit uint16: out of range 0..65535").
func TestValueSentences(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"write-register", "0", "65536"}, "VALUE 65536 is out of range for a register (0..65535)"},
		{[]string{"write-register", "0", "0x10000"}, "VALUE 0x10000 is out of range for a register (0..65535)"},
		{[]string{"write-register", "0", "-1"}, "VALUE -1 is out of range for a register (0..65535); give --type int16 to write a signed value"},
		{[]string{"write-register", "0", "40000", "--type", "int16"}, "VALUE 40000 is out of range for --type int16 (-32768..32767)"},
		{[]string{"write-register", "0", "abc"}, "VALUE abc is not an integer"},
		{[]string{"write-register", "0", ""}, `VALUE "" is not an integer`},
		{[]string{"write-register", "0", "xyz", "--type", "hex"}, "VALUE xyz is not hex digits (--type hex)"},
		{[]string{"write-registers", "0", "1", "65536"}, "V 65536 (value 2 of 2) is out of range for a register (0..65535)"},
		{[]string{"write-registers", "0", "-1"}, "V -1 is out of range for a register (0..65535); give --type int16 to write a signed value"},
		{[]string{"write-registers", "0", "1", "-5", "--type", "uint32"},
			"V -5 (value 2 of 2) is out of range for --type uint32 (0..4294967295); give --type int32 to write a signed value"},
		{[]string{"write-registers", "0", "1e400", "--type", "float64"}, "V 1e400 is out of range for --type float64 (±1.798e+308)"},
		{[]string{"write-registers", "0", "x", "--type", "float32"}, "V x is not a number (--type float32)"},
		{[]string{"read-write-registers", "0", "1", "10", "65536"}, "V 65536 is out of range for a register (0..65535)"},
		{[]string{"write-file-record", "4", "1", "7", "-1"}, "V -1 (value 2 of 2) is out of range for a register (0..65535); give --type int16 to write a signed value"},
		{[]string{"mask-write-register", "0", "0x1FFFF", "0"}, "AND 0x1FFFF is out of range for a register (0..65535)"},
		{[]string{"mask-write-register", "0", "0", "-1"}, "OR -1 is out of range for a register (0..65535)"}, // no --type to suggest
		{[]string{"write-coil", "0", "2"}, "coil value 2 is not on, off, 1, 0, true or false"},
		{[]string{"write-coils", "0", "1", "2"}, "V 2 (value 2 of 2) is not on, off, 1, 0, true or false, nor a run of 0 and 1 digits such as 10110"},
		{[]string{"write-coils", "0", "10201"}, "V 10201 is not on, off, 1, 0, true or false, nor a run of 0 and 1 digits such as 10110"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runCLI(t, append(tc.args, "-a", "127.0.0.1:1")...)
			first, _, _ := strings.Cut(r.stderr, "\n")
			if want := "plcctl " + tc.args[0] + ": " + tc.want; r.code != exitUsage || first != want {
				t.Errorf("plcctl %q: exit %d, first line %q, want exit 2 and %q", tc.args, r.code, first, want)
			}
		})
	}
}

// TestIllegalFunctionHint: exception 01 to a write may mean a device that
// is read-only or forbids writes (plcsim --read-only answers 01 to every
// write), which the hint now says; it said only "the device does not
// support this function", which is wrong for a write the device supports.
// A read's 01 keeps the plain hint.
func TestIllegalFunctionHint(t *testing.T) {
	s := simtest.Start(t, simulator.Config{Security: simulator.Security{Policy: access.Policy{ReadOnly: true}}})
	const (
		plain    = "; the device does not support this function\n"
		readOnly = "; the device does not support this function; or the device may be read-only or forbid writes (from this client, or in its present mode)\n"
	)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"write-register", []string{"write-register", "0", "1"}, readOnly},
		{"write-coils", []string{"write-coils", "0", "1", "0"}, readOnly},
		{"mask-write-register", []string{"mask-write-register", "0", "0xFF", "0"}, readOnly},
		{"read-write-registers", []string{"read-write-registers", "0", "1", "0", "5"}, readOnly},
		{"raw write", []string{"raw", "6", "00", "00", "00", "01"}, readOnly},
		{"raw serial-only read", []string{"raw", "7"}, plain},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, append(tc.args, "-a", s.Addr)...)
			if r.code != exitException || !strings.HasSuffix(r.stderr, "exception 01 illegal function"+tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 3 and the sentence to end with:\n%s", r.code, r.stderr, tc.want)
			}
		})
	}
}

// TestRawException: raw's help says what an exception answer does, and raw
// does it: the sentence on stderr, exit 3, nothing on stdout (a write's
// failure object with -o json), the frame with --trace. The help said only
// "an exception answer exits 3", so a user looking for the PDU on stdout
// was not told where it went.
func TestRawException(t *testing.T) {
	s := startSim(t)
	const sentence = "the device answered exception 02 illegal data address;"
	for _, tc := range []struct {
		name   string
		args   []string
		stdout string
		stderr []string
	}{
		{"text", []string{"raw", "3", "03", "E8", "00", "01"}, "", []string{sentence}},
		{"json read", []string{"raw", "3", "03", "E8", "00", "01", "-o", "json"}, "", []string{sentence}},
		{"json write", []string{"raw", "6", "03", "E8", "00", "01", "-o", "json"},
			`{"function":"raw","unit":1,"table":"holding_registers","address":1000,"count":1,"error":"the device answered exception 02 illegal data address","sent":true,"outcome_unknown":false}` + "\n",
			[]string{sentence}},
		{"trace", []string{"raw", "3", "03", "E8", "00", "01", "--trace"}, "", []string{"rx=000100000003018302", sentence}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, append(tc.args, "-a", s.Addr)...)
			if r.code != exitException || r.stdout != tc.stdout || strings.Count(r.stderr, "plcctl: ") != 1 {
				t.Errorf("exit %d, stdout %q, want exit 3, stdout %q and one sentence; stderr:\n%s", r.code, r.stdout, tc.stdout, r.stderr)
			}
			for _, w := range tc.stderr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr:\n%s\nwant it to contain %q", r.stderr, w)
				}
			}
		})
	}
	help := mustRun(t, "raw", "--help")
	for _, w := range []string{"on stderr and\nexits 3", "stdout stays empty", "--trace shows the answer frame", exitCodesHelp} {
		if !strings.Contains(help, w) {
			t.Errorf("raw --help does not say %q:\n%s", w, help)
		}
	}
}

// TestExitCodesREADME: the README's exit-code table and the one every
// --help prints say the same.
func TestExitCodesREADME(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, _ := strings.Cut(string(readme), "### Exit codes\n")
	var b strings.Builder
	b.WriteString("Exit codes:\n")
	for _, l := range strings.Split(table, "\n") {
		f := strings.Split(l, "|")
		if len(f) != 4 || strings.TrimSpace(f[1]) == "Code" || strings.HasPrefix(strings.TrimSpace(f[1]), "-") {
			if b.Len() > len("Exit codes:\n") && !strings.HasPrefix(l, "|") {
				break
			}
			continue
		}
		fmt.Fprintf(&b, "  %s  %s\n", strings.TrimSpace(f[1]), strings.TrimSpace(f[2]))
	}
	if b.String() != exitCodesHelp {
		t.Errorf("README's exit codes:\n%s\n--help's:\n%s", b.String(), exitCodesHelp)
	}
}

// TestRawDataSaysWhatIsWrong: raw's data error names the character that is
// not a hex digit, or says the count of digits is odd; it only said "want
// hex bytes", which for "00 6" (a digit short) did not say what was wrong.
func TestRawDataSaysWhatIsWrong(t *testing.T) {
	for _, tc := range []struct {
		data []string
		want string
	}{
		{[]string{"00", "6"}, `data "00 6": 3 hex digits, an odd number: want two per byte, such as 00 6B 00 03`},
		{[]string{"00", "6G"}, `data "00 6G": 'G' is not a hex digit`},
		{[]string{"é0"}, `data "é0": byte 0xC3 is not a hex digit`},
	} {
		r := runCLI(t, append([]string{"raw", "--dry-run", "3"}, tc.data...)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("raw 3 %v: exit %d, stderr %q, want %q", tc.data, r.code, r.stderr, tc.want)
		}
	}
}
