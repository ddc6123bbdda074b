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
// wlock back) queues its ADU and goes on to wait for its answer (await),
// as a request that wrote for itself does; the writer writes every queued
// ADU after its own, in the same system call when they were queued before
// it wrote, else in one more call per batch. Each request still gets its
// own outcome: how many of its bytes went out, so OpError.Sent and
// "outcome unknown" mean what they meant, and a request of which nothing
// went out is written again by itself (again) or moves to the next link,
// never retried silently after any byte was written.
//
// The writer's word. A request queued, then written whole, hears nothing
// from the writer: the writer notes it in the call (wstate, under wqmu),
// and the request parks once, for its answer. Only a request whose ADU
// did not go out whole is told (wdone), and woken from its read should it
// have become the link's reader meanwhile (report). A request that must
// know before it returns (its answer came, or it gives up) looks at its
// wstate, and waits for the word if the writer still has its ADU
// (writeOutcome).
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
// Once Close has begun, the writer takes no more of the queue: what is
// queued fails unsent with ErrClosed, as a request waiting for wlock does.

// testHookHeld, when set by a test, runs as a request starts writing
// with wlock held (writeHeld), before it takes the queue.
var testHookHeld func(*link)

// Queue states of a call (wstate), guarded by link.wqmu.
const (
	wNone   = iota // not queued, or written whole and done with by the writer
	wQueued        // in link.wq, not taken yet: it may leave
	wTaken         // the writer has it: what it writes is not known yet
	wTold          // the writer has done with it and sends its word on wdone
)

// wresult is what the writer tells a request it wrote for.
type wresult struct {
	n     int   // bytes of the request's ADU that went out
	err   error // why not all of them
	again bool  // none went out and the link is up: write it yourself
}

// whole reports whether all of the request's ADU went out.
func (w wresult) whole() bool { return w.err == nil && !w.again }

// queueWrite queues cl's ADU for the request holding wlock, if that one
// will look at the queue before giving wlock back. It reports false when
// cl must take wlock itself.
func (l *link) queueWrite(cl *call, tid uint16, adu []byte) bool {
	if l.c.opts.MaxInFlight == 1 {
		return false
	}
	l.wqmu.Lock()
	defer l.wqmu.Unlock()
	if !l.wbusy || len(l.wq) >= MaxInFlightLimit {
		return false
	}
	cl.adu, cl.wtid, cl.wstate, cl.wgone, cl.queued = adu, tid, wQueued, false, true
	l.wq = append(l.wq, cl)
	return true
}

// writeOutcome is the writer's word for a queued request that must know
// it now: its answer came, or it gives up (gone: its ctx or deadline
// ended). Still queued, it leaves the queue (again: nothing went out).
// Taken, it asks for the word and waits for it, after stopping the write
// in progress if gone, should it be blocked on its behalf (a lost link ends
// it anyway, and Close lets a write finish, as it does a request's own).
// Written whole and done with, the word is that (whole).
func (l *link) writeOutcome(cl *call, gone bool) wresult {
	cl.queued = false
	l.wqmu.Lock()
	state := cl.wstate
	switch state {
	case wQueued:
		l.unqueue(cl)
		l.wqmu.Unlock()
		return wresult{again: true}
	case wNone:
		l.wqmu.Unlock()
		return wresult{}
	case wTaken:
		cl.wwait = true
	}
	l.wqmu.Unlock()
	if gone && state == wTaken {
		l.kmu.Lock()
		cl.wgone = true
		if l.wbatch {
			l.kickBatchLocked()
		}
		l.kmu.Unlock()
	}
	return cl.heard(<-cl.wdone)
}

// heard takes the writer's word w, once received from wdone: the writer
// has done with the call.
func (cl *call) heard(w wresult) wresult {
	cl.queued, cl.wstate = false, wNone
	return w
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
	cl.wstate, cl.adu = wNone, nil
}

// kickBatchLocked moves the write deadline to the past, so that a write in
// progress returns; called with kmu held.
func (l *link) kickBatchLocked() {
	l.nc.SetWriteDeadline(aLongTimeAgo)
	l.wkicked, l.bkicked = true, true
}

// takeQueue takes every queued request for the writer, in queue order.
// Once Close has begun it takes none: it tells them they were not sent.
func (l *link) takeQueue() []*call {
	l.wqmu.Lock()
	batch := l.takeQueueLocked()
	l.wqmu.Unlock()
	if len(batch) > 0 && l.c.ctx.Err() != nil {
		l.reportAll(batch, wresult{err: ErrClosed})
		return nil
	}
	return batch
}

// takeQueueLocked empties the queue into the writer's batch; called with
// wqmu held.
func (l *link) takeQueueLocked() []*call {
	batch := append(l.wtaken[:0], l.wq...)
	clear(l.wq)
	l.wq = l.wq[:0]
	for _, m := range batch {
		m.wstate = wTaken
	}
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
	l.wbusy = false
	batch := l.takeQueueLocked()
	l.wqmu.Unlock()
	l.reportAll(batch, wresult{again: true})
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
		if len(batch) == 0 { // Close has begun (takeQueue)
			continue
		}
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
	l.report(batch, &ws)
}

// reportAll is report with one outcome, w, for every member.
func (l *link) reportAll(batch []*call, w wresult) {
	var ws [MaxInFlightLimit]wresult
	for i := range batch {
		ws[i] = w
	}
	l.report(batch, &ws)
}

// report ends the writer's hold on the batch's members, ws being their
// outcomes. One written whole hears nothing, unless it asked (wwait); the
// others hear their outcome on wdone, and one that has become the link's
// reader meanwhile is woken from its read (its deadline moved to the past,
// as kick does), so that it stops reading for an answer that cannot come
// and writes again, or fails. The word is sent under kmu, which armRead
// holds to look for it before each read: so either the reader sees the
// word before it reads, or the wake-up reaches its read. A member the
// writer does not tell may return the moment wqmu is given back: nothing
// of it is touched after that.
func (l *link) report(batch []*call, ws *[MaxInFlightLimit]wresult) {
	var told [MaxInFlightLimit]bool
	some := false
	l.wqmu.Lock()
	for i, m := range batch {
		m.adu = nil
		m.wstate = wNone
		if told[i] = !ws[i].whole() || m.wwait; told[i] {
			m.wstate, some = wTold, true
		}
		m.wwait = false
	}
	l.wqmu.Unlock()
	if some {
		l.kmu.Lock()
		for i, m := range batch {
			if !told[i] {
				continue
			}
			if l.reader == m && !ws[i].whole() {
				l.nc.SetReadDeadline(aLongTimeAgo)
				l.rkicked = true
			}
			m.wdone <- ws[i]
		}
		l.kmu.Unlock()
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
