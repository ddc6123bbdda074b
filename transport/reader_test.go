package transport

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/plcctl/plcctl/modbus"
)

// These tests cover reading by the requests themselves (read.go): the
// reader's role passing between requests, to and from the link's watcher,
// in the middle of a frame, under cancellation, and the socket deadlines a
// request may inherit from an earlier one.

// currentLink returns c's link, failing if it is down.
func currentLink(t *testing.T, c *Conn) *link {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.link == nil {
		t.Fatal("link down")
	}
	return c.link
}

func TestCloseEnough(t *testing.T) {
	start := time.Unix(1000, 0)
	d := start.Add(1600 * time.Millisecond) // 1/16 of it: 100 ms
	for _, tt := range []struct {
		name string
		cur  time.Time
		want bool
	}{
		{"same", d, true},
		{"100 ms before", d.Add(-100 * time.Millisecond), true},
		{"101 ms before", d.Add(-101 * time.Millisecond), false},
		{"after", d.Add(time.Nanosecond), false},
		{"none set", time.Time{}, false},
		{"a kick's", aLongTimeAgo, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := closeEnough(tt.cur, d, earliest(d, start)); got != tt.want {
				t.Errorf("closeEnough(%v, d, start) = %v, want %v", d.Sub(tt.cur), got, tt.want)
			}
		})
	}
	if closeEnough(start, start, earliest(start, start.Add(time.Second))) {
		t.Error("closeEnough with a deadline before the start = true")
	}
}

// TestEarlyDeadlineWake: a socket deadline left by an earlier request and
// kept because it was close enough may fire before the request's own. The
// request must not fail: it sets its deadline and goes on reading (or
// writing). Here the kept deadline has already passed, the extreme case.
func TestEarlyDeadlineWake(t *testing.T) {
	for _, side := range []string{"read", "write"} {
		t.Run(side, func(t *testing.T) {
			got := make(chan struct{}, 1)
			f := startFake(t, func(c *fakeConn) {
				for {
					h, req, err := c.readRequest()
					if err != nil {
						return
					}
					got <- struct{}{}
					if c.answer(h, plcAnswer(req)) != nil {
						return
					}
				}
			})
			o := testOptions(t)
			o.idleWatch = time.Hour // the watcher must not hold rlock
			c := dial(t, f.addr, o)
			l := currentLink(t, c)
			dl := time.Now().Add(waitTimeout)
			ctx, cancel := context.WithDeadline(t.Context(), dl)
			defer cancel()
			l.rlock.lock(nil, nil, nil, nil)
			l.wlock.lock(nil, nil, nil, nil)
			if side == "read" {
				l.nc.SetReadDeadline(aLongTimeAgo)
				l.rs.dl = dl
			} else {
				l.nc.SetWriteDeadline(aLongTimeAgo)
				l.wdl = dl
			}
			l.wlock.unlock()
			if side == "read" {
				l.rlock.unlock() // the request reads for itself
			}
			done := make(chan error, 1)
			go func() {
				rsp, err := c.Send(ctx, 1, modbus.NewReadHoldingRegisters(3, 2))
				if err == nil {
					checkRegs(t, rsp, 3, 2)
				}
				done <- err
			}()
			if side == "write" {
				recv(t, got, "the request at the server") // written although rlock is held
				l.rlock.unlock()                          // now it may read
			}
			if err := recv(t, done, "Send"); err != nil {
				t.Fatalf("Send = %v, want success after an early wake-up", err)
			}
			if s := c.Stats(); s.Timeouts != 0 || s.LinkDowns != 0 {
				t.Errorf("Stats = %+v, want no timeout, the link kept", s)
			}
		})
	}
}

// TestReaderLeavesMidFrame: the request reading the link gives up (its
// deadline) after half of a frame arrived. The next request takes over the
// frame where it was left, drops it as the late answer it is, and reads
// its own answer. The stream stays in step; the link stays up.
func TestReaderLeavesMidFrame(t *testing.T) {
	gotA, aDone := make(chan struct{}), make(chan struct{})
	f := startFake(t, func(c *fakeConn) {
		hA, rA, err := c.readRequest()
		if err != nil {
			return
		}
		close(gotA)
		hB, rB, err := c.readRequest()
		if err != nil {
			return
		}
		a, _ := modbus.AppendADU(nil, hA.TID, hA.UnitID, plcAnswer(rA))
		b, _ := modbus.AppendADU(nil, hB.TID, hB.UnitID, plcAnswer(rB))
		if _, err := c.Write(a[:5]); err != nil {
			return
		}
		<-aDone
		c.Write(a[5:])
		c.Write(b)
		servePLC(c)
	})
	o := testOptions(t)
	o.MaxInFlight = 2
	o.idleWatch = time.Hour
	c := dial(t, f.addr, o)
	aErr := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		_, err := c.Send(ctx, 1, modbus.NewReadHoldingRegisters(100, 2))
		aErr <- err
	}()
	recv(t, gotA, "request A at the server")
	bErr := make(chan error, 1)
	go func() {
		rsp, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(200, 3))
		if err == nil {
			checkRegs(t, rsp, 200, 3)
		}
		bErr <- err
	}()
	if err := recv(t, aErr, "request A to give up"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("request A = %v, want DeadlineExceeded", err)
	}
	close(aDone)
	if err := recv(t, bErr, "request B"); err != nil {
		t.Fatalf("request B = %v, want its answer", err)
	}
	if s := c.Stats(); s.StaleDropped != 1 || s.LinkDowns != 0 || s.Responses != 1 {
		t.Errorf("Stats = %+v, want A's answer dropped late, B answered, the link kept", s)
	}
}

// TestWatcherHandsBack: on a link idle long enough, the watcher reads. A
// request then gets its answer through its channel, and the requests after
// it read for themselves again; all of them, sequential or concurrent, get
// their own answers.
func TestWatcherHandsBack(t *testing.T) {
	f := startFake(t, servePLC)
	o := testOptions(t)
	o.MaxInFlight = 4
	o.idleWatch = time.Millisecond
	c := dial(t, f.addr, o)
	l := currentLink(t, c)
	for round := range 5 {
		waitHeld(t, l) // the watcher reads the idle link
		for i := range 3 {
			addr := uint16(round*100 + i)
			rsp, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(addr, 2))
			if err != nil {
				t.Fatalf("round %d request %d: %v", round, i, err)
			}
			checkRegs(t, rsp, addr, 2)
		}
		concurrentReads(t, c, 4, 10)
	}
	if s := c.Stats(); s.LinkDowns != 0 || s.StaleDropped != 0 {
		t.Errorf("Stats = %+v, want no loss, nothing stale", s)
	}
}

// waitHeld waits until someone holds l's rlock.
func waitHeld(t *testing.T, l *link) {
	t.Helper()
	waitFor(t, "the watcher to take the reader's role", func() bool { return l.rlock.held() })
}

// concurrentReads runs callers goroutines of n reads each and checks every
// answer.
func concurrentReads(t *testing.T, c *Conn, callers, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for g := range callers {
		wg.Go(func() {
			for i := range n {
				addr := uint16(1000 + g*100 + i)
				rsp, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(addr, uint16(i%5+1)))
				if err != nil {
					t.Errorf("caller %d: %v", g, err)
					return
				}
				checkRegs(t, rsp, addr, i%5+1)
			}
		})
	}
	wg.Wait()
}

// TestMixedModes: callers that read for themselves, wait for another
// reader, get cancelled while reading or waiting, or time out, all on one
// link whose server answers in any order after random delays. Every answer
// a caller gets is its own, cancelled and timed-out requests leave the link
// usable, and Close leaves no goroutine.
func TestMixedModes(t *testing.T) {
	for _, inFlight := range []int{1, 4, 16} {
		t.Run("MaxInFlight="+strconv.Itoa(inFlight), func(t *testing.T) {
			f := startFake(t, func(c *fakeConn) {
				var wmu sync.Mutex
				var wg sync.WaitGroup
				defer wg.Wait()
				for {
					h, req, err := c.readRequest()
					if err != nil {
						return
					}
					wg.Go(func() {
						delay := time.Duration(rand.IntN(2000)) * time.Microsecond
						<-time.After(delay)
						wmu.Lock()
						defer wmu.Unlock()
						c.answer(h, plcAnswer(req))
					})
				}
			})
			base := runtime.NumGoroutine()
			o := testOptions(t)
			o.MaxInFlight = inFlight
			o.AllowReorder = true    // the fake answers each request after its own random delay
			o.DeadAfterTimeouts = -1 // timeouts here are ours, not the peer's
			o.idleWatch = 5 * time.Millisecond
			c, err := Dial(t.Context(), f.addr, o)
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Go(func() { mixedCaller(t, c, g) })
			}
			wg.Wait()
			concurrentReads(t, c, 4, 5) // the link still works for everyone
			if s := c.Stats(); s.LinkDowns != 0 {
				t.Errorf("Stats = %+v, want the link kept", s)
			}
			c.Close()
			f.stop()
			waitNoLeak(t, base)
		})
	}
}

// mixedCaller sends 60 reads: plain ones, ones whose ctx is cancelled
// after a random moment, ones with a deadline that may pass first.
func mixedCaller(t *testing.T, c *Conn, g int) {
	for i := range 60 {
		addr := uint16(g*1000 + i)
		ctx, cancel := context.WithCancel(context.Background())
		switch i % 3 {
		case 1:
			time.AfterFunc(time.Duration(rand.IntN(1500))*time.Microsecond, cancel)
		case 2:
			ctx, cancel = context.WithTimeout(ctx, time.Duration(500+rand.IntN(1500))*time.Microsecond)
		}
		rsp, err := c.Send(ctx, 1, modbus.NewReadHoldingRegisters(addr, 3))
		cancel()
		switch {
		case err == nil:
			checkRegs(t, rsp, addr, 3)
		case i%3 == 0 || !isCtxErr(err):
			t.Errorf("caller %d request %d: %v", g, i, err)
			return
		}
	}
}

// TestKickStaysWithItsRequest: cancelling a request wakes its blocked read
// by moving the socket's deadline; that must never reach the request that
// reads next, which would then fail or wait twice. Each round cancels a
// request the server answers only later, just before the next one's, then
// sends one with no ctx deadline and nothing to cancel it.
func TestKickStaysWithItsRequest(t *testing.T) {
	got := make(chan struct{}, 1)
	f := startFake(t, func(c *fakeConn) {
		var late []byte
		for {
			h, req, err := c.readRequest()
			if err != nil {
				return
			}
			if req.(*modbus.ReadRegisters).Address == 0 {
				late, _ = modbus.AppendADU(nil, h.TID, h.UnitID, plcAnswer(req))
				got <- struct{}{} // the one to cancel: answered late
				continue
			}
			if _, err := c.Write(late); err != nil || c.answer(h, plcAnswer(req)) != nil {
				return
			}
		}
	})
	o := testOptions(t)
	o.DeadAfterTimeouts = -1
	c := dial(t, f.addr, o)
	for i := range 100 {
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-got; cancel() }()
		if _, err := c.Send(ctx, 1, modbus.NewReadHoldingRegisters(0, 1)); !errors.Is(err, context.Canceled) {
			t.Fatalf("round %d: cancelled Send = %v", i, err)
		}
		rsp, err := c.Send(context.Background(), 1, modbus.NewReadHoldingRegisters(uint16(i+1), 2))
		if err != nil {
			t.Fatalf("round %d: Send after a cancelled one = %v", i, err)
		}
		checkRegs(t, rsp, uint16(i+1), 2)
	}
	if s := c.Stats(); s.LinkDowns != 0 || s.Timeouts != 100 || s.StaleDropped != 100 {
		t.Errorf("Stats = %+v, want 100 cancelled and answered late, the link kept", s)
	}
}

// TestIdleFINNoticed: the server closes a link that has been idle for a
// while; the watcher, reading by then, notices at once and the link is
// re-dialled before the next request.
func TestIdleFINNoticed(t *testing.T) {
	closeNow := make(chan struct{})
	f := startFake(t, func(c *fakeConn) {
		if c.n > 0 {
			servePLC(c)
			return
		}
		h, req, err := c.readRequest()
		if err == nil {
			c.answer(h, plcAnswer(req))
		}
		<-closeNow
	})
	o := testOptions(t)
	o.idleWatch = time.Millisecond
	st := states(&o)
	c := dial(t, f.addr, o)
	if _, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(0, 1)); err != nil {
		t.Fatal(err)
	}
	waitHeld(t, currentLink(t, c))
	close(closeNow)
	waitState(t, st, StateReconnecting)
	waitState(t, st, StateConnected)
	rsp, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(10, 2))
	if err != nil {
		t.Fatalf("request after the idle close = %v", err)
	}
	checkRegs(t, rsp, 10, 2)
}

// TestOwnDeadlineWhileWaiting: without a ctx deadline, Options.Timeout is a
// plain deadline: a request that waits while another reads has only its
// timer to end it. Both requests to a silent server end with
// DeadlineExceeded, the link is not declared dead (two silent timeouts are
// not three), and the next request works: its first answer comes while the
// two are unanswered, so it is refused and read again on a new link.
func TestOwnDeadlineWhileWaiting(t *testing.T) {
	got := make(chan struct{}, 2)
	f := startFake(t, func(c *fakeConn) {
		for range 2 * (1 - min(c.n, 1)) { // silent for two requests on the first link
			if _, _, err := c.readRequest(); err != nil {
				return
			}
			got <- struct{}{}
		}
		servePLC(c)
	})
	o := testOptions(t)
	o.MaxInFlight = 2
	o.Timeout = 100 * time.Millisecond
	c := dial(t, f.addr, o)
	errs := make(chan error, 2)
	for i := range 2 {
		go func() {
			_, err := c.Send(context.Background(), 1, modbus.NewReadHoldingRegisters(uint16(i), 1))
			errs <- err
		}()
		recv(t, got, "a request at the server") // the first reads, the second waits
	}
	for range 2 {
		if err := recv(t, errs, "Send"); !errors.Is(err, context.DeadlineExceeded) || !opError(t, err).Sent {
			t.Errorf("Send = %v, want DeadlineExceeded after sending", err)
		}
	}
	rsp, err := c.Send(context.Background(), 1, modbus.NewReadHoldingRegisters(9, 2))
	if err != nil {
		t.Fatalf("next Send = %v", err)
	}
	checkRegs(t, rsp, 9, 2)
	if s := c.Stats(); s.Timeouts != 2 || s.DeadLinks != 0 || s.Refused != 1 {
		t.Errorf("Stats = %+v, want 2 timeouts, no dead link, the next answer refused", s)
	}
}

// TestBufferWraps: sixteen answers of 125 registers, about as much as the
// read buffer holds, arrive in two writes cut inside a frame, out of order;
// the frame cut in two must be completed after the buffer is compacted.
func TestBufferWraps(t *testing.T) {
	const n = MaxInFlightLimit
	f := startFake(t, func(c *fakeConn) {
		for {
			var out []byte
			for range n {
				h, req, err := c.readRequest()
				if err != nil {
					return
				}
				adu, _ := modbus.AppendADU(nil, h.TID, h.UnitID, plcAnswer(req))
				out = append(adu, out...)
			}
			cut := readBufLen - modbus.MaxADULen + 3
			if _, err := c.Write(out[:cut]); err != nil {
				return
			}
			if _, err := c.Write(out[cut:]); err != nil {
				return
			}
		}
	})
	o := testOptions(t)
	o.MaxInFlight = n
	o.AllowReorder = true // the fake answers newest first
	c := dial(t, f.addr, o)
	for round := range 10 {
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				addr := uint16(round*3000 + i*150)
				rsp, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(addr, modbus.MaxReadRegisters))
				if err != nil {
					t.Errorf("round %d request %d: %v", round, i, err)
					return
				}
				checkRegs(t, rsp, addr, modbus.MaxReadRegisters)
			})
		}
		wg.Wait()
	}
}
