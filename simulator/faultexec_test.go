package simulator_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

func read2(tid uint16) []byte { return adu(tid, 1, modbus.NewReadHoldingRegisters(0, 2)) }

// TestFaultActions checks the bytes each answer-changing action puts on the
// wire; registers 0 and 1 hold 0x0A0B and 0x0C0D.
func TestFaultActions(t *testing.T) {
	cases := []struct {
		name  string
		rule  simulator.FaultRule
		check func(t *testing.T, c *rawClient)
	}{
		{"wrong unit", simulator.FaultRule{Action: simulator.FaultWrongUnit, Count: 1}, func(t *testing.T, c *rawClient) {
			want := []byte{0, 1, 0, 0, 0, 7, 2, 3, 4, 0x0A, 0x0B, 0x0C, 0x0D}
			if got := c.roundTrip(read2(1)); !bytes.Equal(got, want) {
				t.Fatalf("answer % X, want % X", got, want)
			}
		}},
		{"wrong fc", simulator.FaultRule{Action: simulator.FaultWrongFunction, Count: 1}, func(t *testing.T, c *rawClient) {
			want := []byte{0, 1, 0, 0, 0, 7, 1, 4, 4, 0x0A, 0x0B, 0x0C, 0x0D}
			if got := c.roundTrip(read2(1)); !bytes.Equal(got, want) {
				t.Fatalf("answer % X, want % X", got, want)
			}
		}},
		{"short", simulator.FaultRule{Action: simulator.FaultShort, Count: 1}, func(t *testing.T, c *rawClient) {
			want := []byte{0, 1, 0, 0, 0, 5, 1, 3, 2, 0x0A, 0x0B}
			if got := c.roundTrip(read2(1)); !bytes.Equal(got, want) {
				t.Fatalf("answer % X, want % X", got, want)
			}
		}},
		{"bad byte count", simulator.FaultRule{Action: simulator.FaultBadByteCount, Count: 1}, func(t *testing.T, c *rawClient) {
			want := []byte{0, 1, 0, 0, 0, 7, 1, 3, 5, 0x0A, 0x0B, 0x0C, 0x0D}
			if got := c.roundTrip(read2(1)); !bytes.Equal(got, want) {
				t.Fatalf("answer % X, want % X", got, want)
			}
		}},
		{"junk", simulator.FaultRule{Action: simulator.FaultJunk, Junk: 3, Count: 1}, func(t *testing.T, c *rawClient) {
			c.write(read2(1))
			want := []byte{0xFF, 0xFF, 0xFF, 0, 1, 0, 0, 0, 7, 1, 3, 4, 0x0A, 0x0B, 0x0C, 0x0D}
			got := make([]byte, len(want))
			c.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
			if _, err := io.ReadFull(c.nc, got); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("bytes % X, %v; want % X", got, err, want)
			}
		}},
		{"split with gap", simulator.FaultRule{Action: simulator.FaultSplit, SplitAt: 7, Gap: 20 * time.Millisecond}, func(t *testing.T, c *rawClient) {
			want := []byte{0, 1, 0, 0, 0, 7, 1, 3, 4, 0x0A, 0x0B, 0x0C, 0x0D}
			if got := c.roundTrip(read2(1)); !bytes.Equal(got, want) {
				t.Fatalf("answer % X, want % X", got, want)
			}
		}},
		{"coalesce", simulator.FaultRule{Action: simulator.FaultCoalesce, Count: 1}, func(t *testing.T, c *rawClient) {
			c.write(read2(1))
			if got, err := c.readADU(100 * time.Millisecond); err == nil {
				t.Fatalf("held answer % X came before the next request", got)
			}
			c.write(read2(2))
			for _, tid := range []byte{1, 2} {
				if got, err := c.readADU(2 * time.Second); err != nil || got[1] != tid {
					t.Fatalf("answer % X, %v; want tid %d", got, err, tid)
				}
			}
		}},
		{"answer then close", simulator.FaultRule{Action: simulator.FaultAnswerClose}, func(t *testing.T, c *rawClient) {
			if got := c.roundTrip(read2(5)); got[1] != 5 || got[7] != 3 {
				t.Fatalf("answer % X, want tid 5 fc 3", got)
			}
			if err := c.readUntilError(2 * time.Second); !errors.Is(err, io.EOF) {
				t.Fatalf("after the answer: %v, want EOF", err)
			}
		}},
		{"nth on each connection", simulator.FaultRule{Action: simulator.FaultException, Exception: modbus.ServerDeviceBusy, Nth: 2},
			func(t *testing.T, c *rawClient) {
				for i, want := range []byte{0x03, 0x83, 0x03} {
					if got := c.roundTrip(read2(uint16(i))); got[7] != want {
						t.Fatalf("request %d: fc %02X, want %02X", i+1, got[7], want)
					}
				}
			}},
		{"unit and address conditions", simulator.FaultRule{Action: simulator.FaultException, Exception: modbus.ServerDeviceBusy,
			MatchUnit: true, UnitID: 2, MatchAddr: true, AddrFirst: 1, AddrLast: 1},
			func(t *testing.T, c *rawClient) {
				for i, tc := range []struct {
					unit       uint8
					addr, qty  uint16
					wantFaulty bool
				}{{1, 0, 2, false}, {2, 0, 1, false}, {2, 0, 2, true}, {2, 1, 1, true}, {2, 2, 5, false}} {
					got := c.roundTrip(adu(uint16(i), tc.unit, modbus.NewReadHoldingRegisters(tc.addr, tc.qty)))
					if (got[7] == 0x83) != tc.wantFaulty {
						t.Errorf("unit %d addr %d qty %d: answer % X, want faulted=%v", tc.unit, tc.addr, tc.qty, got, tc.wantFaulty)
					}
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := simtest.Start(t, simulator.Config{})
			s.SetHoldingRegisters(0, 0x0A0B, 0x0C0D)
			s.SetFaults(tc.rule)
			tc.check(t, dialRaw(t, s.Addr))
			if n := s.FaultCounts()[tc.rule.Action]; n == 0 {
				t.Errorf("FaultCounts()[%v] = 0 after the fault", tc.rule.Action)
			}
		})
	}
}

// TestFaultLogAndCounts: an injected fault is logged with the connection and
// transaction id and counted per action; Faults returns the rules in force.
func TestFaultLogAndCounts(t *testing.T) {
	log, buf := captureLogger(t)
	s := simtest.Start(t, simulator.Config{Logger: log})
	rules := []simulator.FaultRule{{Action: simulator.FaultWrongTID, Count: 2}, {Action: simulator.FaultWrongUnit, Count: 1}}
	s.SetFaults(rules...)
	if got := s.Faults(); len(got) != 2 || got[0] != rules[0] || got[1] != rules[1] {
		t.Fatalf("Faults() = %+v, want %+v", got, rules)
	}
	c := dialRaw(t, s.Addr)
	for tid := uint16(0x0101); tid < 0x0105; tid++ {
		c.roundTrip(read2(tid))
	}
	want := map[simulator.FaultAction]uint64{simulator.FaultWrongTID: 2, simulator.FaultWrongUnit: 1}
	if got := s.FaultCounts(); len(got) != 2 || got[simulator.FaultWrongTID] != 2 || got[simulator.FaultWrongUnit] != 1 {
		t.Errorf("FaultCounts() = %v, want %v", got, want)
	}
	if st := s.Stats(); st.Faults != 3 || st.FaultsByAction[simulator.FaultWrongTID] != 2 || st.FaultsByAction[simulator.FaultWrongUnit] != 1 {
		t.Errorf("Stats() Faults = %d, FaultsByAction = %v; want 3, %v", st.Faults, st.FaultsByAction, want)
	}
	log3 := buf.String()
	for _, w := range []string{`"fault":"wrong-tid"`, `"tid":259`, `"fault":"wrong-unit"`, `"rule":2`, `"remote":"127.0.0.1:`} {
		if !strings.Contains(log3, w) {
			t.Errorf("log lacks %s:\n%s", w, log3)
		}
	}
	s.SetFaults()
	if got := s.Faults(); len(got) != 0 {
		t.Errorf("Faults() after SetFaults() = %+v, want none", got)
	}
}

// TestFaultLogNamesRequestFunction: the "fault injected" line names the
// request's function code, as every other line about a request does. It
// logged the answer's first byte: fc=131 for an exception fault on a read of
// holding registers, which no request has.
func TestFaultLogNamesRequestFunction(t *testing.T) {
	log, buf := captureLogger(t)
	s := simtest.Start(t, simulator.Config{Logger: log})
	s.SetFaults(simulator.FaultRule{Action: simulator.FaultException, Exception: modbus.ServerDeviceBusy, Count: 1},
		simulator.FaultRule{Action: simulator.FaultDelay, Delay: time.Millisecond, Count: 1})
	c := dialRaw(t, s.Addr)
	c.roundTrip(read2(0x0101))                                             // the exception fault
	c.roundTrip([]byte{0x01, 0x02, 0, 0, 0, 6, 1, 3, 0xFF, 0xFF, 0, 0x7D}) // delayed, a real exception 02
	var lines []string
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.Contains(l, `"fault injected"`) {
			lines = append(lines, l)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("%d fault lines, want 2:\n%s", len(lines), buf.String())
	}
	for _, l := range lines {
		if !strings.Contains(l, `"fc":3,`) {
			t.Errorf("fault line does not name fc 3, the request's:\n%s", l)
		}
	}
}

// TestStopAccepting: after the fault, a new connection is not served until
// the pause ends, while the old one keeps being served.
func TestStopAccepting(t *testing.T) {
	s := simtest.Start(t, simulator.Config{})
	s.SetFaults(simulator.FaultRule{Action: simulator.FaultStopAccepting, For: 400 * time.Millisecond, Count: 1})
	a := dialRaw(t, s.Addr)
	a.roundTrip(read2(1)) // answered, then the accept loop stops
	b := dialRaw(t, s.Addr)
	b.write(read2(2))
	if got, err := b.readADU(100 * time.Millisecond); err == nil {
		t.Fatalf("new connection answered % X during the pause", got)
	}
	a.roundTrip(read2(3))
	if got, err := b.readADU(3 * time.Second); err != nil || got[1] != 2 {
		t.Fatalf("after the pause: % X, %v; want the answer to tid 2", got, err)
	}
}

// TestReboot: a reboot rule resets every connection, refuses new ones (the
// port is closed) for its duration, then serves again with memory cleared;
// Server.Reboot does the same without a rule.
func TestReboot(t *testing.T) {
	for _, viaRule := range []bool{true, false} {
		name := map[bool]string{true: "rule", false: "api"}[viaRule]
		t.Run(name, func(t *testing.T) {
			s := simtest.Start(t, simulator.Config{})
			s.SetHoldingRegisters(0, 0x0A0B, 0x0C0D)
			other := dialRaw(t, s.Addr)
			other.roundTrip(read2(1))
			c := dialRaw(t, s.Addr)
			// Both connections must be the server's before the reboot: one
			// still in the kernel's accept queue is reset by the kernel,
			// not by plcsim, and not counted (seen once under load).
			waitFor(t, 2*time.Second, "both connections served", func() bool { return len(s.Connections()) == 2 })
			before := s.Stats().Resets
			if viaRule {
				s.SetFaults(simulator.FaultRule{Action: simulator.FaultReboot, For: 300 * time.Millisecond, Count: 1, Function: 6})
				c.write(adu(2, 1, &modbus.WriteSingleRegister{Address: 0, Value: 7}))
			} else {
				s.Reboot(300 * time.Millisecond)
			}
			for i, rc := range []*rawClient{c, other} {
				if err := rc.readUntilError(2 * time.Second); !isReset(err) {
					t.Fatalf("connection %d: %v, want a reset", i, err)
				}
			}
			if got, err := tryRoundTrip(s.Addr, read2(3)); !errors.Is(err, syscall.ECONNREFUSED) {
				t.Fatalf("connection during the reboot: % X, %v; want connection refused", got, err)
			}
			if got := s.Stats().Resets - before; got != 2 {
				t.Errorf("Stats().Resets grew by %d, want 2 (the two connections dropped)", got)
			}
			var got []byte
			waitFor(t, 3*time.Second, "a connection served after the reboot", func() bool {
				var err error
				got, err = tryRoundTrip(s.Addr, read2(4))
				return err == nil
			})
			if want := []byte{0, 4, 0, 0, 0, 7, 1, 3, 4, 0, 0, 0, 0}; !bytes.Equal(got, want) {
				t.Errorf("after the reboot: % X, want % X (memory cleared, the write not executed)", got, want)
			}
		})
	}
}

// TestRebootEndsDelay: a reboot drops a connection whose answer a delay
// fault holds back (an hour here) as it drops every other, with a reset,
// and that connection's goroutine ends with it: the server's connection
// count, its Connections() and the goroutines go back at once, by rule or
// by Server.Reboot (the control API's POST /api/v1/reboot). The goroutine
// stayed in the delay until it ended, the connection counted as open (and
// held its MaxConns slot) meanwhile.
func TestRebootEndsDelay(t *testing.T) {
	for _, viaRule := range []bool{true, false} {
		name := map[bool]string{true: "rule", false: "api"}[viaRule]
		t.Run(name, func(t *testing.T) {
			s := simtest.Start(t, simulator.Config{Logger: nopLogger()})
			waitFor(t, 2*time.Second, "serving", func() bool { return s.Server.Addr() != nil }) // its goroutines started
			base := runtime.NumGoroutine()
			s.SetFaults(simulator.FaultRule{Action: simulator.FaultDelay, Delay: time.Hour, Function: 3, Count: 1},
				simulator.FaultRule{Action: simulator.FaultReboot, For: 50 * time.Millisecond, Function: 6, Count: 1})
			other := dialRaw(t, s.Addr)
			c := dialRaw(t, s.Addr)
			c.write(read2(1))
			waitFor(t, 5*time.Second, "the answer held back", func() bool { return s.Stats().Faults == 1 })
			waitFor(t, 5*time.Second, "both connections served", func() bool { return len(s.Connections()) == 2 }) // see TestReboot
			if viaRule {
				other.write(adu(2, 1, &modbus.WriteSingleRegister{Address: 0, Value: 7}))
			} else {
				s.Reboot(50 * time.Millisecond)
			}
			for i, rc := range []*rawClient{c, other} {
				if err := rc.readUntilError(5 * time.Second); !isReset(err) {
					t.Fatalf("connection %d: %v, want a reset", i, err)
				}
			}
			waitFor(t, 5*time.Second, "no connection open", func() bool { return s.Stats().Conns == 0 && len(s.Connections()) == 0 })
			waitFor(t, 5*time.Second, "goroutines back to baseline", func() bool { return runtime.NumGoroutine() <= base })
			if st := s.Stats(); st.ResetsBy[simulator.ResetReboot] != 2 || st.Resets != 2 || st.Responses != 0 {
				t.Errorf("stats %+v: want the two connections reset by the reboot, nothing answered", st)
			}
		})
	}
}

// TestRebootFreesDelayedSlot: with MaxConns 1, a connection whose answer a
// delay fault holds back is busy, so no new connection may evict it; once
// a reboot has dropped it, the simulator serves a new connection again.
// It refused every one until the delay was over (an hour here).
func TestRebootFreesDelayedSlot(t *testing.T) {
	s := simtest.Start(t, simulator.Config{MaxConns: 1, Logger: nopLogger()})
	s.SetFaults(simulator.FaultRule{Action: simulator.FaultDelay, Delay: time.Hour, Function: 3, Count: 1})
	c := dialRaw(t, s.Addr)
	c.write(read2(1))
	waitFor(t, 5*time.Second, "the answer held back", func() bool { return s.Stats().Faults == 1 })
	s.Reboot(50 * time.Millisecond)
	if err := c.readUntilError(5 * time.Second); !isReset(err) {
		t.Fatalf("delayed connection: %v, want a reset", err)
	}
	var got []byte
	waitFor(t, 5*time.Second, "a connection served after the reboot", func() bool {
		var err error
		got, err = tryRoundTrip(s.Addr, read2(2))
		return err == nil
	})
	if want := []byte{0, 2, 0, 0, 0, 7, 1, 3, 4, 0, 0, 0, 0}; !bytes.Equal(got, want) {
		t.Errorf("after the reboot: % X, want % X", got, want)
	}
}

// tryRoundTrip dials, sends req and reads one answer, reporting any failure.
func tryRoundTrip(addr string, req []byte) ([]byte, error) {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(time.Second))
	if _, err := nc.Write(req); err != nil {
		return nil, err
	}
	_, rsp, err := modbus.ReadADU(nc, make([]byte, modbus.MaxADULen))
	return append([]byte(nil), rsp...), err
}
