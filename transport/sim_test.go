package transport

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// The tests below run against the real simulator and its fault knobs; the
// fakes in fault_test.go cover what a well-behaved server cannot do.

func startSim(t *testing.T) *simtest.Server {
	t.Helper()
	return simtest.Start(t, simulator.Config{Logger: testLogger(t, zerolog.InfoLevel)})
}

func readHolding(t *testing.T, c *Conn, addr, n uint16) ([]uint16, error) {
	t.Helper()
	rsp, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(addr, n))
	if err != nil {
		return nil, err
	}
	return rsp.(*modbus.RegistersResponse).Registers(), nil
}

func TestSimFaults(t *testing.T) {
	tests := []struct {
		name      string
		action    simulator.FaultAction
		delay     time.Duration
		exception modbus.ExceptionCode
		retries   int
		wantErr   error // for the faulted request; nil = it succeeds
		wantStale uint64
		wantDown  bool
	}{
		{name: "split byte by byte", action: simulator.FaultSplit},
		{name: "duplicate answer", action: simulator.FaultDuplicate, wantStale: 1},
		{name: "late answer", action: simulator.FaultDelay, delay: 300 * time.Millisecond,
			wantErr: context.DeadlineExceeded, wantStale: 1},
		// An answer under a wrong tid while the request is unanswered is
		// refused (it is probably the request's own), the link dropped and the
		// read sent again on the next one.
		{name: "wrong tid", action: simulator.FaultWrongTID, wantDown: true},
		// The next answer comes while the dropped request is unanswered: it is
		// refused (it could be the older answer mislabelled), the link dropped
		// and the read sent again on the next one.
		{name: "dropped request", action: simulator.FaultDrop, wantErr: context.DeadlineExceeded, wantDown: true},
		{name: "busy", action: simulator.FaultException, exception: modbus.ServerDeviceBusy,
			wantErr: modbus.ServerDeviceBusy},
		{name: "close FIN", action: simulator.FaultCloseFIN, wantErr: errPeerClosed, wantDown: true},
		{name: "close FIN, retried", action: simulator.FaultCloseFIN, retries: 1, wantDown: true},
		{name: "close RST, retried", action: simulator.FaultCloseRST, retries: 1, wantDown: true},
		{name: "cut mid-frame", action: simulator.FaultCutMidFrame, wantErr: modbus.ErrShortFrame, wantDown: true},
		{name: "cut mid-frame, retried", action: simulator.FaultCutMidFrame, retries: 1, wantDown: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := startSim(t)
			sim.SetHoldingRegisters(10, 111, 222)
			sim.SetFaults(simulator.FaultRule{Function: modbus.FuncReadHoldingRegisters, Count: 1,
				Action: tt.action, Delay: tt.delay, Exception: tt.exception})
			o := testOptions(t)
			o.Retries = tt.retries
			c := dial(t, sim.Addr, o)
			timeout := waitTimeout
			if errors.Is(tt.wantErr, context.DeadlineExceeded) {
				timeout = 100 * time.Millisecond
			}
			ctx, cancel := context.WithTimeout(t.Context(), timeout)
			defer cancel()
			_, err := c.Send(ctx, 1, modbus.NewReadHoldingRegisters(10, 2))
			if tt.wantErr == nil && err != nil || !errors.Is(err, tt.wantErr) {
				if !(errors.Is(tt.wantErr, modbus.ErrShortFrame) && isEOFish(err)) {
					t.Fatalf("faulted Send = %v, want %v", err, tt.wantErr)
				}
			}
			regs, err := readHolding(t, c, 10, 2)
			if err != nil || regs[0] != 111 || regs[1] != 222 {
				t.Fatalf("next read = %v, %v; want [111 222]", regs, err)
			}
			if tt.wantStale > 0 {
				waitStale(t, c, tt.wantStale)
			}
			if s := c.Stats(); (s.LinkDowns > 0) != tt.wantDown {
				t.Errorf("Stats = %+v, want link down %v", s, tt.wantDown)
			}
		})
	}
}

// waitStale waits until the conn has dropped n stale answers (a late
// duplicate may arrive after the next request's answer).
func waitStale(t *testing.T, c *Conn, n uint64) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for c.Stats().StaleDropped < n {
		if time.Now().After(deadline) {
			t.Fatalf("StaleDropped = %d, want %d", c.Stats().StaleDropped, n)
		}
		// one more round trip: the stale frame, sent earlier, is read first
		if _, err := readHolding(t, c, 0, 1); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSimRestart: plcsim restarts on the same port with the same data; the
// client recovers on the next request with no user action.
func TestSimRestart(t *testing.T) {
	sim := startSim(t)
	sim.SetHoldingRegisters(0, 42)
	o := testOptions(t)
	o.Retries = 1
	st := states(&o)
	c := dial(t, sim.Addr, o)
	if _, err := readHolding(t, c, 0, 1); err != nil {
		t.Fatal(err)
	}
	sim.Restart(t)
	regs, err := readHolding(t, c, 0, 1)
	if err != nil || regs[0] != 42 {
		t.Fatalf("read after restart = %v, %v; want [42]", regs, err)
	}
	waitState(t, st, StateReconnecting)
	if s := c.Stats(); s.Reconnects != 1 {
		t.Errorf("Stats.Reconnects = %d, want 1", s.Reconnects)
	}
}

// TestSimIdleTimeout: plcsim closes idle connections; the client re-dials
// in the background and the next request works.
func TestSimIdleTimeout(t *testing.T) {
	sim := simtest.Start(t, simulator.Config{IdleTimeout: 100 * time.Millisecond,
		Logger: testLogger(t, zerolog.InfoLevel)})
	o := testOptions(t)
	o.Retries = 1 // the new link may itself idle out just as the request goes
	st := states(&o)
	c := dial(t, sim.Addr, o)
	if _, err := readHolding(t, c, 0, 1); err != nil {
		t.Fatal(err)
	}
	waitState(t, st, StateReconnecting)
	waitState(t, st, StateConnected)
	if _, err := readHolding(t, c, 0, 1); err != nil {
		t.Fatalf("read after the idle close = %v", err)
	}
}

// TestSimSessionNoReset: a 10,000-request session on one connection, then
// Close: no errors, one connection, and plcsim sees our FIN, no reset.
func TestSimSessionNoReset(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 1000
	}
	sim := simtest.Start(t, simulator.Config{Logger: testLogger(t, zerolog.WarnLevel)})
	o := testOptions(t)
	o.Logger = nil
	o.MaxInFlight = 4
	c := dial(t, sim.Addr, o)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range n / 4 {
				req := &modbus.WriteSingleRegister{Address: uint16(g), Value: uint16(i)}
				if _, err := c.Send(t.Context(), 1, req); err != nil {
					t.Errorf("request %d: %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	s := sim.Stats()
	if s.Accepted != 1 || s.Requests != uint64(n) || s.Responses != uint64(n) {
		t.Errorf("simulator Stats = %+v, want 1 connection, %d requests answered", s, n)
	}
	if s.PeerResets != 0 || s.Resets != 0 || s.PeerEOF != 1 {
		t.Errorf("simulator Stats = %+v, want our FIN (PeerEOF 1) and no reset either way", s)
	}
	if cs := c.Stats(); cs.LinkDowns != 0 || cs.StaleDropped != 0 || cs.Timeouts != 0 {
		t.Errorf("Conn Stats = %+v, want a clean session", cs)
	}
}

// TestSimPaddedFrameRefused: the codec cannot be talked into sending the
// padded 256-byte frame of the ECONNRESET story: a raw PDU over 253 bytes is
// refused before anything goes out.
func TestSimPaddedFrameRefused(t *testing.T) {
	sim := startSim(t)
	c := dial(t, sim.Addr, testOptions(t))
	_, err := c.Send(t.Context(), 1, &modbus.Raw{FC: modbus.FuncWriteSingleRegister, Data: make([]byte, 253)})
	if err == nil || opError(t, err).Sent {
		t.Fatalf("Send of a 254-byte PDU = %v, want refused unsent", err)
	}
	if s := sim.Stats(); s.Requests != 0 || s.FramingFaults != 0 {
		t.Errorf("simulator Stats = %+v, want nothing received", s)
	}
}

// TestSimAddressSpaceRefused: a request whose items run past address 65535
// asks for addresses no device has; Send and ReadRegistersInto refuse it
// with 02 (a *modbus.RequestError, Sent false) before anything goes out.
func TestSimAddressSpaceRefused(t *testing.T) {
	sim := startSim(t)
	c := dial(t, sim.Addr, testOptions(t))
	tests := []struct {
		name string
		req  modbus.Request
	}{
		{"read coils", modbus.NewReadCoils(0xFFFF, 2)},
		{"read discrete inputs", modbus.NewReadDiscreteInputs(65000, 1000)},
		{"read holding registers", modbus.NewReadHoldingRegisters(0xFFFF, 2)},
		{"read input registers", modbus.NewReadInputRegisters(0xFF84, 125)},
		{"write coils", modbus.NewWriteMultipleCoils(0xFFF0, make([]bool, 17))},
		{"write registers", modbus.NewWriteMultipleRegisters(0xFFFF, []uint16{1, 2})},
		{"read/write: the read range", modbus.NewReadWriteRegisters(0xFFFF, 2, 0, []uint16{1})},
		{"read/write: the write range", modbus.NewReadWriteRegisters(0, 1, 0xFFFF, []uint16{1, 2})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Send(t.Context(), 1, tt.req)
			checkRefused(t, err)
			if !errors.Is(err, modbus.IllegalDataAddress) || !strings.Contains(err.Error(), "runs past address 65535") {
				t.Errorf("Send = %v, want 02 saying the range runs past address 65535", err)
			}
		})
	}
	t.Run("ReadRegistersInto", func(t *testing.T) {
		_, err := c.ReadRegistersInto(t.Context(), 1, modbus.FuncReadHoldingRegisters, 0xFFFF, make([]uint16, 2))
		checkRefused(t, err)
		if !errors.Is(err, modbus.IllegalDataAddress) {
			t.Errorf("ReadRegistersInto = %v, want 02", err)
		}
	})
	if s := sim.Stats(); s.Requests != 0 {
		t.Errorf("simulator saw %d requests, want none", s.Requests)
	}
	if cs := c.Stats(); cs.Requests != 0 {
		t.Errorf("Conn Stats.Requests = %d, want 0: nothing passed validation", cs.Requests)
	}
}

// TestSimNilRequest: a nil request is an *OpError saying so, not a panic,
// and nothing is sent.
func TestSimNilRequest(t *testing.T) {
	sim := startSim(t)
	c := dial(t, sim.Addr, testOptions(t))
	_, err := c.Send(t.Context(), 1, nil)
	if oe := opError(t, err); oe.Sent || !strings.Contains(err.Error(), "nil request") {
		t.Errorf("Send(nil) = %v, want an unsent *OpError saying nil request", err)
	}
	if s := sim.Stats(); s.Requests != 0 {
		t.Errorf("simulator saw %d requests, want none", s.Requests)
	}
}

// TestSimManyCallersOneSlot: 16 callers share one in-flight slot
// (MaxInFlight 1), as plcctl does for a PLC that takes one request at a
// time. Every read must get its answer: none may wait for the slot until
// its deadline, lost in the hand-over, or kept out by callers that take
// the slot again and again (BenchmarkReadParallel/callers=16/client=plcctl
// against plcsim timed out 2-12 of 20,000 reads in most runs with a gate
// for the slots; TestSlotsNoCutting shows why).
func TestSimManyCallersOneSlot(t *testing.T) {
	callers, each := 16, 1000
	if testing.Short() {
		each = 200
	}
	sim := simtest.Start(t, simulator.Config{Logger: testLogger(t, zerolog.WarnLevel)})
	o := testOptions(t)
	o.Logger = nil
	o.MaxInFlight = 1
	c := dial(t, sim.Addr, o)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range callers {
		wg.Go(func() {
			for i := range each {
				if _, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(0, 10)); err != nil {
					if failed.Add(1) <= 5 {
						t.Errorf("read %d: %v", i, err)
					}
				}
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Errorf("%d of %d reads failed, want none", n, callers*each)
	}
	if s := c.Stats(); s.LinkDowns != 0 {
		t.Errorf("Stats = %+v, want no link down", s)
	}
}

// TestSimRefusedLinkNoReset: a link dropped while 16 requests are in
// flight (an answer refused: a dropped answer, so the next one comes out
// of order; or junk in the stream) is closed without a reset: our FIN,
// then the answers still coming are read and discarded until plcsim's FIN.
// Closed at once, our kernel reset it (data unread, or data for a closed
// socket): plcsim counted 8 peer resets in one plcctl bench --in-flight 16
// against --fault action=drop,fc=3,every=7, and 13 in this test's 109
// connections.
func TestSimRefusedLinkNoReset(t *testing.T) {
	for _, action := range []simulator.FaultAction{simulator.FaultDrop, simulator.FaultJunk} {
		t.Run(action.String(), func(t *testing.T) {
			sim := simtest.Start(t, simulator.Config{Logger: testLogger(t, zerolog.WarnLevel),
				Faults: []simulator.FaultRule{{Action: action, Function: modbus.FuncReadHoldingRegisters, Every: 7}}})
			o := testOptions(t)
			o.Logger = nil
			o.MaxInFlight = 16
			o.Timeout = 300 * time.Millisecond
			c := dial(t, sim.Addr, o)
			var wg sync.WaitGroup
			for range 16 {
				wg.Go(func() {
					for range 30 {
						c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(0, 4)) // many fail: dropped or refused
					}
				})
			}
			wg.Wait()
			if cs := c.Stats(); cs.LinkDowns == 0 {
				t.Fatalf("Conn Stats = %+v: no link was dropped, the test tested nothing", cs)
			}
			c.Close()
			// plcsim ends a connection just after our side: wait for it to see them all.
			deadline := time.Now().Add(5 * time.Second)
			for sim.Stats().Conns != 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if s := sim.Stats(); s.PeerResets != 0 {
				t.Errorf("plcsim saw %d resets from us in %d connections (Stats %+v), want none", s.PeerResets, s.Accepted, s)
			}
		})
	}
}
