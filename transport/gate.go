package transport

import (
	"sync/atomic"
	"time"
)

// gate is a semaphore of n slots (with n = 1, a link's rlock and wlock
// roles; a Conn's in-flight slots are slots, handed over in order) that a
// waiter can leave when its ctx ends, as a channel of n slots can, but
// whose uncontended take and give back are one atomic operation each,
// not a channel operation (a lock, a copy and an unlock of the channel's
// runtime lock): a sequential request takes and gives back two of them
// (and its in-flight slot, likewise).
//
// The state word holds the slots taken (low 32 bits) and the goroutines
// waiting (high 32 bits). A waiter counts itself in (join), then takes a
// slot when one is free (take) or waits on wake, a one-token channel that
// whoever frees a slot, or passes a wake-up on, fills when someone waits.
// Two slots given back at once leave one token: so a woken waiter that
// takes a slot while others wait and a slot is still free wakes the next
// one, and no free slot stays unseen by a waiter. A goroutine
// that comes while others wait may take a free slot first (like
// sync.Mutex outside starvation mode); the waiters then wait for its give
// back. Spurious wake-ups are harmless: the waiter looks and waits again.
type gate struct {
	s    atomic.Uint64
	n    uint32
	wake chan struct{}
}

const oneWaiter uint64 = 1 << 32

func (g *gate) init(n int) { g.n, g.wake = uint32(n), make(chan struct{}, 1) }

// tryLock takes a slot if one is free.
func (g *gate) tryLock() bool {
	for {
		s := g.s.Load()
		if uint32(s) >= g.n {
			return false
		}
		if g.s.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

// unlock gives a slot back, and wakes a waiter if one waits.
func (g *gate) unlock() {
	if s := g.s.Add(^uint64(0)); s>>32 != 0 {
		g.signal()
	}
}

// held reports whether every slot is taken (for tests).
func (g *gate) held() bool { return uint32(g.s.Load()) >= g.n }

func (g *gate) signal() {
	select {
	case g.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// join counts the caller in as a waiter; it then calls take until it
// succeeds, waiting on wake in between, or leave.
func (g *gate) join() { g.s.Add(oneWaiter) }

// take takes a slot for a waiter that joined, if one is free, and counts
// it out.
func (g *gate) take() bool {
	for {
		s := g.s.Load()
		if uint32(s) >= g.n {
			return false
		}
		if t := s + 1 - oneWaiter; g.s.CompareAndSwap(s, t) {
			if t>>32 != 0 && uint32(t) < g.n { // more waiters, more room: wake the next
				g.signal()
			}
			return true
		}
	}
}

// leave counts out a waiter that gives up without a slot. It took no
// wake-up (a waiter that takes one always looks again with take), so it
// has none to pass on.
func (g *gate) leave() { g.s.Add(^(oneWaiter - 1)) }

// lock takes a slot, waiting until one of the stop channels is ready
// (nil ones never are). It returns -1 with the slot taken, or the index
// of the stop channel that ended the wait (0..2, 3 for t). Where a slot and
// a stop are ready at once, either may win, as in a select.
func (g *gate) lock(s0, s1, s2 <-chan struct{}, t <-chan time.Time) int {
	if g.tryLock() {
		return -1
	}
	g.join()
	for !g.take() {
		if stop := waitStop(g.wake, s0, s1, s2, t); stop >= 0 {
			g.leave()
			return stop
		}
	}
	return -1
}

// waitStop waits until c or one of the stop channels is ready (nil ones never
// are): -1 for c, else the stop's index (0..2, 3 for t).
func waitStop(c, s0, s1, s2 <-chan struct{}, t <-chan time.Time) int {
	select {
	case <-c:
		return -1
	case <-s0:
		return 0
	case <-s1:
		return 1
	case <-s2:
		return 2
	case <-t:
		return 3
	}
}
