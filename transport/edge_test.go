package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/plcctl/plcctl/modbus"
)

// TestLateAnswerAfterTIDWrap: a request times out and its answer is still
// on the way when the 16-bit transaction counter comes round to its id
// again. The next request must not get that id, or it would take the late
// answer for its own.
func TestLateAnswerAfterTIDWrap(t *testing.T) {
	first := make(chan modbus.Header, 1)
	f := startFake(t, func(c *fakeConn) {
		h1, r1, err := c.readRequest()
		if err != nil {
			return
		}
		first <- h1
		h2, r2, err := c.readRequest()
		if err != nil {
			return
		}
		if h2.TID == h1.TID {
			t.Errorf("tid %d reused while its late answer may still come", h1.TID)
		}
		c.answer(h1, plcAnswer(r1)) // late, and first on the wire
		c.answer(h2, plcAnswer(r2))
		servePLC(c)
	})
	c := dial(t, f.addr, testOptions(t))
	// The first request gives up once the server has it (not after a fixed
	// time, which a loaded machine can spend before the request is sent).
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	atServer := make(chan modbus.Header, 1)
	go func() {
		defer cancel()
		select {
		case h := <-first:
			atServer <- h
		case <-time.After(10 * time.Second):
		}
	}()
	if _, err := c.Send(ctx, 1, modbus.NewReadHoldingRegisters(100, 2)); !errors.Is(err, context.Canceled) {
		t.Fatalf("first Send = %v, want Canceled", err)
	}
	h1 := recv(t, atServer, "the first request at the server")
	c.tid.Store(uint32(h1.TID) + 1<<16 - 1) // 65535 requests later: next is h1.TID again
	rsp, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(200, 2))
	if err != nil {
		t.Fatalf("second Send = %v", err)
	}
	checkRegs(t, rsp, 200, 2)
	if s := c.Stats(); s.StaleDropped != 1 || s.LinkDowns != 0 {
		t.Errorf("Stats = %+v, want the late answer dropped, the link kept", s)
	}
}

// TestAbandonedBounded: a peer that never answers cannot make a link
// remember more than maxAbandoned transaction ids.
func TestAbandonedBounded(t *testing.T) {
	l := newLink(&Conn{}, nil)
	for i := range maxAbandoned + 10 {
		cl := &call{}
		tid, err := l.register(cl)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := l.abandon(cl, tid, false); !ok {
			t.Fatalf("abandon %d: call not pending", i)
		}
	}
	if n := len(l.abandoned); n != maxAbandoned {
		t.Errorf("%d abandoned ids remembered, want %d", n, maxAbandoned)
	}
	if _, late := l.abandoned[1]; late {
		t.Errorf("the oldest abandoned id is still remembered")
	}
}

// pastDeadline is a ctx whose deadline has passed but whose timer has not
// fired yet (Err is still nil): the window in which the socket's write
// deadline, set from the ctx, may fire first.
type pastDeadline struct {
	context.Context
	calls atomic.Int32
}

func (c *pastDeadline) Deadline() (time.Time, bool) {
	c.calls.Add(1)
	return time.Now().Add(-time.Second), true
}

// TestWriteDeadlineBeforeCtx: when the socket's write deadline fires before
// the ctx reports its end, the request fails once, unsent, with
// context.DeadlineExceeded (not a bare i/o timeout), and transact does not
// spin sending it again until the ctx catches up. The link stays up.
func TestWriteDeadlineBeforeCtx(t *testing.T) {
	f := startFake(t, servePLC)
	c := dial(t, f.addr, testOptions(t))
	parent, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	ctx := &pastDeadline{Context: parent}
	_, err := c.Send(ctx, 1, modbus.NewReadHoldingRegisters(0, 1))
	if !errors.Is(err, context.DeadlineExceeded) || opError(t, err).Sent {
		t.Fatalf("Send = %v, want DeadlineExceeded, unsent", err)
	}
	if n := ctx.calls.Load(); n > 5 {
		t.Errorf("ctx.Deadline called %d times: the request was tried again and again", n)
	}
	rsp, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(4, 1))
	if err != nil {
		t.Fatalf("next Send = %v", err)
	}
	checkRegs(t, rsp, 4, 1)
	if s := c.Stats(); s.LinkDowns != 0 || s.Timeouts != 1 {
		t.Errorf("Stats = %+v, want 1 timeout, the link kept", s)
	}
}

// TestIsDeadline: only our own deadline leaves a link up after a failed
// write; ETIMEDOUT is the kernel giving up on the peer (TCP_USER_TIMEOUT,
// keepalive), although net.Error.Timeout reports true for it too.
func TestIsDeadline(t *testing.T) {
	etimedout := &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.ETIMEDOUT)}
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"deadline", &net.OpError{Op: "write", Net: "tcp", Err: os.ErrDeadlineExceeded}, true},
		{"wrapped deadline", fmt.Errorf("x: %w", os.ErrDeadlineExceeded), true},
		{"ETIMEDOUT", etimedout, false},
		{"reset", &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.ECONNRESET)}, false},
		{"closed", net.ErrClosed, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := isDeadline(tt.err); got != tt.want {
				t.Errorf("isDeadline(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
	if !etimedout.Timeout() {
		t.Errorf("net.OpError{ETIMEDOUT}.Timeout() = false; the premise of isDeadline changed")
	}
}

// TestPendingSet: calls are found, removed and taken by transaction id,
// up to MaxInFlightLimit at once.
func TestPendingSet(t *testing.T) {
	var p pendingSet
	calls := make([]*call, MaxInFlightLimit)
	for i := range calls {
		calls[i] = &call{}
		p.add(uint16(100+i), calls[i])
	}
	if p.len() != MaxInFlightLimit || p.get(100) != calls[0] || p.get(99) != nil {
		t.Fatalf("after %d adds: len %d, get(100) %p, get(99) %p", len(calls), p.len(), p.get(100), p.get(99))
	}
	if got := p.remove(103); got != calls[3] {
		t.Errorf("remove(103) = %p, want %p", got, calls[3])
	}
	if p.remove(103) != nil || p.get(103) != nil || p.len() != MaxInFlightLimit-1 {
		t.Errorf("103 still there after its removal (len %d)", p.len())
	}
	for i, cl := range calls {
		if i != 3 && p.get(uint16(100+i)) != cl {
			t.Errorf("get(%d) lost its call after removing another", 100+i)
		}
	}
	var room [MaxInFlightLimit]*call
	if all := p.takeAll(&room); len(all) != MaxInFlightLimit-1 || p.len() != 0 || p.get(100) != nil {
		t.Errorf("takeAll: %d calls, %d left", len(all), p.len())
	}
}
