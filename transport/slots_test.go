package transport

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/modbus"
)

// queuedSlots waits until n requests are queued on q.
func queuedSlots(t *testing.T, q *slots, n int) {
	t.Helper()
	testutil.WaitFor(t, waitTimeout, "requests queued for a slot", func() bool {
		return int(q.s.Load()>>32) == n
	})
}

// TestSlotsInOrder: slots go to the requests queued in the order they
// queued, whatever the order the scheduler runs them in.
func TestSlotsInOrder(t *testing.T) {
	var q slots
	q.init(1)
	if !q.tryLock() {
		t.Fatal("tryLock on free slots failed")
	}
	const n = 6
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var w slotWaiter
			if got := q.lock(&w, nil, nil, nil, nil); got != -1 {
				t.Errorf("waiter %d: lock = %d, want the slot", i, got)
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			q.unlock()
		})
		queuedSlots(t, &q, i+1)
	}
	q.unlock()
	wg.Wait()
	for i, got := range order {
		if got != i {
			t.Fatalf("slots taken in order %v, want 0..%d", order, n-1)
		}
	}
	if len(order) != n || q.s.Load() != 0 || q.head != nil || q.tail != nil {
		t.Fatalf("order %v, state %#x, head %p, tail %p; want %d takers, all given back", order, q.s.Load(), q.head, q.tail, n)
	}
}

// TestSlotsNoCutting: a request that gives its slot back while another
// waits cannot take it again at once: the slot is the waiter's. (A gate
// lets it, and a caller sending in a loop then kept the slot from a
// waiter until the waiter's deadline ended.)
func TestSlotsNoCutting(t *testing.T) {
	for _, n := range []int{1, 2} {
		var q slots
		q.init(n)
		for range n {
			q.tryLock()
		}
		got := make(chan int, 1)
		go func() {
			var w slotWaiter
			got <- q.lock(&w, nil, nil, nil, nil)
		}()
		queuedSlots(t, &q, 1)
		q.unlock()
		if q.tryLock() {
			t.Fatalf("%d slots: tryLock took the slot given back while a request waited for it", n)
		}
		var w slotWaiter
		stop := make(chan struct{})
		close(stop)
		if r := q.lock(&w, stop, nil, nil, nil); r != 0 {
			t.Fatalf("%d slots: lock with its stop closed = %d, want 0 (none free)", n, r)
		}
		if r := recv(t, got, "the waiter's slot"); r != -1 {
			t.Fatalf("%d slots: waiter's lock = %d, want the slot", n, r)
		}
		if s := q.s.Load(); s != uint64(n) {
			t.Fatalf("%d slots: state %#x, want all %d taken, none queued", n, s, n)
		}
	}
}

// TestSlotsLeave: a queued request whose stop comes leaves the queue and
// takes no slot; the one behind it is next, and every stop channel is
// reported by its index.
func TestSlotsLeave(t *testing.T) {
	var q slots
	q.init(1)
	q.tryLock()
	stops := [4]chan struct{}{}
	res := [4]chan int{}
	for i := range stops {
		stops[i], res[i] = make(chan struct{}), make(chan int, 1)
		go func() {
			var w slotWaiter
			var s [3]<-chan struct{}
			var tc <-chan time.Time
			if i < 3 {
				s[i] = stops[i]
			} else {
				tch := make(chan time.Time)
				go func() { <-stops[i]; close(tch) }()
				tc = tch
			}
			res[i] <- q.lock(&w, s[0], s[1], s[2], tc)
		}()
		queuedSlots(t, &q, i+1)
	}
	last := make(chan int, 1)
	go func() {
		var w slotWaiter
		last <- q.lock(&w, nil, nil, nil, nil)
	}()
	queuedSlots(t, &q, 5)
	for _, i := range []int{2, 0, 3, 1} { // from the middle, the head, the tail...
		close(stops[i])
		if r := recv(t, res[i], "a leaving waiter"); r != i {
			t.Fatalf("waiter %d: lock = %d, want %d (its stop)", i, r, i)
		}
	}
	queuedSlots(t, &q, 1)
	q.unlock()
	if r := recv(t, last, "the last waiter's slot"); r != -1 {
		t.Fatalf("last waiter: lock = %d, want the slot", r)
	}
	q.unlock()
	if q.s.Load() != 0 || q.head != nil || q.tail != nil {
		t.Fatalf("state %#x, head %p, tail %p; want empty", q.s.Load(), q.head, q.tail)
	}
}

// TestSlots: many goroutines, some leaving as their stop comes, never
// more than n holders, and at the end nothing taken and no one queued (a
// slot handed to a waiter that stopped at the same moment is passed on).
func TestSlots(t *testing.T) {
	for _, n := range []int{1, 3} {
		var q slots
		q.init(n)
		var in atomic.Int32
		var took atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Go(func() {
				var w slotWaiter
				for j := range 300 {
					var s <-chan struct{}
					if (i+j)%4 == 0 {
						s = stop
					}
					if q.lock(&w, s, nil, nil, nil) >= 0 {
						continue
					}
					if k := in.Add(1); k > int32(n) {
						t.Errorf("%d holders of %d slots", k, n)
					}
					took.Add(1)
					in.Add(-1)
					q.unlock()
				}
			})
		}
		time.AfterFunc(time.Millisecond, func() { close(stop) })
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		recv(t, done, "every goroutine through the slots")
		if q.s.Load() != 0 || q.head != nil || q.tail != nil {
			t.Errorf("%d slots: state %#x, head %p after everyone left, want empty", n, q.s.Load(), q.head)
		}
		if took.Load() == 0 {
			t.Errorf("%d slots: no goroutine took a slot", n)
		}
	}
}

// TestConnSlotInOrder: through a Conn with one slot, a caller that sends
// again the moment its answer comes does not pass a caller that was
// already waiting: the device sees the waiter's request next, every time.
// (With a gate, the running caller took the slot back before the waiter
// it woke could run, and a waiter could wait out its whole deadline.)
func TestConnSlotInOrder(t *testing.T) {
	reqs := make(chan uint16, 1) // the address of each request the device reads
	answer, stop := make(chan struct{}), make(chan struct{})
	f := startFake(t, func(c *fakeConn) {
		for {
			h, req, err := c.readRequest()
			if err != nil {
				return
			}
			select {
			case reqs <- req.(*modbus.ReadRegisters).Address:
			case <-stop:
				return
			}
			select {
			case <-answer:
			case <-stop:
				return
			}
			c.answer(h, plcAnswer(req))
		}
	})
	t.Cleanup(func() { close(stop) }) // before the fake's own cleanup: it waits for this one
	o := testOptions(t)
	o.MaxInFlight = 1
	c := dial(t, f.addr, o)
	const rounds = 20
	loopDone := make(chan error, 1)
	go func() { // the eager caller: address 1, again and again
		for range rounds + 1 {
			if _, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(1, 1)); err != nil {
				loopDone <- err
				return
			}
		}
		loopDone <- nil
	}()
	if got := recv(t, reqs, "the eager caller's first request"); got != 1 {
		t.Fatalf("first request for address %d, want 1", got)
	}
	for i := range rounds {
		waiter := make(chan error, 1)
		go func() {
			_, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(2, 1))
			waiter <- err
		}()
		queuedSlots(t, &c.sem, 1)                    // the waiter waits for the slot the eager caller holds
		send(t, answer, "the eager caller's answer") // it sends again at once
		if got := recv(t, reqs, "the next request"); got != 2 {
			t.Fatalf("round %d: the device read a request for address %d next, want 2 (the waiter's)", i, got)
		}
		send(t, answer, "the waiter's answer")
		if err := recv(t, waiter, "the waiter's end"); err != nil {
			t.Fatalf("round %d: waiter: %v", i, err)
		}
		if got := recv(t, reqs, "the eager caller's next request"); got != 1 {
			t.Fatalf("round %d: request for address %d, want 1", i, got)
		}
	}
	send(t, answer, "the eager caller's last answer")
	if err := recv(t, loopDone, "the eager caller's end"); err != nil {
		t.Fatal(err)
	}
}
