package transport

import (
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plcctl/plcctl/modbus"
)

// TestBystanderReadsAgain: when a link is dropped because another request's
// answer cannot be trusted, a read that was waiting for its own answer goes
// again on the next link without using up its retries (Retries 0 here); a
// write in the same place fails with its outcome unknown and is never sent
// again. A and B are reads to unit 1, C a request to unit 2; on each of
// the first len(spoiled) links the fake waits until it has read spoiled[i]
// requests, then answers one of them so that the link must be dropped.
func TestBystanderReadsAgain(t *testing.T) {
	a := modbus.NewReadHoldingRegisters(100, 2)
	b := modbus.NewReadHoldingRegisters(200, 2)
	read := modbus.NewReadHoldingRegisters(300, 2)
	write := &modbus.WriteSingleRegister{Address: 300, Value: 7}
	tests := []struct {
		name    string
		c       modbus.Request
		spoiled []int // requests read on each spoiled link before spoiling it
		// spoil answers one of the requests read on a spoiled link: of
		// the two to unit 1, older went first on the wire.
		spoil      func(fc *fakeConn, older, younger, hC modbus.Header, reqs map[uint16]modbus.Request)
		wantA      error // nil: A gets its own answer
		wantB      error
		wantC      error
		wantCSends int64
	}{
		{
			// The younger one's answer to unit 1 overtakes the older's:
			// A and B are parties to the refusal and are read again once,
			// C is a bystander on both links. Before bystanders, C failed
			// on the second link.
			name: "refused, read", c: read, spoiled: []int{3, 3}, spoil: overtake,
			wantA: ErrStreamOutOfOrder, wantB: ErrStreamOutOfOrder, wantCSends: 3,
		},
		{
			name: "refused, write", c: write, spoiled: []int{3, 2}, spoil: overtake,
			wantA: ErrStreamOutOfOrder, wantB: ErrStreamOutOfOrder, wantC: ErrOutcomeUnknown, wantCSends: 1,
		},
		{
			// C's answer is one register short: C fails with it, A and B
			// are bystanders. Before, both failed with C's error.
			name: "malformed, read", c: read, spoiled: []int{3},
			spoil: func(fc *fakeConn, older, younger, hC modbus.Header, reqs map[uint16]modbus.Request) {
				fc.answer(hC, &modbus.RegistersResponse{FC: modbus.FuncReadHoldingRegisters, Data: []byte{1, 44}})
			},
			wantC: errMalformed, wantCSends: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cSends atomic.Int64
			f := startFake(t, func(fc *fakeConn) {
				if fc.n >= len(tt.spoiled) {
					for {
						h, req, err := fc.readRequest()
						if err != nil {
							return
						}
						if h.UnitID == 2 {
							cSends.Add(1)
						}
						if fc.answer(h, plcAnswer(req)) != nil {
							return
						}
					}
				}
				var unit1 []modbus.Header
				var hC modbus.Header
				reqs := make(map[uint16]modbus.Request)
				for range tt.spoiled[fc.n] {
					h, req, err := fc.readRequest()
					if err != nil {
						return
					}
					reqs[h.TID] = req
					if h.UnitID == 2 {
						cSends.Add(1)
						hC = h
					} else {
						unit1 = append(unit1, h)
					}
				}
				if len(unit1) != 2 {
					t.Errorf("link %d: %d requests to unit 1, want 2", fc.n, len(unit1))
					return
				}
				tt.spoil(fc, unit1[0], unit1[1], hC, reqs)
				io.Copy(io.Discard, fc) // until the client drops the link
			})
			o := testOptions(t)
			o.MaxInFlight = 3
			o.Timeout = 5 * time.Second
			c := dial(t, f.addr, o)
			type answer struct {
				rsp modbus.PDU
				err error
			}
			send := func(unit uint8, req modbus.Request) chan answer {
				ch := make(chan answer, 1)
				go func() {
					rsp, err := c.Send(t.Context(), unit, req)
					ch <- answer{rsp, err}
				}()
				return ch
			}
			chA, chB, chC := send(1, a), send(1, b), send(2, tt.c)
			check := func(what string, ch chan answer, req modbus.Request, want error) {
				t.Helper()
				got := recv(t, ch, what)
				switch {
				case want == nil && got.err != nil:
					t.Errorf("%s: %v, want its own answer", what, got.err)
				case want == nil:
					if r, ok := req.(*modbus.ReadRegisters); ok {
						checkRegs(t, got.rsp, r.Address, int(r.Quantity))
					}
				case want == errMalformed && got.err == nil, want != errMalformed && !errors.Is(got.err, want):
					t.Errorf("%s: %v, want %v", what, got.err, want)
				}
			}
			check("A", chA, a, tt.wantA)
			check("B", chB, b, tt.wantB)
			check("C", chC, tt.c, tt.wantC)
			if n := cSends.Load(); n != tt.wantCSends {
				t.Errorf("C was sent %d times, want %d", n, tt.wantCSends)
			}
		})
	}
}

// overtake answers the younger request to unit 1 while the older waits.
func overtake(fc *fakeConn, older, younger, hC modbus.Header, reqs map[uint16]modbus.Request) {
	fc.answer(younger, plcAnswer(reqs[younger.TID]))
}

// errMalformed stands for any error in TestBystanderReadsAgain's table.
var errMalformed = errors.New("any error")

// TestBystanderReadsBounded: a device that spoils an answer on every link
// cannot keep a bystander read going: it goes again maxBystanderReads
// times, then fails with the last link's error (Retries 0). On each link
// the fake reads C (unit 2) and one read to unit 1, and answers the latter
// one register short; the test keeps sending such reads while C waits.
func TestBystanderReadsBounded(t *testing.T) {
	var cSends atomic.Int64
	f := startFake(t, func(fc *fakeConn) {
		var h1 modbus.Header
		var gotC, got1 bool
		for !gotC || !got1 {
			h, _, err := fc.readRequest()
			if err != nil {
				return
			}
			if h.UnitID == 2 {
				cSends.Add(1)
				gotC = true
			} else {
				h1, got1 = h, true
			}
		}
		fc.answer(h1, &modbus.RegistersResponse{FC: modbus.FuncReadHoldingRegisters, Data: []byte{1, 44}})
		io.Copy(io.Discard, fc)
	})
	o := testOptions(t)
	o.MaxInFlight = 2
	c := dial(t, f.addr, o)
	done := make(chan error, 1)
	go func() {
		_, err := c.Send(t.Context(), 2, modbus.NewReadHoldingRegisters(300, 2))
		done <- err
	}()
	for i := 0; ; i++ {
		if i == 2*maxBystanderReads+4 {
			t.Fatalf("C still waiting after %d links spoiled", i)
		}
		if _, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(100, 2)); err == nil {
			t.Fatalf("read %d to unit 1: no error, want its malformed answer's", i)
		}
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "malformed answer") {
				t.Fatalf("C: %v, want the malformed answer's error", err)
			}
			if n := cSends.Load(); n != maxBystanderReads+1 {
				t.Errorf("C was sent %d times, want %d", n, maxBystanderReads+1)
			}
			return
		default:
		}
	}
}
