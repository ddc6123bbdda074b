package transport

import (
	"context"
	"runtime"

	"github.com/plcctl/plcctl/modbus"
)

// Coalesced writes. With several requests in flight, each one written
// alone costs a write system call, and on loopback or a LAN the kernel's
// whole transmit path, per request. Instead, a request that finds another
// writing (wlock held by a writer that will look at the queue before giving
// wlock back) queues its ADU and waits; the writer writes every queued ADU
// after its own, in the same system call when they were queued before it
// wrote, else in one more call per batch. Each request still gets its own
// outcome: how many of its bytes went out, so OpError.Sent and "outcome
// unknown" mean what they meant, and a request of which nothing went out is
// written again by itself (again) or moves to the next link, never retried
// silently after any byte was written.
//
// Deadlines. The writer writes under its own deadline. A queued request
// whose ctx or deadline ends while it is still queued leaves the queue, not
// sent; one whose bytes the writer has taken waits for the write, after
// moving the socket's write deadline to the past if the write is in
// progress (kickBatchLocked), so that a write blocked on a full send buffer
// returns at once: its fully written requests are sent, a partly written
// one takes the link down (as any partial write does), and the rest were
// not sent. Only requests that do not read the link queue: a request that
// will read its own answer writes for itself, after the peek (write.go).

// testHookHeld, when set by a test, runs as a request starts writing
// with wlock held (writeHeld), before it takes the queue.
var testHookHeld func(*link)

// Queue states of a call (wstate), guarded by link.wqmu.
const (
	wNone   = iota
	wQueued // in link.wq, not taken yet: it may leave
	wTaken  // the writer has it: wait for wdone
)

// wresult is what the writer tells a request it wrote for.
type wresult struct {
	n     int   // bytes of the request's ADU that went out
	err   error // why not all of them
	again bool  // none went out and the link is up: write it yourself
}

// queueWrite queues cl's ADU for the request holding wlock, if that one
// will look at the queue before giving wlock back. It reports false when
// cl must take wlock itself.
func (l *link) queueWrite(ctx context.Context, cl *call, tid uint16, adu []byte) bool {
	if l.c.opts.MaxInFlight == 1 {
		return false
	}
	l.wqmu.Lock()
	defer l.wqmu.Unlock()
	if !l.wbusy || len(l.wq) >= MaxInFlightLimit {
		return false
	}
	cl.adu, cl.wtid, cl.wctx, cl.wstate, cl.wgone = adu, tid, ctx, wQueued, false
	l.wq = append(l.wq, cl)
	return true
}

// awaitWritten waits until the writer has written cl's ADU (or failed to),
// or cl's ctx or deadline ends, or the link goes down. again says nothing
// went out and cl should try to write once more.
func (l *link) awaitWritten(ctx context.Context, cl *call) (n int, err error, again bool) {
	own := false // cl's own ctx or deadline ended (not the link's, not the Conn's)
	select {
	case w := <-cl.wdone:
		return w.n, w.err, w.again
	case <-ctx.Done():
		err, own = ctx.Err(), true
	case <-cl.timeout():
		err, own = context.DeadlineExceeded, true
	case <-l.done:
		err = l.cause()
	case <-l.c.ctx.Done():
		err = ErrClosed
	}
	l.wqmu.Lock()
	if cl.wstate == wQueued {
		l.unqueue(cl)
		l.wqmu.Unlock()
		return 0, err, false
	}
	l.wqmu.Unlock()
	// Taken: the writer has our bytes. If our time is up, stop its write
	// should it be blocked on our behalf (a lost link ends it anyway, and
	// Close lets a write finish, as it does a request's own); then hear
	// what went out.
	if own {
		l.kmu.Lock()
		cl.wgone = true
		if l.wbatch {
			l.kickBatchLocked()
		}
		l.kmu.Unlock()
	}
	w := <-cl.wdone
	if w.again {
		return 0, err, false
	}
	return w.n, w.err, false
}

// unqueue removes cl from the queue. Called with wqmu held.
func (l *link) unqueue(cl *call) {
	for i, q := range l.wq {
		if q == cl {
			last := len(l.wq) - 1
			copy(l.wq[i:], l.wq[i+1:])
			l.wq[last] = nil
			l.wq = l.wq[:last]
			break
		}
	}
	cl.wstate, cl.adu, cl.wctx = wNone, nil, nil
}

// kickBatchLocked moves the write deadline to the past, so that a write in
// progress returns; called with kmu held.
func (l *link) kickBatchLocked() {
	l.nc.SetWriteDeadline(aLongTimeAgo)
	l.wkicked, l.bkicked = true, true
}

// takeQueue takes every queued request for the writer, in queue order.
func (l *link) takeQueue() []*call {
	l.wqmu.Lock()
	batch := append(l.wtaken[:0], l.wq...)
	clear(l.wq)
	l.wq = l.wq[:0]
	for _, m := range batch {
		m.wstate = wTaken
	}
	l.wqmu.Unlock()
	l.wtaken = batch
	return batch
}

// release gives wlock back if no request is queued; with some queued it
// keeps wlock and reports false: the caller must write them (flush).
func (l *link) release(cl *call) bool {
	if l.c.opts.MaxInFlight == 1 {
		l.unlockWrite(cl)
		return true
	}
	l.wqmu.Lock()
	if len(l.wq) > 0 {
		l.wqmu.Unlock()
		return false
	}
	l.wbusy = false
	l.wqmu.Unlock()
	l.unlockWrite(cl)
	return true
}

// claim marks the holder of wlock as a writer that will write the queue.
func (l *link) claim() {
	if l.c.opts.MaxInFlight == 1 {
		return
	}
	l.wqmu.Lock()
	l.wbusy = true
	l.wqmu.Unlock()
}

// abandonQueue gives every queued request back to its caller, not sent
// (again: they write for themselves, or see the link down), then wlock.
// For a writer that cannot go on writing for others.
func (l *link) abandonQueue(cl *call) {
	l.wqmu.Lock()
	batch := append(l.wtaken[:0], l.wq...)
	clear(l.wq)
	l.wq = l.wq[:0]
	l.wbusy = false
	for _, m := range batch {
		m.wstate = wNone
	}
	l.wqmu.Unlock()
	for _, m := range batch {
		m.adu, m.wctx = nil, nil
		m.wdone <- wresult{again: true}
	}
	clear(batch)
	l.wtaken = batch[:0]
	l.unlockWrite(cl)
}

// flush writes, as the holder of wlock, what requests queued while it
// wrote, batch after batch, then gives wlock back. It stops writing for
// others once its own ctx or deadline has ended (they write for
// themselves).
func (l *link) flush(ctx context.Context, cl *call) {
	for !l.release(cl) {
		if cl.expired(ctx) != nil || l.cause() != nil {
			l.abandonQueue(cl)
			return
		}
		batch := l.takeQueue()
		l.sequenceBatch(batch)
		if err := l.armWrite(ctx, cl, false); err != nil {
			l.tell(batch, 0, 0)
			continue
		}
		buf := l.gather(nil, batch)
		if !l.startBatch(batch) {
			l.tell(batch, 0, 0)
			l.endBatch()
			continue
		}
		n, _ := l.writeRest(ctx, cl, 0, buf, 0)
		l.endBatch()
		l.tell(batch, 0, n)
	}
}

// gather copies own (may be nil) and the batch's ADUs into the link's write
// buffer, in order.
func (l *link) gather(own []byte, batch []*call) []byte {
	if l.wbuf == nil {
		l.wbuf = make([]byte, 0, (MaxInFlightLimit+1)*modbus.MaxADULen)
	}
	b := append(l.wbuf[:0], own...)
	for _, m := range batch {
		b = append(b, m.adu...)
	}
	l.wbuf = b
	return b
}

// startBatch marks a write for the batch as in progress, so that a member
// whose ctx ends may stop it. It reports false if a member has already
// given up: its bytes must not go out; the caller tells everyone again.
func (l *link) startBatch(batch []*call) bool {
	l.kmu.Lock()
	defer l.kmu.Unlock()
	for _, m := range batch {
		if m.wgone {
			return false
		}
	}
	l.wbatch = len(batch) > 0
	return true
}

// endBatch marks the write as done. After a member's kick the socket's write
// deadline is in the past: forget the one recorded, so the next write sets
// its own.
func (l *link) endBatch() {
	l.kmu.Lock()
	l.wbatch = false
	if l.bkicked {
		l.wdl, l.bkicked, l.wkicked = aLongTimeAgo, false, false
	}
	l.kmu.Unlock()
}

// batchKicked reports whether a member stopped the write in progress.
func (l *link) batchKicked() bool {
	l.kmu.Lock()
	defer l.kmu.Unlock()
	return l.bkicked
}

// tell delivers each member its outcome: the write put n bytes on the wire
// starting at offset off of the buffer, the members' ADUs following one
// another from there.
func (l *link) tell(batch []*call, off, n int) {
	if len(batch) == 0 {
		return
	}
	cause := l.cause() // a partial write has taken the link down
	var ws [MaxInFlightLimit]wresult
	l.mu.Lock()
	for i, m := range batch {
		sent := min(max(n-off, 0), len(m.adu))
		off += len(m.adu)
		switch {
		case sent == len(m.adu):
			ws[i].n = sent
		case cause != nil:
			ws[i] = wresult{n: sent, err: cause}
		default: // nothing of it went out and the link is up
			ws[i].again = true
		}
		if sent == 0 {
			m.seq = 0 // not on the wire: it must not count as written (outOfOrder)
		}
	}
	l.mu.Unlock()
	l.wqmu.Lock()
	for _, m := range batch {
		m.wstate = wNone
	}
	l.wqmu.Unlock()
	for i, m := range batch {
		m.adu, m.wctx = nil, nil
		m.wdone <- ws[i]
	}
	clear(batch)
	l.wtaken = batch[:0]
}

// sequenceBatch gives the batch's requests their places in the write order,
// after any given so far.
func (l *link) sequenceBatch(batch []*call) {
	if len(batch) == 0 {
		return
	}
	l.mu.Lock()
	for _, m := range batch {
		l.written++
		m.seq = l.written
	}
	l.mu.Unlock()
	for _, m := range batch {
		l.c.traceFrame(m.wtid, "tx", m.adu)
	}
}

// gatherBurst lets the other requests of a burst queue their ADUs before
// the holder of wlock writes: when other requests are in flight, their
// callers are often runnable right now (their answers came in one read),
// and on one CPU none of them runs while this one goes on. One yield, only
// then; a lone request never waits here.
func (l *link) gatherBurst() {
	l.mu.Lock()
	others := l.pending.len() > 1
	l.mu.Unlock()
	if others {
		runtime.Gosched()
	}
}
