package transport

import (
	"context"
	"errors"
	"io"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plcctl/plcctl/modbus"
)

// TestConcurrentCallers: many goroutines share one Conn, with and without
// pipelining. The fake answers each request from its own goroutine, so
// answers come back in any order; each caller must get its own, and the
// server never sees more requests outstanding than MaxInFlight.
func TestConcurrentCallers(t *testing.T) {
	for _, inFlight := range []int{1, 4, 16} {
		t.Run("MaxInFlight="+strconv.Itoa(inFlight), func(t *testing.T) {
			var mu sync.Mutex
			outstanding, peak := 0, 0
			f := startFake(t, func(c *fakeConn) {
				var wmu sync.Mutex
				var wg sync.WaitGroup
				defer wg.Wait()
				for {
					h, req, err := c.readRequest()
					if err != nil {
						return
					}
					mu.Lock()
					outstanding++
					peak = max(peak, outstanding)
					mu.Unlock()
					wg.Go(func() {
						wmu.Lock()
						defer wmu.Unlock()
						mu.Lock()
						outstanding--
						mu.Unlock()
						c.answer(h, plcAnswer(req))
					})
				}
			})
			o := testOptions(t)
			o.MaxInFlight = inFlight
			o.AllowReorder = true // the fake answers each request from its own goroutine
			c := dial(t, f.addr, o)
			const callers, each = 8, 50
			var wg sync.WaitGroup
			for g := range callers {
				wg.Go(func() {
					for i := range each {
						addr := uint16(g*1000 + i*7)
						rsp, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(addr, uint16(i%10+1)))
						if err != nil {
							t.Errorf("caller %d: %v", g, err)
							return
						}
						checkRegs(t, rsp, addr, i%10+1)
					}
				})
			}
			wg.Wait()
			mu.Lock()
			defer mu.Unlock()
			if peak > inFlight {
				t.Errorf("server saw %d requests outstanding, MaxInFlight is %d", peak, inFlight)
			}
			if s := c.Stats(); s.Responses != callers*each || s.StaleDropped != 0 {
				t.Errorf("Stats = %+v, want %d responses, none stale", s, callers*each)
			}
		})
	}
}

// TestCloseInFlight: Close while requests are outstanding. Answers that
// arrive before the peer's FIN are delivered; requests still waiting when
// the drain ends fail with ErrClosed; requests that never got a slot fail
// with ErrClosed, not sent. Close returns in every case.
func TestCloseInFlight(t *testing.T) {
	for _, tt := range []struct {
		name        string
		answerOnEOF bool // the server answers after reading our FIN, then closes
		wantErr     error
	}{
		{"answers arrive during the drain", true, nil},
		{"peer never answers", false, ErrClosed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			const inFlight = 3
			got := make(chan struct{}, inFlight)
			release := make(chan struct{})
			f := startFake(t, func(c *fakeConn) {
				var hs []modbus.Header
				var reqs []modbus.Request
				for range inFlight {
					h, req, err := c.readRequest()
					if err != nil {
						return
					}
					hs, reqs = append(hs, h), append(reqs, req)
					got <- struct{}{}
				}
				if !tt.answerOnEOF {
					<-release
					return
				}
				if _, _, err := c.readRequest(); err != io.EOF {
					t.Errorf("server read after client Close = %v, want EOF", err)
				}
				for i := range hs {
					c.answer(hs[i], plcAnswer(reqs[i]))
				}
			})
			defer close(release)
			o := testOptions(t)
			o.MaxInFlight = inFlight
			o.Timeout = waitTimeout // the drain: ends at the peer's FIN
			if !tt.answerOnEOF {
				o.Timeout = 200 * time.Millisecond // no FIN will come
			}
			c := dial(t, f.addr, o)
			errs := make(chan error, inFlight+1)
			for i := range inFlight + 1 { // one more than may be in flight
				go func() {
					ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
					defer cancel()
					_, err := c.Send(ctx, 1, modbus.NewReadHoldingRegisters(uint16(i), 1))
					errs <- err
				}()
			}
			for range inFlight {
				recv(t, got, "request at the server")
			}
			if err := c.Close(); err != nil {
				t.Fatalf("Close = %v", err)
			}
			var ok, closedUnsent, closedSent int
			for range inFlight + 1 {
				err := recv(t, errs, "Send to return")
				switch {
				case err == nil:
					ok++
				case errors.Is(err, ErrClosed) && opError(t, err).Sent:
					closedSent++
				case errors.Is(err, ErrClosed):
					closedUnsent++
				default:
					t.Errorf("Send = %v, want nil or ErrClosed", err)
				}
			}
			if closedUnsent != 1 {
				t.Errorf("%d requests failed unsent, want 1 (the one without a slot)", closedUnsent)
			}
			if tt.wantErr == nil && ok != inFlight || tt.wantErr != nil && closedSent != inFlight {
				t.Errorf("%d answered, %d ErrClosed after sending; want all %d %v", ok, closedSent, inFlight,
					map[bool]string{true: "answered", false: "ErrClosed"}[tt.wantErr == nil])
			}
			if c.State() != StateClosed {
				t.Errorf("State = %v after Close", c.State())
			}
		})
	}
}

// TestGracefulCloseNoReset: a long session and a Close. The server's last
// read sees EOF (our FIN), never ECONNRESET, with SO_LINGER untouched.
func TestGracefulCloseNoReset(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 1000
	}
	serverEnd := make(chan error, 1)
	f := startFake(t, func(c *fakeConn) {
		for {
			h, req, err := c.readRequest()
			if err != nil {
				serverEnd <- err
				return
			}
			if err := c.answer(h, plcAnswer(req)); err != nil {
				serverEnd <- err
				return
			}
		}
	})
	o := testOptions(t)
	o.Logger = nil // 10,000 debug lines would drown the test log
	c := dial(t, f.addr, o)
	for i := range n {
		addr := uint16(i % 60000)
		rsp, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(addr, 2))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		checkRegs(t, rsp, addr, 2)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	err := recv(t, serverEnd, "server to see the end of the stream")
	if err != io.EOF {
		t.Errorf("server's last read = %v, want io.EOF (reset: %v)", err, errors.Is(err, syscall.ECONNRESET))
	}
	if s := c.Stats(); s.Responses != uint64(n) || s.LinkDowns != 0 || s.StaleDropped != 0 {
		t.Errorf("Stats = %+v, want %d responses and nothing else", s, n)
	}
}

// TestCloseWhileDown: Close while the supervisor is backing off returns
// promptly and stops it.
func TestCloseWhileDown(t *testing.T) {
	f := startFake(t, servePLC)
	o := testOptions(t)
	o.Backoff = func(int) time.Duration { return time.Hour }
	st := states(&o)
	c := dial(t, f.addr, o)
	f.stop()
	waitState(t, st, StateReconnecting)
	waiting := make(chan error, 1)
	go func() {
		_, err := c.Send(context.Background(), 1, modbus.NewReadHoldingRegisters(0, 1))
		waiting <- err
	}()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, waiting, "waiting Send"); !errors.Is(err, ErrClosed) && !errors.Is(err, ErrNotConnected) {
		t.Errorf("Send waiting for the link during Close = %v, want ErrClosed", err)
	}
	waitState(t, st, StateClosed)
}
