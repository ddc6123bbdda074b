package transport

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/plcctl/plcctl/modbus"
)

// ourFrames are functions whose goroutines a Conn starts or blocks in.
var ourFrames = [][]byte{
	[]byte("transport.(*Conn)"), []byte("transport.(*link)"), []byte("transport.watchDeadline"),
}

// waitNoLeak waits until the goroutine count is back to base and no
// goroutine runs in the Conn's code, failing with every stack if that does
// not happen within waitTimeout.
func waitNoLeak(t *testing.T, base int) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	buf := make([]byte, 1<<20)
	for {
		n := runtime.NumGoroutine()
		stacks := buf[:runtime.Stack(buf, true)]
		ours := false
		for _, f := range ourFrames {
			ours = ours || bytes.Contains(stacks, f)
		}
		if n <= base && !ours {
			return
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("%d goroutines after Close, %d before Dial (ours left: %v):\n%s", n, base, ours, stacks)
		}
	}
}

// TestCloseLeavesNoGoroutines: whatever the Conn was doing, once Close
// returns (and the callers it failed have returned) no goroutine it
// started is left.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	for _, tt := range []struct {
		name   string
		silent bool // the first connection reads requests, answers none
		opts   func(*Options)
		// before runs against the open Conn; it returns how many Sends it
		// left running and the channel each reports its error on. got
		// yields each request the silent peer reads.
		before func(t *testing.T, env leakEnv) (running int, done chan error)
	}{
		{"idle after requests", false, nil, func(t *testing.T, e leakEnv) (int, chan error) {
			c := e.c
			for i := range 20 {
				if _, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(uint16(i), 1)); err != nil {
					t.Fatal(err)
				}
			}
			return 0, nil
		}},
		{"pipelined requests to a silent peer", true, func(o *Options) { o.MaxInFlight = 4 },
			func(t *testing.T, e leakEnv) (int, chan error) {
				done := make(chan error, 6)
				for range 6 { // 4 in flight, 2 waiting for a slot
					go func() {
						_, err := e.c.Send(context.Background(), 1, modbus.NewReadHoldingRegisters(0, 1))
						done <- err
					}()
				}
				for range 4 {
					recv(t, e.got, "a request at the silent peer")
				}
				return 6, done
			}},
		{"after timeouts and a dead link", true, nil, func(t *testing.T, e leakEnv) (int, chan error) {
			for range DefaultDeadAfterTimeouts {
				sendTimeout(t, e.c, 20*time.Millisecond)
			}
			waitState(t, e.st, StateConnected)
			if _, err := e.c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(0, 1)); err != nil {
				t.Fatal(err)
			}
			return 0, nil
		}},
		{"backing off while down, a request waiting", false, func(o *Options) {
			o.Backoff = func(int) time.Duration { return time.Hour }
		}, func(t *testing.T, e leakEnv) (int, chan error) {
			e.f.stop()
			waitState(t, e.st, StateReconnecting)
			done := make(chan error, 1)
			go func() {
				_, err := e.c.Send(context.Background(), 1, modbus.NewReadHoldingRegisters(0, 1))
				done <- err
			}()
			return 1, done
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan struct{}, 16)
			serve := servePLC
			if tt.silent {
				serve = func(c *fakeConn) {
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
				}
			}
			f := startFake(t, serve)
			base := runtime.NumGoroutine()
			o := testOptions(t)
			if tt.opts != nil {
				tt.opts(&o)
			}
			st := states(&o)
			c, err := Dial(t.Context(), f.addr, o)
			if err != nil {
				t.Fatal(err)
			}
			running, done := tt.before(t, leakEnv{f: f, c: c, st: st, got: got})
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			for range running {
				if err := recv(t, done, "a Send failed by Close"); !errors.Is(err, ErrClosed) {
					t.Errorf("Send during Close = %v, want ErrClosed", err)
				}
			}
			f.stop() // the fake's own goroutines end with their connections
			waitNoLeak(t, base)
		})
	}
}

type leakEnv struct {
	f   *fake
	c   *Conn
	st  chan State
	got chan struct{}
}
