package transport

import (
	"sync"
	"sync/atomic"
	"time"
)

// slots are a Conn's in-flight slots: a semaphore of n that hands a slot
// given back straight to the request that has waited longest. A gate lets
// whoever comes take a free slot first, so a caller that gives its slot
// back and at once sends again (it is running; the waiter it woke is not
// yet) takes it again and again: with 16 goroutines polling through one
// slot, a request waited for its slot until its whole deadline (a second)
// was gone, while the others were served hundreds of times. Here, once a
// request waits, no later one passes it: a request waits for at most the
// requests ahead of it, each one exchange.
//
// Uncontended, a take and a give back are one atomic operation each. The
// state word holds the slots taken (low 32 bits) and the requests queued
// (high 32 bits); the queue and the queued count change only under mu. While
// one waits, every slot is taken: a slot is given back to the word only
// when no one is queued (else it is handed over, still taken), and a take
// from the word fails while someone is queued.
type slots struct {
	s          atomic.Uint64
	n          uint32
	mu         sync.Mutex
	head, tail *slotWaiter
}

// slotWaiter is one request's place in the queue. It belongs to the call,
// so that waiting allocates nothing.
type slotWaiter struct {
	ready  chan struct{} // buffered: a slot handed over, sent under mu
	next   *slotWaiter
	queued bool // in the queue (mu)
}

func (q *slots) init(n int) { q.n = uint32(n) }

// tryLock takes a slot if one is free and no one waits for one.
func (q *slots) tryLock() bool {
	for {
		s := q.s.Load()
		if s>>32 != 0 || uint32(s) >= q.n {
			return false
		}
		if q.s.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

// unlock gives a slot back: to the first request queued, if any.
func (q *slots) unlock() {
	for {
		s := q.s.Load()
		if s>>32 != 0 {
			break
		}
		if q.s.CompareAndSwap(s, s-1) {
			return
		}
	}
	q.mu.Lock()
	w := q.head
	if w == nil { // the one queued left before we took mu
		q.s.Add(^uint64(0))
		q.mu.Unlock()
		return
	}
	q.remove(w, nil)
	q.s.Add(^(oneWaiter - 1)) // one queued fewer; the slot stays taken, by w now
	w.ready <- struct{}{}
	q.mu.Unlock()
}

// lock takes a slot, queueing w until one is handed over or one of the
// stop channels is ready (nil ones never are). It returns -1 with the slot
// taken, or the index of the stop channel that ended the wait (0..2, 3 for
// t) with no slot taken. A slot handed over as a stop came is passed on.
func (q *slots) lock(w *slotWaiter, s0, s1, s2 <-chan struct{}, t <-chan time.Time) int {
	if q.tryLock() {
		return -1
	}
	if w.ready == nil {
		w.ready = make(chan struct{}, 1)
	}
	q.mu.Lock()
	for {
		s := q.s.Load()
		if uint32(s) < q.n { // given back before we took mu: no one is queued (see slots)
			if q.s.CompareAndSwap(s, s+1) {
				q.mu.Unlock()
				return -1
			}
			continue
		}
		if q.s.CompareAndSwap(s, s+oneWaiter) {
			break
		}
	}
	w.queued, w.next = true, nil
	if q.tail == nil {
		q.head = w
	} else {
		q.tail.next = w
	}
	q.tail = w
	q.mu.Unlock()

	stop := waitStop(w.ready, s0, s1, s2, t)
	if stop < 0 {
		return -1
	}
	q.mu.Lock()
	if w.queued {
		q.unqueue(w)
		q.s.Add(^(oneWaiter - 1))
		q.mu.Unlock()
		return stop
	}
	q.mu.Unlock()
	<-w.ready // handed over as we stopped: sent under mu, so it is here
	q.unlock()
	return stop
}

// unqueue removes w from anywhere in the queue. Called with mu held.
func (q *slots) unqueue(w *slotWaiter) {
	var prev *slotWaiter
	for p := q.head; p != w; p = p.next {
		prev = p
	}
	q.remove(w, prev)
}

// remove takes w, which follows prev (nil: w is the head), out of the
// queue. Called with mu held.
func (q *slots) remove(w, prev *slotWaiter) {
	if prev == nil {
		q.head = w.next
	} else {
		prev.next = w.next
	}
	if q.tail == w {
		q.tail = prev
	}
	w.next, w.queued = nil, false
}
