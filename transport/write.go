package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// write writes the whole ADU in one call, under wlock, with the socket's
// write deadline at the request's. A partial write or a network error takes
// the link down; a timeout before the first byte leaves it usable.
//
// A request that also reads (it holds rlock) writes from inside the
// socket's raw read (writeInPoll). A request that does not read and finds
// another writing queues its ADU for that one to write (batch.go) and
// returns at once, cl.queued set: it hears of the write only if its ADU
// does not go out whole (await).
func (l *link) write(ctx context.Context, cl *call, tid uint16, adu []byte, reading bool) (int, error) {
	for {
		if l.wlock.tryLock() {
			if err := ctx.Err(); err != nil {
				l.wlock.unlock()
				return 0, err
			}
		} else {
			if !reading && l.queueWrite(cl, tid, adu) {
				return 0, nil
			}
			if err := l.lockWrite(ctx, cl); err != nil {
				return 0, err
			}
		}
		n, err, again := l.writeHeld(ctx, cl, tid, adu, reading)
		if !again {
			return n, err
		}
	}
}

// writeHeld is write for the holder of wlock: its own ADU, with the ones
// queued so far in the same system call, then any queued meanwhile (flush).
// It gives wlock back. again says nothing of adu went out because another
// request's ctx stopped the write (kickBatchLocked): write it once more.
func (l *link) writeHeld(ctx context.Context, cl *call, tid uint16, adu []byte, reading bool) (int, error, bool) {
	l.claim()
	if testHookHeld != nil {
		testHookHeld(l)
	}
	if reading && (l.rc != nil || l.secure) && l.rs.w == l.rs.r {
		if err := l.peek(); err != nil {
			l.abandonQueue(cl)
			return 0, err, false
		}
	}
	var batch []*call
	if l.c.opts.MaxInFlight > 1 {
		l.gatherBurst()
		batch = l.takeQueue()
	}
	l.sequence(cl)
	// Log the frame before writing it: another goroutine may read and log
	// the answer before Write returns, and a trace must read tx, then rx.
	l.c.traceFrame(tid, "tx", adu)
	l.sequenceBatch(batch)
	if err := l.armWrite(ctx, cl, reading); err != nil {
		l.tell(batch, 0, 0)
		l.unsequence(cl)
		l.abandonQueue(cl)
		return 0, err, false
	}
	buf := adu
	if len(batch) > 0 {
		if l.startBatch(batch) {
			buf = l.gather(adu, batch)
		} else { // one of them gave up: they write for themselves
			l.tell(batch, 0, 0)
			batch = nil
		}
	}
	n := 0
	if len(batch) == 0 && reading && l.rc != nil && l.rs.w == l.rs.r { // no frame begun: nextFrame would only read
		var kept bool
		if n, kept = l.writeInPoll(cl, adu); n == len(adu) {
			if kept { // requests queued while we wrote: wlock is still ours
				l.flush(ctx, cl)
			}
			return n, nil, false
		}
	}
	n, err := l.writeRest(ctx, cl, tid, buf, n)
	if len(batch) > 0 {
		l.endBatch()
		l.tell(batch, len(adu), n)
	}
	if n < len(adu) {
		again := n == 0 && err != nil && l.cause() == nil && cl.expired(ctx) == nil
		if n == 0 {
			l.unsequence(cl)
		}
		l.abandonQueue(cl)
		return n, err, again
	}
	l.flush(ctx, cl)
	return len(adu), nil, false
}

// peek reads, without waiting, what came on the link while no request
// read it, before a request is written: a FIN or a reset that came while
// the link idled is seen now, not after the request went into a half-closed
// connection (whose peer then answers with a reset), and frames that came
// before the request cannot be taken for its answer (they are routed now,
// while the request has no place in the order: see receive). It returns
// the link's cause when the link is down, so the request, not sent, moves
// to the next link. The caller holds rlock and wlock, and the buffer is
// empty. One non-blocking read system call when nothing came.
func (l *link) peek() error {
	if l.secure {
		return l.peekTLS() // tls.go
	}
	rs := &l.rs
	rs.r, rs.w = 0, 0
	l.pk = peekState{}
	// Control, not Read: no deadline or poller is involved, and the read
	// system call itself does not wait (the socket is non-blocking).
	if err := l.rc.Control(l.peekFn); err != nil {
		l.pk.err = err
	}
	if rs.w > rs.r {
		l.routeBuffered()
	}
	switch {
	case l.pk.eof:
		l.fail(errPeerClosed)
	case l.pk.err != nil:
		l.fail(readError(l.pk.err))
	}
	return l.cause()
}

// peekState is what peekIn found; owned by the holder of rlock and wlock.
type peekState struct {
	eof bool
	err error
}

// peekIn is the function peek gives the raw connection: read until the
// socket has nothing more, EOF or an error, or the buffer is full.
func (l *link) peekIn(fd uintptr) {
	rs := &l.rs
	for rs.w < len(rs.buf) {
		n, err := rawRead(fd, rs.buf[rs.w:])
		switch {
		case n > 0:
			rs.w += n
			continue
		case err == nil:
			l.pk.eof = true
		case !wouldBlock(err):
			l.pk.err = err
		}
		return
	}
}

// sequence gives cl its place in the order requests go on the wire, the
// order one device executes and answers them (outOfOrder). Called with
// wlock held, before any byte is written.
func (l *link) sequence(cl *call) {
	l.mu.Lock()
	l.written++
	cl.seq = l.written
	l.mu.Unlock()
}

// unsequence takes back cl's place in the order when not a byte of its ADU
// went out: until its caller removes it, it waits on the link as if
// written, and an answer to a younger request would be refused as
// overtaking it (outOfOrder).
func (l *link) unsequence(cl *call) {
	l.mu.Lock()
	cl.seq = 0
	l.mu.Unlock()
}

// writeRest writes adu[n:] through the socket's own Write; see write.
func (l *link) writeRest(ctx context.Context, cl *call, tid uint16, adu []byte, n int) (int, error) {
	m, err := l.connWrite(adu[n:])
	n += m
	for err != nil && isDeadline(err) && !l.secure && cl.expired(ctx) == nil && !l.batchKicked() {
		// Woken by a deadline set for an earlier request (closeEnough), not
		// by ours: set ours and write the rest. wlock is held, so the ADU
		// still goes out whole and in order.
		if err = l.rearmWrite(ctx, cl); err == nil {
			m, err = l.connWrite(adu[n:])
			n += m
		}
	}
	if err == nil {
		return n, nil
	}
	l.c.log.Trace().Uint16("tid", tid).Int("written", n).Err(err).Msg("frame not sent")
	if cause := l.cause(); cause != nil && errors.Is(err, net.ErrClosed) {
		return n, cause // the link went down under the write: say why
	}
	timeout := isDeadline(err) || isCtxErr(err)
	// crypto/tls makes every write error permanent (a record may be half
	// sent), so over TLS even a timeout ends the link.
	if n > 0 || !timeout || l.secure {
		l.fail(fmt.Errorf("write: %w", err))
	}
	if timeout {
		// The write deadline is the request's, so this is its ctx or
		// deadline ending even if the ctx's own timer has not fired yet:
		// say so, or the caller would see a bare i/o timeout and transact
		// would try again at once.
		if err := ctx.Err(); err != nil {
			return n, err
		}
		return n, context.DeadlineExceeded
	}
	return n, err
}

// writeInPoll writes adu with one write system call made from inside the
// socket's raw read (syscall.RawConn.Read). When no other request is on the
// link it then lets that read wait until the answer is readable: reading
// first, as net.Conn.Read does, would find nothing and then wait, one system
// call per request for nothing. Waiting without that read is safe because
// the raw read armed the poller before the request went out, so the
// answer's arrival cannot be missed, and because no other request's answer
// can be waiting unread (see inPoll). It returns how many bytes went out:
// all of them (wlock is then given back, so that other requests may write
// meanwhile, unless some queued while it wrote: kept), or fewer if the socket would block or failed, or the raw read
// could not start; write then finishes the usual way.
func (l *link) writeInPoll(cl *call, adu []byte) (n int, kept bool) {
	l.pw = pollWrite{cl: cl, adu: adu}
	l.rc.Read(l.pollFn) // its error, if any, comes again from the next read
	n, kept = l.pw.n, l.pw.kept
	l.pw = pollWrite{}
	return n, kept
}

// pollWrite is the state of writeInPoll, owned by the holder of rlock and
// wlock.
type pollWrite struct {
	cl   *call
	adu  []byte
	n    int
	sent bool
	kept bool // requests queued meanwhile: wlock kept for flush
}

// inPoll is the function writeInPoll gives the raw read. First call: write
// the request, then wait if it is the only one on the link. Any later call:
// the socket is readable; with raw I/O read it (the caller holds rlock),
// then return. Another request registered before the
// check, or one that gave up, may have its answer in the socket, its poller
// event already taken, and waiting would hold that answer up until this one
// comes: then return and read at once, as usual. A request registered after
// the check cannot have written yet (we hold wlock), so its answer comes
// after the poller was armed.
func (l *link) inPoll(fd uintptr) bool {
	w := &l.pw
	if w.sent && l.readFn != nil {
		// Readable: read the answer here, so that nextFrame finds it in
		// the buffer, not after one more raw read (rawio.go). Nothing
		// there (a spurious wake-up): wait again.
		l.rs.compact()
		return l.rawReadIn(fd)
	}
	if w.sent || w.n > 0 {
		return true
	}
	alone := l.alone()
	for w.n < len(w.adu) {
		l.writes++
		n, err := rawWrite(fd, w.adu[w.n:])
		if err != nil || n == 0 {
			return true // EAGAIN, a reset...: the usual Write takes over
		}
		w.n += n
	}
	w.sent = true
	if !l.release(w.cl) {
		w.kept = true
		return true
	}
	return !alone
}

// rearmWrite sets the socket's write deadline to cl's exactly.
func (l *link) rearmWrite(ctx context.Context, cl *call) error {
	if cl.cancel {
		l.kmu.Lock()
		defer l.kmu.Unlock()
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	l.nc.SetWriteDeadline(cl.dl)
	l.wdl = cl.dl
	return nil
}

// lockWrite takes wlock, waiting within the request's ctx and deadline.
func (l *link) lockWrite(ctx context.Context, cl *call) error {
	switch l.wlock.lock(ctx.Done(), l.done, l.c.ctx.Done(), cl.timeout()) {
	case 0:
		return ctx.Err()
	case 1:
		return l.cause()
	case 2:
		return ErrClosed
	case 3:
		return context.DeadlineExceeded
	}
	if err := ctx.Err(); err != nil {
		l.wlock.unlock() // a slot and the ctx may be ready at once
		return err
	}
	return nil
}

// armWrite makes cl the writer and sets the socket's write deadline (and
// the read deadline too, in the same call, when cl also reads) unless the
// one set is close enough (see closeEnough).
func (l *link) armWrite(ctx context.Context, cl *call, reading bool) error {
	if cl.cancel {
		l.kmu.Lock()
		defer l.kmu.Unlock()
		l.writer = cl
		if err := ctx.Err(); err != nil {
			return err // a kick may have come before we were the writer
		}
	}
	setW := !closeEnough(l.wdl, cl.dl, cl.early)
	switch setR := reading && !closeEnough(l.rs.dl, cl.dl, cl.early); {
	case setW && setR:
		l.nc.SetDeadline(cl.dl)
		l.wdl, l.rs.dl = cl.dl, cl.dl
	case setW:
		l.nc.SetWriteDeadline(cl.dl)
		l.wdl = cl.dl
	case setR: // writeInPoll waits for the answer with it
		l.nc.SetReadDeadline(cl.dl)
		l.rs.dl = cl.dl
	}
	return nil
}

// closeEnough reports whether a socket deadline cur set for an earlier
// request may stay for a request with deadline d: cur is not after d, and
// not before early, which earliest gives (the request's call keeps it).
// Then a request that runs into cur wakes a little early, sees that its own
// deadline has not passed, sets it and goes on; every other request is
// spared a deadline update (a timer change in the runtime's poller).
func closeEnough(cur, d, early time.Time) bool {
	return !cur.IsZero() && !cur.After(d) && !cur.Before(early)
}

// earliest is the earliest socket deadline that may stand for the deadline
// d of a request that started at start: 1/16 of the request's time before d.
func earliest(d, start time.Time) time.Time { return d.Add(-d.Sub(start) / 16) }

// unlockWrite gives wlock back; after a kick, like unread.
func (l *link) unlockWrite(cl *call) {
	if cl.cancel {
		l.kmu.Lock()
		l.writer = nil
		if l.wkicked {
			l.wdl, l.wkicked = aLongTimeAgo, false
		}
		l.kmu.Unlock()
	}
	l.wlock.unlock()
}

// isDeadline reports whether a socket error is our own deadline passing.
// Not net.Error.Timeout: that is also true of ETIMEDOUT, the kernel giving
// up on the connection (TCP_USER_TIMEOUT, keepalive), which is a dead link.
func isDeadline(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// aLongTimeAgo is a deadline in the past: it wakes a blocked I/O call.
var aLongTimeAgo = time.Unix(1, 0)
