package transport

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestGate: a gate never lets more than n holders in, and no free slot is
// left unseen while goroutines wait, also when waiters leave (their stop
// channel is closed) and when several slots are given back at once.
func TestGate(t *testing.T) {
	for _, n := range []int{1, 3} {
		t.Run(map[int]string{1: "one slot", 3: "three slots"}[n], func(t *testing.T) {
			var g gate
			g.init(n)
			var in, most atomic.Int32
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var took atomic.Int32
			for i := range 40 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for j := range 200 {
						var s <-chan struct{}
						if (i+j)%5 == 0 {
							s = stop // some waiters leave once stop closes
						}
						if g.lock(s, nil, nil, nil) >= 0 {
							continue
						}
						took.Add(1)
						if k := in.Add(1); k > most.Load() {
							most.Store(k)
						}
						if k := in.Load(); k > int32(n) {
							t.Errorf("%d holders of a gate of %d", k, n)
						}
						in.Add(-1)
						g.unlock()
					}
				}()
			}
			time.AfterFunc(time.Millisecond, func() { close(stop) })
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			recv(t, done, "every goroutine through the gate")
			if g.s.Load() != 0 {
				t.Errorf("state %#x after everyone left, want 0", g.s.Load())
			}
			if took.Load() == 0 {
				t.Error("no goroutine took a slot")
			}
		})
	}
}

// TestGateWakesTheNext: two slots given back while two waiters were
// between their look and their wait leave one wake-up; the waiter that
// takes it and a slot wakes the other, which finds the other slot.
func TestGateWakesTheNext(t *testing.T) {
	var g gate
	g.init(2)
	g.tryLock()
	g.tryLock()
	g.join()
	g.join()
	if g.take() {
		t.Fatal("take found a slot in a full gate")
	}
	g.unlock()
	g.unlock()
	for i := range 2 {
		select {
		case <-g.wake:
		default:
			t.Fatalf("waiter %d: no wake-up with a slot free", i+1)
		}
		if !g.take() {
			t.Fatalf("waiter %d: take found no slot", i+1)
		}
	}
	if g.s.Load() != 2 {
		t.Errorf("state %#x, want two slots taken, no waiter", g.s.Load())
	}
}
