package interop_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// mbpollValues parses mbpoll's "[ref]: \tvalue" lines.
func mbpollValues(out string) map[int]string {
	re := regexp.MustCompile(`(?m)^\[(\d+)\]:\s+(\S+)`)
	vals := map[int]string{}
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		ref, _ := strconv.Atoi(m[1])
		vals[ref] = m[2]
	}
	return vals
}

// TestMbpollAgainstPlcsim drives plcsim with mbpoll (libmodbus 3.1.6 inside):
// all four tables, single and multiple writes, 32-bit values in both word
// orders, and an illegal address. mbpoll's -r is 1-based: -r 1 is PDU
// address 0.
func TestMbpollAgainstPlcsim(t *testing.T) {
	mbpoll := needPeer(t, "mbpoll", "mbpoll")
	s := simtest.Start(t, simulator.Config{})
	port := s.Addr[strings.LastIndexByte(s.Addr, ':')+1:]
	s.SetInputRegisters(9, 10, 11, 12)
	s.SetDiscreteInputs(196, true, false, true, true)
	run := func(t *testing.T, args ...string) result {
		t.Helper()
		base := []string{"-m", "tcp", "-p", port, "-a", "1", "-o", "2", "-1"}
		return runPeer(t, 20*time.Second, mbpoll, append(append(base, args...), "127.0.0.1")...)
	}
	write := func(t *testing.T, flags []string, values ...string) result {
		t.Helper()
		base := []string{"-m", "tcp", "-p", port, "-a", "1", "-o", "2", "-1"}
		args := append(append(base, flags...), "127.0.0.1")
		return runPeer(t, 20*time.Second, mbpoll, append(args, values...)...)
	}
	cases := []struct {
		name  string
		do    func(t *testing.T) result
		code  int
		check func(t *testing.T, r result)
		fc    uint8 // the function code the case must have used
	}{
		{"write single holding register (FC 6)", func(t *testing.T) result { return write(t, []string{"-t", "4", "-r", "5"}, "4242") }, 0,
			func(t *testing.T, r result) { wantRegs(t, s.HoldingRegisters(4, 1), 4242) }, 6},
		{"write multiple holding registers (FC 16)", func(t *testing.T) result { return write(t, []string{"-t", "4", "-r", "1"}, "5", "6", "7") }, 0,
			func(t *testing.T, r result) { wantRegs(t, s.HoldingRegisters(0, 3), 5, 6, 7) }, 16},
		{"read holding registers (FC 3)", func(t *testing.T) result { return run(t, "-t", "4", "-r", "1", "-c", "3") }, 0,
			func(t *testing.T, r result) { wantValues(t, r, map[int]string{1: "5", 2: "6", 3: "7"}) }, 3},
		{"read input registers (FC 4)", func(t *testing.T) result { return run(t, "-t", "3", "-r", "10", "-c", "3") }, 0,
			func(t *testing.T, r result) { wantValues(t, r, map[int]string{10: "10", 11: "11", 12: "12"}) }, 4},
		{"write single coil (FC 5)", func(t *testing.T) result { return write(t, []string{"-t", "0", "-r", "8"}, "1") }, 0,
			func(t *testing.T, r result) { wantBits(t, s.Coils(7, 1), true) }, 5},
		{"write multiple coils (FC 15)", func(t *testing.T) result { return write(t, []string{"-t", "0", "-r", "1"}, "1", "0", "1", "1") }, 0,
			func(t *testing.T, r result) { wantBits(t, s.Coils(0, 4), true, false, true, true) }, 15},
		{"read coils (FC 1)", func(t *testing.T) result { return run(t, "-t", "0", "-r", "1", "-c", "4") }, 0,
			func(t *testing.T, r result) { wantValues(t, r, map[int]string{1: "1", 2: "0", 3: "1", 4: "1"}) }, 1},
		{"read discrete inputs (FC 2)", func(t *testing.T) result { return run(t, "-t", "1", "-r", "197", "-c", "4") }, 0,
			func(t *testing.T, r result) { wantValues(t, r, map[int]string{197: "1", 198: "0", 199: "1", 200: "1"}) }, 2},
		{"int32 default word order is CDAB", func(t *testing.T) result { return write(t, []string{"-t", "4:int", "-r", "21"}, "123456789") }, 0,
			func(t *testing.T, r result) { wantRegs(t, s.HoldingRegisters(20, 2), 0xCD15, 0x075B) }, 16},
		{"int32 -B is ABCD", func(t *testing.T) result { return write(t, []string{"-t", "4:int", "-B", "-r", "31"}, "123456789") }, 0,
			func(t *testing.T, r result) { wantRegs(t, s.HoldingRegisters(30, 2), 0x075B, 0xCD15) }, 16},
		{"float -B is ABCD", func(t *testing.T) result { return write(t, []string{"-t", "4:float", "-B", "-r", "41"}, "123.456") }, 0,
			func(t *testing.T, r result) { wantRegs(t, s.HoldingRegisters(40, 2), 0x42F6, 0xE979) }, 16},
		{"float read back CDAB", func(t *testing.T) result {
			s.SetHoldingRegisters(50, 0xE979, 0x42F6)
			return run(t, "-t", "4:float", "-r", "51")
		}, 0, func(t *testing.T, r result) { wantValues(t, r, map[int]string{51: "123.456"}) }, 3},
		{"illegal address is an exception", func(t *testing.T) result { return run(t, "-t", "4", "-r", "65536", "-c", "2") }, 1,
			func(t *testing.T, r result) {
				if !strings.Contains(r.stdout+r.stderr, "Illegal data address") {
					t.Fatalf("mbpoll output lacks the exception:\n%s\n%s", r.stdout, r.stderr)
				}
			}, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := s.FunctionRequests(tc.fc)
			r := tc.do(t)
			if tc.fc != 0 && s.FunctionRequests(tc.fc) == before {
				t.Fatalf("mbpoll did not use function code %d", tc.fc)
			}
			if r.code != tc.code {
				t.Fatalf("mbpoll exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			tc.check(t, r)
		})
	}
	if st := s.Stats(); st.Resets != 0 || st.FramingFaults != 0 || st.MalformedPDUs != 0 || st.PeerResets != 0 {
		t.Fatalf("plcsim saw faults from mbpoll: %+v", st)
	}
}

func wantRegs(t *testing.T, got []uint16, want ...uint16) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("registers %04X, want %04X", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("registers %04X, want %04X", got, want)
		}
	}
}

func wantBits(t *testing.T, got []bool, want ...bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("bits %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("bits %v, want %v", got, want)
		}
	}
}

func wantValues(t *testing.T, r result, want map[int]string) {
	t.Helper()
	got := mbpollValues(r.stdout)
	for ref, v := range want {
		if got[ref] != v {
			t.Fatalf("mbpoll [%d] = %q, want %q\n%s", ref, got[ref], v, r.stdout)
		}
	}
}
