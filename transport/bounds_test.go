package transport

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/modbus"
)

// TestCloseContextBounded: a peer that never sends its FIN would hold Close
// for Options.Timeout (an hour here); CloseContext returns when its ctx
// ends, with ctx.Err(), every goroutine gone and the state closed.
func TestCloseContextBounded(t *testing.T) {
	release := make(chan struct{})
	f := startFake(t, func(c *fakeConn) { <-release }) // reads nothing, never closes
	defer close(release)
	o := testOptions(t)
	o.Timeout = time.Hour
	st := states(&o)
	c := dial(t, f.addr, o)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.CloseContext(ctx) }()
	if err := recv(t, done, "CloseContext"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("CloseContext = %v, want DeadlineExceeded", err)
	}
	waitState(t, st, StateClosed)
	if _, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(0, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after CloseContext = %v, want ErrClosed", err)
	}
	// A graceful close within the ctx returns nil.
	g := startFake(t, servePLC)
	c2 := dial(t, g.addr, testOptions(t))
	if err := c2.CloseContext(t.Context()); err != nil {
		t.Errorf("graceful CloseContext = %v, want nil", err)
	}
}

// TestFailFastNoSlot: with MaxInFlight 1 the only slot is held by a read
// retrying after the link went down, waiting for a link that does not come.
// A FailFast request must not wait for that slot: ErrNotConnected at once,
// not a timeout.
func TestFailFastNoSlot(t *testing.T) {
	got := make(chan struct{})
	f := startFake(t, func(c *fakeConn) {
		if _, _, err := c.readRequest(); err != nil {
			return
		}
		close(got)
		c.readRequest() // until stop closes the connection
	})
	o := testOptions(t)
	o.FailFast = true
	o.Retries = 1
	o.Backoff = func(int) time.Duration { return time.Hour }
	st := states(&o)
	c := dial(t, f.addr, o)
	retrying := make(chan error, 1)
	rctx, rcancel := context.WithTimeout(t.Context(), time.Hour) // holds the slot for as long
	defer rcancel()
	go func() {
		_, err := c.Send(rctx, 1, modbus.NewReadHoldingRegisters(0, 1))
		retrying <- err
	}()
	recv(t, got, "the first request at the server")
	f.stop() // the link goes down, and no next one comes
	waitState(t, st, StateReconnecting)
	// The read must be waiting for the next link (its retry counted) before
	// it is cancelled: cancelled earlier, it rightly reports the EOF that
	// came first.
	testutil.WaitFor(t, waitTimeout, "the read to retry", func() bool { return c.Stats().Retries == 1 })
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout) // waiting for the slot would end here
	defer cancel()
	_, err := c.Send(ctx, 1, modbus.NewReadHoldingRegisters(0, 1))
	if !errors.Is(err, ErrNotConnected) || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("FailFast Send while down = %v, want ErrNotConnected at once", err)
	}
	rcancel()
	if err := recv(t, retrying, "the retrying read"); !errors.Is(err, context.Canceled) {
		t.Errorf("retrying read = %v, want it cancelled while waiting for the link", err)
	}
}

// recordBackoff makes o's Backoff record the attempts it is called with
// (and wait a millisecond); the function returned gives them so far.
func recordBackoff(o *Options) func() []int {
	var mu sync.Mutex
	var attempts []int
	o.Backoff = func(n int) time.Duration {
		mu.Lock()
		attempts = append(attempts, n)
		mu.Unlock()
		return time.Millisecond
	}
	return func() []int {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(attempts)
	}
}

// TestBackoffStartsOverAfterWorkingLink: a device that answers 7
// requests on every connection, then resets it (a dropped answer makes us
// drop a link much the same way). A link that brought that many answers
// worked, however short its life: the next one is dialled at once, never
// after Backoff, so the reconnects cannot pile up to seconds of backoff.
func TestBackoffStartsOverAfterWorkingLink(t *testing.T) {
	const perConn = stableFrames + 3 // 7
	f := startFake(t, func(c *fakeConn) {
		for range perConn {
			h, req, err := c.readRequest()
			if err != nil {
				return
			}
			c.answer(h, plcAnswer(req))
		}
		c.reset()
	})
	o := testOptions(t)
	o.stableAfter = time.Hour // only the answers can make a link one that worked
	attempts := recordBackoff(&o)
	c := dial(t, f.addr, o)
	const requests = 4 * perConn
	for range requests {
		// One may fail (written as the reset came): the backoff is what matters.
		c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(0, 1))
	}
	if attempts := attempts(); len(attempts) != 0 || f.accepts() < 3 {
		t.Errorf("Backoff attempts %v over %d connections; want none: every link answered %d requests",
			attempts, f.accepts(), perConn)
	}
}

// TestBackoffHoldsAfterAnswer: a device that answers once on every
// connection and then resets it. The backoff must not start over after
// each answered link: the reconnect attempts Backoff sees keep counting 1,
// 2, 3, ... instead of one immediate reconnect per request.
func TestBackoffHoldsAfterAnswer(t *testing.T) {
	f := startFake(t, func(c *fakeConn) {
		h, req, err := c.readRequest()
		if err != nil {
			return
		}
		c.answer(h, plcAnswer(req))
		c.reset()
	})
	o := testOptions(t)
	o.stableAfter = time.Hour // no link here holds long enough
	attempts := recordBackoff(&o)
	c := dial(t, f.addr, o)
	const requests = 8
	for range requests {
		// Some fail (written as the reset came): the count is what matters.
		c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(0, 1))
	}
	got := attempts()
	for i, n := range got {
		if n != i+1 {
			t.Fatalf("Backoff attempts %v: want 1, 2, 3, ... (the backoff started over)", got)
		}
	}
	if len(got) < 2 || f.accepts() > requests+1 {
		t.Errorf("Backoff attempts %v over %d connections for %d requests; want the backoff used between them",
			got, f.accepts(), requests)
	}
}
