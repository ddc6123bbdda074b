package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/plcctl/plcctl/modbus"
)

// TestServerClosesIdleConnection: the server drops an idle link with a FIN;
// the client notices at once (its reader sees EOF), re-dials, and the next
// request just works.
func TestServerClosesIdleConnection(t *testing.T) {
	f := startFake(t, func(c *fakeConn) {
		if c.n > 0 {
			servePLC(c)
			return
		}
		h, req, err := c.readRequest()
		if err == nil {
			c.answer(h, plcAnswer(req))
		}
		// returning closes the connection: an idle close
	})
	o := testOptions(t)
	st := states(&o)
	c := dial(t, f.addr, o)
	if _, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(0, 1)); err != nil {
		t.Fatal(err)
	}
	waitState(t, st, StateReconnecting)
	waitState(t, st, StateConnected)
	rsp, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(10, 2))
	if err != nil {
		t.Fatalf("request after idle close = %v", err)
	}
	checkRegs(t, rsp, 10, 2)
	if s := c.Stats(); s.LinkDowns != 1 || s.Reconnects != 1 {
		t.Errorf("Stats = %+v, want 1 link down, 1 reconnect", s)
	}
}

// TestResetMidRequest: the server resets the link after reading a request.
// Reads are sent again on the next link when Retries allows; writes only
// with RetryWrites, and the error says the request went out.
func TestResetMidRequest(t *testing.T) {
	read := modbus.NewReadHoldingRegisters(5, 2)
	write := &modbus.WriteSingleRegister{Address: 5, Value: 7}
	tests := []struct {
		name        string
		req         modbus.Request
		retries     int
		retryWrites bool
		wantOK      bool
	}{
		{"read, no retries", read, 0, false, false},
		{"read, 1 retry", read, 1, false, true},
		{"write, 1 retry", write, 1, false, false},
		{"write, 1 retry, RetryWrites", write, 1, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t, func(c *fakeConn) {
				if c.n > 0 {
					servePLC(c)
					return
				}
				c.readRequest()
				c.reset()
			})
			o := testOptions(t)
			o.Retries, o.RetryWrites = tt.retries, tt.retryWrites
			c := dial(t, f.addr, o)
			_, err := c.Send(t.Context(), 1, tt.req)
			if tt.wantOK {
				if err != nil {
					t.Fatalf("Send = %v, want success on the next link", err)
				}
				if s := c.Stats(); s.Retries != 1 {
					t.Errorf("Stats.Retries = %d, want 1", s.Retries)
				}
				return
			}
			oe := opError(t, err)
			if !oe.Sent {
				t.Errorf("OpError.Sent = false, want true: the request reached the server")
			}
			if !errors.Is(err, syscall.ECONNRESET) && !isEOFish(err) {
				t.Errorf("Send = %v, want a reset or EOF", err)
			}
		})
	}
}

// TestServerRestart: the server restarts on the same port; the client
// recovers with no user action, whether or not it noticed the loss first.
func TestServerRestart(t *testing.T) {
	for _, tt := range []struct {
		name       string
		waitNotice bool
		retries    int
	}{
		{"request after the reconnect", true, 0},
		{"request right after the restart", false, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t, servePLC)
			o := testOptions(t)
			o.Retries = tt.retries
			st := states(&o)
			c := dial(t, f.addr, o)
			if _, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(0, 1)); err != nil {
				t.Fatal(err)
			}
			f.restart()
			if tt.waitNotice {
				waitState(t, st, StateReconnecting)
				waitState(t, st, StateConnected)
			}
			rsp, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(3, 3))
			if err != nil {
				t.Fatalf("Send after restart = %v", err)
			}
			checkRegs(t, rsp, 3, 3)
		})
	}
}

// TestLateAnswer: the answer to a request arrives after the request gave up
// (deadline or cancel). The connection stays up, the late answer is
// dropped, and the next request gets its own answer.
func TestLateAnswer(t *testing.T) {
	for _, tt := range []struct {
		name    string
		cancel  bool // cancel the ctx instead of letting the deadline pass
		wantErr error
	}{
		{"deadline", false, context.DeadlineExceeded},
		{"cancel mid-read", true, context.Canceled},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gotFirst := make(chan struct{})
			f := startFake(t, func(c *fakeConn) {
				h1, r1, err := c.readRequest()
				if err != nil {
					return
				}
				close(gotFirst)
				h2, r2, err := c.readRequest() // the client gave up on r1
				if err != nil {
					return
				}
				c.answer(h1, plcAnswer(r1))
				c.answer(h2, plcAnswer(r2))
				servePLC(c)
			})
			c := dial(t, f.addr, testOptions(t))
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			if tt.cancel {
				ctx, cancel = context.WithCancel(t.Context())
				go func() { <-gotFirst; cancel() }()
			}
			defer cancel()
			_, err := c.Send(ctx, 1, modbus.NewReadHoldingRegisters(100, 1))
			if !errors.Is(err, tt.wantErr) || !opError(t, err).Sent {
				t.Fatalf("first Send = %v, want %v with Sent", err, tt.wantErr)
			}
			rsp, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(200, 2))
			if err != nil {
				t.Fatalf("second Send = %v", err)
			}
			checkRegs(t, rsp, 200, 2)
			if s := c.Stats(); s.StaleDropped != 1 || s.Timeouts != 1 || s.LinkDowns != 0 {
				t.Errorf("Stats = %+v, want 1 stale, 1 timeout, no link down", s)
			}
		})
	}
}

// TestSplitAndCoalesced: answers that arrive one byte per segment, and
// several answers in one segment (out of order), are framed correctly.
func TestSplitAndCoalesced(t *testing.T) {
	t.Run("byte by byte", func(t *testing.T) {
		f := startFake(t, func(c *fakeConn) {
			for {
				h, req, err := c.readRequest()
				if err != nil {
					return
				}
				adu, _ := modbus.AppendADU(nil, h.TID, h.UnitID, plcAnswer(req))
				for i := range adu {
					if _, err := c.Write(adu[i : i+1]); err != nil {
						return
					}
				}
			}
		})
		c := dial(t, f.addr, testOptions(t))
		for i := range uint16(20) {
			rsp, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(i*10, i+1))
			if err != nil {
				t.Fatal(err)
			}
			checkRegs(t, rsp, i*10, int(i)+1)
		}
	})
	t.Run("coalesced", func(t *testing.T) {
		const batch = 4
		f := startFake(t, func(c *fakeConn) {
			for {
				var out []byte
				for range batch {
					h, req, err := c.readRequest()
					if err != nil {
						return
					}
					adu, _ := modbus.AppendADU(nil, h.TID, h.UnitID, plcAnswer(req))
					out = append(adu, out...) // reversed: last request answered first
				}
				if _, err := c.Write(out); err != nil {
					return
				}
			}
		})
		o := testOptions(t)
		o.MaxInFlight = batch
		o.AllowReorder = true // the fake answers one unit's requests newest first
		c := dial(t, f.addr, o)
		for round := range 10 {
			errs := make(chan error, batch)
			for i := range batch {
				addr := uint16(round*100 + i*10)
				go func() {
					rsp, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(addr, 5))
					if err == nil {
						checkRegs(t, rsp, addr, 5)
					}
					errs <- err
				}()
			}
			for range batch {
				if err := recv(t, errs, "answer"); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

// TestBadAnswers: every kind of broken answer makes the stream
// untrustworthy, so the link is re-dialled and the next request works. An
// answer under a wrong transaction id, while the request is unanswered, may
// be its own: the read is sent again on the new link and succeeds; every
// other kind is an error for its request.
func TestBadAnswers(t *testing.T) {
	tests := []struct {
		name     string
		answer   func(tid uint16) []byte // bytes sent instead of the answer to FC 3 qty 2
		wantErr  error
		linkDown bool
	}{
		{"wrong transaction id", func(tid uint16) []byte {
			return adu(tid+1, 0, 7, 0x03, 0x04, 0, 1, 0, 2)
		}, nil, true}, // refused, read again on a new link
		{"wrong function code", func(tid uint16) []byte {
			return adu(tid, 0, 7, 0x04, 0x04, 0, 1, 0, 2)
		}, modbus.ErrUnexpectedFunction, true},
		{"truncated body", func(tid uint16) []byte {
			return adu(tid, 0, 5, 0x03, 0x04, 0, 1)
		}, modbus.ErrShortFrame, true},
		{"byte count disagrees with request", func(tid uint16) []byte {
			return adu(tid, 0, 5, 0x03, 0x02, 0, 1)
		}, modbus.ErrInconsistent, true},
		{"cut mid-frame", func(tid uint16) []byte {
			return adu(tid, 0, 7, 0x03, 0x04, 0)[:9] // length says 7, then silence
		}, os.ErrDeadlineExceeded, true},
		{"length 0", func(tid uint16) []byte { return adu(tid, 0, 0) }, modbus.ErrBadLength, true},
		{"length 1", func(tid uint16) []byte { return adu(tid, 0, 1) }, modbus.ErrBadLength, true},
		{"length 300", func(tid uint16) []byte {
			return append(adu(tid, 0, 300, 0x03, 0x04), make([]byte, 298)...)
		}, modbus.ErrBadLength, true},
		{"protocol id 1", func(tid uint16) []byte {
			return adu(tid, 1, 7, 0x03, 0x04, 0, 1, 0, 2)
		}, modbus.ErrProtocolID, true},
		{"exception with a trailing byte", func(tid uint16) []byte {
			return adu(tid, 0, 4, 0x83, 0x02, 0)
		}, modbus.ErrShortFrame, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t, func(c *fakeConn) {
				if c.n == 0 {
					h, _, err := c.readRequest()
					if err != nil {
						return
					}
					c.Write(tt.answer(h.TID))
				}
				servePLC(c)
			})
			o := testOptions(t)
			o.Timeout = 200 * time.Millisecond // frame completion and the first request
			c := dial(t, f.addr, o)
			ctx, cancel := context.WithTimeout(t.Context(), map[bool]time.Duration{true: waitTimeout, false: 200 * time.Millisecond}[tt.linkDown])
			defer cancel()
			rsp, err := c.Send(ctx, 1, modbus.NewReadHoldingRegisters(1, 2))
			switch {
			case tt.wantErr == nil && err == nil:
				checkRegs(t, rsp, 1, 2)
			case tt.wantErr == nil || !errors.Is(err, tt.wantErr) &&
				!(tt.wantErr == modbus.ErrShortFrame && errors.Is(err, modbus.ErrLongFrame)):
				t.Fatalf("Send = %v, want %v", err, tt.wantErr)
			case !opError(t, err).Sent:
				t.Errorf("OpError.Sent = false, want true")
			}
			rsp, err = c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(40, 4))
			if err != nil {
				t.Fatalf("next Send = %v", err)
			}
			checkRegs(t, rsp, 40, 4)
			if s := c.Stats(); (s.LinkDowns == 1) != tt.linkDown || (s.Reconnects == 1) != tt.linkDown {
				t.Errorf("Stats = %+v, want link down %v", s, tt.linkDown)
			}
		})
	}
}

// adu builds raw frame bytes: tid, protocol id, length field, unit 1, pdu.
func adu(tid, proto, length uint16, pdu ...byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, tid)
	b = binary.BigEndian.AppendUint16(b, proto)
	b = binary.BigEndian.AppendUint16(b, length)
	return append(append(b, 1), pdu...)
}

// TestStaleFlood: answers nobody asked for, beyond what timed-out requests
// explain, make the client stop trusting the link.
func TestStaleFlood(t *testing.T) {
	f := startFake(t, func(c *fakeConn) {
		if c.n == 0 {
			for i := range uint16(maxUnexplained + 8) {
				if _, err := c.Write(adu(0xBE00+i, 0, 5, 0x03, 0x02, 0, 0)); err != nil {
					return
				}
			}
		}
		servePLC(c)
	})
	o := testOptions(t)
	st := states(&o)
	c := dial(t, f.addr, o)
	waitState(t, st, StateReconnecting)
	waitState(t, st, StateConnected)
	if s := c.Stats(); s.StaleDropped != maxUnexplained+1 || s.LinkDowns != 1 {
		t.Errorf("Stats = %+v, want %d stale and 1 link down", s, maxUnexplained+1)
	}
	if _, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(0, 1)); err != nil {
		t.Fatalf("Send on the new link = %v", err)
	}
}

// TestLinkDown: while nothing listens, a request waits for the link within
// its ctx (or fails at once with FailFast), never sent; once the server is
// back, the supervisor's redial makes requests work again.
func TestLinkDown(t *testing.T) {
	f := startFake(t, servePLC)
	o := testOptions(t)
	st := states(&o)
	c := dial(t, f.addr, o)
	fo := testOptions(t)
	fo.FailFast = true
	fst := states(&fo)
	fast := dial(t, f.addr, fo)
	f.stop()
	waitState(t, st, StateReconnecting)
	waitState(t, fst, StateReconnecting)

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	_, err := c.Send(ctx, 1, modbus.NewReadHoldingRegisters(0, 1))
	if !errors.Is(err, ErrNotConnected) || !errors.Is(err, context.DeadlineExceeded) || opError(t, err).Sent {
		t.Errorf("Send while down = %v, want ErrNotConnected and DeadlineExceeded, not sent", err)
	}
	_, err = fast.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(0, 1))
	if !errors.Is(err, ErrNotConnected) || errors.Is(err, context.DeadlineExceeded) || opError(t, err).Sent {
		t.Errorf("FailFast Send while down = %v, want ErrNotConnected at once, not sent", err)
	}

	f.listen(f.addr)
	waitState(t, st, StateConnected)
	if _, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(0, 1)); err != nil {
		t.Fatalf("Send after the server came back = %v", err)
	}
	if s := c.Stats(); s.Reconnects != 1 || s.Timeouts != 1 {
		t.Errorf("Stats = %+v, want 1 reconnect, 1 timeout", s)
	}
}

// TestBackoffAttempts: while dials fail, Backoff sees attempts 1, 2, 3, ...
func TestBackoffAttempts(t *testing.T) {
	f := startFake(t, servePLC)
	attempts := make(chan int, 100)
	o := testOptions(t)
	o.Backoff = func(n int) time.Duration {
		select {
		case attempts <- n:
		default:
		}
		return time.Millisecond
	}
	dial(t, f.addr, o)
	f.stop()
	for want := 1; want <= 3; want++ {
		if got := recv(t, attempts, "backoff call"); got != want {
			t.Fatalf("Backoff attempt = %d, want %d", got, want)
		}
	}
}
