package transport

import (
	"context"
	"errors"
	"testing"

	"github.com/plcctl/plcctl/modbus"
)

// TestMislabelledLateAnswer is the MaxInFlight 1 case of a wrong value: a
// request gives up right after it was sent; its answer comes under the
// transaction id of the next request, which would take it for its own. The
// answer is refused (ErrStreamOutOfOrder) and the link dropped; a read is
// then sent again on the next link and gets its own registers. A write is
// never sent on that link: it goes to a new one (retireBeforeWrite), so it
// is neither executed and then refused nor given another's answer.
func TestMislabelledLateAnswer(t *testing.T) {
	tests := []struct {
		name        string
		second      modbus.Request
		wantRefused uint64
	}{
		{"read", modbus.NewReadHoldingRegisters(200, 2), 1},
		{"write", &modbus.WriteSingleRegister{Address: 200, Value: 7}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotFirst := make(chan struct{})
			f := startFake(t, func(c *fakeConn) {
				if c.n > 0 {
					servePLC(c)
					return
				}
				h1, r1, err := c.readRequest()
				if err != nil {
					return
				}
				close(gotFirst)
				h2, r2, err := c.readRequest() // the client gave up on r1
				if err != nil {
					return
				}
				c.answer(modbus.Header{TID: h2.TID, UnitID: h1.UnitID}, plcAnswer(r1)) // r1's answer, r2's tid
				c.answer(modbus.Header{TID: h2.TID + 1, UnitID: h2.UnitID}, plcAnswer(r2))
				servePLC(c)
			})
			c := dial(t, f.addr, testOptions(t))
			ctx, cancel := context.WithCancel(t.Context())
			go func() { <-gotFirst; cancel() }()
			if _, err := c.Send(ctx, 1, modbus.NewReadHoldingRegisters(100, 2)); !errors.Is(err, context.Canceled) {
				t.Fatalf("first Send = %v, want context.Canceled", err)
			}
			rsp, err := c.Send(t.Context(), 1, tt.second)
			if err != nil {
				t.Fatalf("second Send = %v, want its own answer", err)
			}
			if _, read := tt.second.(*modbus.ReadRegisters); read {
				checkRegs(t, rsp, 200, 2) // fails on the first request's registers
			}
			rsp, err = c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(300, 2))
			if err != nil {
				t.Fatalf("third Send = %v", err)
			}
			checkRegs(t, rsp, 300, 2)
			if s := c.Stats(); s.Refused != tt.wantRefused || s.LinkDowns != 1 || s.Reconnects != 1 {
				t.Errorf("Stats = %+v, want %d refused, 1 link down, 1 reconnect", s, tt.wantRefused)
			}
		})
	}
}

// TestOrderPerUnit: the order check is per unit id, so a gateway may answer
// its serial devices in any order; a reordering within one unit is refused
// (and the reads sent again on the next link, where they get their own
// answers), unless AllowReorder says the device really reorders.
func TestOrderPerUnit(t *testing.T) {
	tests := []struct {
		name         string
		units        [2]uint8 // units of the first and second request
		allowReorder bool
		wantRefused  uint64
	}{
		{"two units, reordered", [2]uint8{1, 2}, false, 0},
		{"one unit, reordered", [2]uint8{1, 1}, false, 1},
		{"one unit, reordered, allowed", [2]uint8{1, 1}, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := make(chan struct{})
			f := startFake(t, func(c *fakeConn) {
				if c.n > 0 {
					servePLC(c)
					return
				}
				h1, r1, err := c.readRequest()
				if err != nil {
					return
				}
				close(first) // the second request starts only now
				h2, r2, err := c.readRequest()
				if err != nil {
					return
				}
				c.answer(h2, plcAnswer(r2)) // newest first
				c.answer(h1, plcAnswer(r1))
				servePLC(c)
			})
			o := testOptions(t)
			o.MaxInFlight = 2
			o.AllowReorder = tt.allowReorder
			c := dial(t, f.addr, o)
			errs := make(chan error, 1)
			go func() {
				rsp, err := c.Send(t.Context(), tt.units[0], modbus.NewReadHoldingRegisters(100, 2))
				if err == nil {
					checkRegs(t, rsp, 100, 2)
				}
				errs <- err
			}()
			recv(t, first, "the first request at the server")
			rsp, err := c.Send(t.Context(), tt.units[1], modbus.NewReadHoldingRegisters(200, 2))
			if err == nil {
				checkRegs(t, rsp, 200, 2)
			}
			for i, err := range []error{err, recv(t, errs, "the first request's result")} {
				if err != nil {
					t.Errorf("request %d: %v", i+1, err)
				}
			}
			if s := c.Stats(); s.Refused != tt.wantRefused || s.LinkDowns != tt.wantRefused {
				t.Errorf("Stats = %+v, want %d refused and as many links down", s, tt.wantRefused)
			}
		})
	}
}

// TestWrongUnitRefused: an answer under the right transaction id from
// another unit id is not the request's: it fails (ErrWrongUnit, Sent), the
// link is dropped and the next request works.
func TestWrongUnitRefused(t *testing.T) {
	f := startFake(t, func(c *fakeConn) {
		if c.n == 0 {
			h, req, err := c.readRequest()
			if err != nil {
				return
			}
			h.UnitID++
			c.answer(h, plcAnswer(req))
		}
		servePLC(c)
	})
	c := dial(t, f.addr, testOptions(t))
	_, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(100, 2))
	if !errors.Is(err, ErrWrongUnit) || !opError(t, err).Sent {
		t.Fatalf("Send = %v, want ErrWrongUnit with Sent", err)
	}
	rsp, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(200, 2))
	if err != nil {
		t.Fatalf("next Send = %v", err)
	}
	checkRegs(t, rsp, 200, 2)
	if s := c.Stats(); s.Refused != 1 || s.LinkDowns != 1 {
		t.Errorf("Stats = %+v, want 1 refused, 1 link down", s)
	}
}
