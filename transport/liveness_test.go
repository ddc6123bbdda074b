package transport

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
)

// silentThenPLC is a fake whose first connection reads requests and never
// answers (a PLC whose Modbus task hung, or a pulled cable as far as the
// client can tell), and whose later connections answer normally.
func silentThenPLC(c *fakeConn) {
	if c.n > 0 {
		servePLC(c)
		return
	}
	for {
		if _, _, err := c.readRequest(); err != nil {
			return
		}
	}
}

// accepted returns how many connections the fake has accepted.
func (f *fake) accepts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.nconns
}

// sendTimeout sends a read that must time out after d.
func sendTimeout(t *testing.T, c *Conn, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	_, err := c.Send(ctx, 1, modbus.NewReadHoldingRegisters(0, 1))
	if !errors.Is(err, context.DeadlineExceeded) || !opError(t, err).Sent {
		t.Fatalf("Send to a silent peer = %v, want DeadlineExceeded after sending", err)
	}
}

// TestDeadAfterTimeouts: requests that time out in a row on a link where
// nothing arrives declare it dead after DeadAfterTimeouts of them; the next
// request goes over a new TCP connection and succeeds. Negative disables.
func TestDeadAfterTimeouts(t *testing.T) {
	for _, tt := range []struct {
		deadAfter int
		timeouts  int // requests that time out
		wantDead  bool
	}{
		{0, 2, false}, // default 3
		{0, 3, true},
		{1, 1, true},
		{5, 4, false},
		{-1, 6, false},
	} {
		t.Run("DeadAfterTimeouts="+strconv.Itoa(tt.deadAfter)+",timeouts="+strconv.Itoa(tt.timeouts), func(t *testing.T) {
			f := startFake(t, silentThenPLC)
			o := testOptions(t)
			o.DeadAfterTimeouts = tt.deadAfter
			st := states(&o)
			c := dial(t, f.addr, o)
			for range tt.timeouts {
				sendTimeout(t, c, 30*time.Millisecond)
			}
			s := c.Stats()
			if (s.DeadLinks == 1) != tt.wantDead || s.LinkDowns != s.DeadLinks || s.Timeouts != uint64(tt.timeouts) {
				t.Fatalf("after %d timeouts Stats = %+v, want dead link %v", tt.timeouts, s, tt.wantDead)
			}
			if !tt.wantDead {
				if n := f.accepts(); n != 1 {
					t.Fatalf("fake accepted %d connections, want 1: the link was dropped early", n)
				}
				return
			}
			waitState(t, st, StateReconnecting)
			rsp, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(7, 2))
			if err != nil {
				t.Fatalf("Send after the dead link = %v", err)
			}
			checkRegs(t, rsp, 7, 2)
			if n := f.accepts(); n != 2 {
				t.Errorf("fake accepted %d connections, want 2: the answer came over a new one", n)
			}
			if s := c.Stats(); s.Reconnects != 1 || s.DeadLinks != 1 {
				t.Errorf("Stats = %+v, want 1 dead link, 1 reconnect", s)
			}
		})
	}
}

// TestDeadLinkSim: plcsim executes every request and answers none (its TCP
// stack still up, so keepalive sees nothing wrong). After three timeouts
// the client re-dials; once the PLC answers again, the next request
// succeeds over the new connection.
func TestDeadLinkSim(t *testing.T) {
	sim := startSim(t)
	sim.SetHoldingRegisters(3, 33)
	sim.SetFaults(simulator.FaultRule{Action: simulator.FaultDrop})
	o := testOptions(t)
	st := states(&o)
	c := dial(t, sim.Addr, o)
	for range DefaultDeadAfterTimeouts {
		sendTimeout(t, c, 50*time.Millisecond)
	}
	waitState(t, st, StateReconnecting)
	sim.SetFaults() // the PLC answers again
	regs, err := readHolding(t, c, 3, 1)
	if err != nil || regs[0] != 33 {
		t.Fatalf("read after the dead link = %v, %v; want [33]", regs, err)
	}
	if s := sim.Stats(); s.Accepted != 2 {
		t.Errorf("simulator accepted %d connections, want 2", s.Accepted)
	}
	if s := c.Stats(); s.DeadLinks != 1 || s.LinkDowns != 1 || s.Reconnects != 1 || s.Timeouts != 3 {
		t.Errorf("Stats = %+v, want 3 timeouts, 1 dead link, 1 reconnect", s)
	}
}

// TestDeadLinkFailsWaiting: with pipelining, a request still waiting on a
// link declared dead fails with ErrLinkDead at once, not at its own
// deadline; a read is sent again on the new link when Retries allows, a
// write is not.
func TestDeadLinkFailsWaiting(t *testing.T) {
	for _, tt := range []struct {
		name    string
		req     modbus.Request
		retries int
		wantOK  bool
	}{
		{"read, no retries", modbus.NewReadHoldingRegisters(5, 1), 0, false},
		{"read, 1 retry", modbus.NewReadHoldingRegisters(5, 1), 1, true},
		{"write, 1 retry", &modbus.WriteSingleRegister{Address: 5, Value: 1}, 1, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan struct{}, 4)
			f := startFake(t, func(c *fakeConn) {
				if c.n > 0 {
					servePLC(c)
					return
				}
				for {
					if _, _, err := c.readRequest(); err != nil {
						return
					}
					got <- struct{}{}
				}
			})
			o := testOptions(t)
			o.MaxInFlight, o.DeadAfterTimeouts, o.Retries = 2, 1, tt.retries
			c := dial(t, f.addr, o)
			waiting := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
				defer cancel()
				_, err := c.Send(ctx, 1, tt.req)
				waiting <- err
			}()
			recv(t, got, "the waiting request at the server")
			sendTimeout(t, c, 30*time.Millisecond)
			err := recv(t, waiting, "the waiting request to end")
			if tt.wantOK {
				if err != nil {
					t.Fatalf("waiting Send = %v, want success on the new link", err)
				}
				if s := c.Stats(); s.Retries != 1 || f.accepts() != 2 {
					t.Errorf("Stats = %+v, %d accepts; want 1 retry over a second connection", s, f.accepts())
				}
				return
			}
			if !errors.Is(err, ErrLinkDead) || !opError(t, err).Sent {
				t.Fatalf("waiting Send = %v, want ErrLinkDead after sending", err)
			}
		})
	}
}

// TestLateAnswersKeepLinkAlive: a slow PLC whose every answer comes after
// the request timed out, but while the next one waits, is alive: its link is
// never declared dead, and the late answers are dropped.
func TestLateAnswersKeepLinkAlive(t *testing.T) {
	f := startFake(t, func(c *fakeConn) {
		var prev []byte
		for {
			h, req, err := c.readRequest()
			if err != nil {
				return
			}
			if prev != nil { // the answer to the previous request, late
				if _, err := c.Write(prev); err != nil {
					return
				}
			}
			prev, _ = modbus.AppendADU(nil, h.TID, h.UnitID, plcAnswer(req))
		}
	})
	o := testOptions(t)
	c := dial(t, f.addr, o)
	const n = DefaultDeadAfterTimeouts + 2
	for range n {
		sendTimeout(t, c, 200*time.Millisecond)
	}
	s := c.Stats()
	if s.DeadLinks != 0 || s.LinkDowns != 0 || f.accepts() != 1 {
		t.Errorf("Stats = %+v, %d accepts; want the one link kept", s, f.accepts())
	}
	if s.StaleDropped != n-1 {
		t.Errorf("StaleDropped = %d, want %d", s.StaleDropped, n-1)
	}
}

// TestCancelIsNotSilence: requests cancelled by their caller (not timed out)
// say nothing about the link and never declare it dead.
func TestCancelIsNotSilence(t *testing.T) {
	got := make(chan struct{}, 8)
	f := startFake(t, func(c *fakeConn) {
		for {
			if _, _, err := c.readRequest(); err != nil {
				return
			}
			got <- struct{}{}
		}
	})
	o := testOptions(t)
	o.DeadAfterTimeouts = 1
	c := dial(t, f.addr, o)
	for range 3 {
		ctx, cancel := context.WithCancel(t.Context())
		go func() { <-got; cancel() }()
		_, err := c.Send(ctx, 1, modbus.NewReadHoldingRegisters(0, 1))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Send = %v, want context.Canceled", err)
		}
	}
	if s := c.Stats(); s.DeadLinks != 0 || s.LinkDowns != 0 {
		t.Errorf("Stats = %+v, want no dead link", s)
	}
}

// TestQueuedTimeoutIsNotSilence: a request that waited for its in-flight
// slot while the link brought answers, then timed out on the wire (it got
// the slot with little of its deadline left, as under load), says nothing
// against the link: answers came after it began. Even with
// DeadAfterTimeouts 1 the link is kept; the late answer is dropped and the
// next request is served on the same connection.
func TestQueuedTimeoutIsNotSilence(t *testing.T) {
	releaseA, gotB, releaseB := make(chan struct{}), make(chan struct{}), make(chan struct{})
	f := startFake(t, func(c *fakeConn) {
		for i := 0; ; i++ {
			h, req, err := c.readRequest()
			if err != nil {
				return
			}
			switch i {
			case 0:
				<-releaseA
			case 1:
				close(gotB)
				<-releaseB
			}
			if c.answer(h, plcAnswer(req)) != nil {
				return
			}
		}
	})
	o := testOptions(t)
	o.DeadAfterTimeouts = 1
	c := dial(t, f.addr, o)
	a := make(chan error, 1)
	go func() {
		_, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(1, 1))
		a <- err
	}()
	testutil.WaitFor(t, waitTimeout, "A to hold the slot", func() bool { return c.sem.s.Load() == 1 })
	b := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		_, err := c.Send(ctx, 1, modbus.NewReadHoldingRegisters(2, 1))
		b <- err
	}()
	testutil.WaitFor(t, waitTimeout, "B to queue for the slot", func() bool { return c.sem.s.Load()>>32 == 1 })
	close(releaseA) // A's answer arrives after B began
	if err := recv(t, a, "A"); err != nil {
		t.Fatalf("A = %v", err)
	}
	recv(t, gotB, "B at the server")
	if err := recv(t, b, "B"); !errors.Is(err, context.DeadlineExceeded) || !opError(t, err).Sent {
		t.Fatalf("B = %v, want DeadlineExceeded after sending", err)
	}
	close(releaseB)
	rsp, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(7, 2))
	if err != nil {
		t.Fatalf("Send after B = %v", err)
	}
	checkRegs(t, rsp, 7, 2)
	if s := c.Stats(); s.DeadLinks != 0 || s.LinkDowns != 0 || f.accepts() != 1 {
		t.Errorf("Stats = %+v, %d accepts; want the one link kept", s, f.accepts())
	}
}

// TestFailFastSaysWhy: with FailFast a request fails at once while the
// link is down, and its error says why, as a request that waited in vain
// does: the lost link and the failed redial (here nothing listening), so
// errors.Is finds ECONNREFUSED as well as ErrNotConnected.
func TestFailFastSaysWhy(t *testing.T) {
	sim := startSim(t)
	o := testOptions(t)
	o.FailFast = true
	c := dial(t, sim.Addr, o)
	if _, err := readHolding(t, c, 0, 1); err != nil {
		t.Fatal(err)
	}
	sim.Stop(t)
	var err error
	testutil.WaitFor(t, waitTimeout, "a FailFast request to say the redial was refused", func() bool {
		_, err = c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(0, 1))
		return errors.Is(err, syscall.ECONNREFUSED)
	})
	if !errors.Is(err, ErrNotConnected) || opError(t, err).Sent || !strings.Contains(err.Error(), "reconnecting failed") {
		t.Errorf("FailFast Send = %v, want unsent ErrNotConnected saying reconnecting failed", err)
	}
}
