package transport

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/plcctl/plcctl/modbus"
)

// maxUnexplained is how many answers with unknown transaction ids the reader
// tolerates beyond those explained by abandoned requests (duplicates, a
// server echoing a wrong id) before it stops trusting the stream.
const maxUnexplained = 2 * MaxInFlightLimit

// maxAbandoned caps how many transaction ids of requests that gave up a
// link remembers (their late answers are expected, and the ids are not
// handed out again until then). Past it, the oldest is forgotten.
const maxAbandoned = 1024

// link is one TCP connection. Requests write under wlock. Frames are read
// by whoever holds rlock: normally a request waiting for its answer, which
// reads the stream itself and routes other requests' answers to them by
// transaction id; while the link idles, its watcher (read.go).
type link struct {
	c          *Conn
	nc         linkConn  // a *net.TCPConn, or a *tlsConn over one
	secure     bool      // nc is TLS: a write error, even a timeout, ends the session
	wlock      gate      // one slot: a waiting writer can leave when its ctx ends
	rlock      gate      // one slot: the right to read frames, and rs
	rs         readState // owned by the holder of rlock
	wdl        time.Time // write deadline set on nc; owned by the holder of wlock
	rc         syscall.RawConn
	pollFn     func(uintptr) bool // l.inPoll, bound once
	pw         pollWrite          // writeInPoll's state
	peekFn     func(uintptr)      // l.peekIn, bound once
	pk         peekState          // peek's state
	readFn     func(uintptr) bool // l.rawReadIn, bound once; nil: fill reads through nc (rawio.go)
	rerr       error              // an error or EOF rawReadIn found, for fill; owned by the holder of rlock
	writeFn    func(uintptr) bool // l.rawWriteIn, bound once; nil: connWrite writes through nc
	rw         rawWriteState      // rawWriteIn's write; owned by the holder of wlock
	laddr      net.Addr           // for the errors of raw I/O, as net.Conn's
	raddr      net.Addr
	done       chan struct{} // closed when the link is down
	draining   chan struct{} // closed by shutdown: the watcher reads at once, until the FIN
	readerDone chan struct{} // closed when the watcher has exited
	upAt       time.Time     // when the link was made, for the backoff (supervise)

	// kmu orders a cancelled request's wake-up (kick) against the request
	// giving up the reader's or writer's role, so that a wake-up never
	// reaches the next holder of that role.
	kmu     sync.Mutex
	reader  *call // the holder of rlock, if its ctx can be cancelled
	writer  *call // the holder of wlock, likewise
	rkicked bool  // the read deadline was moved to the past by a kick
	wkicked bool  // the write deadline, likewise
	wbatch  bool  // the holder of wlock is writing queued requests' ADUs (batch.go)
	bkicked bool  // one of them moved the write deadline to the past

	// Coalesced writes (batch.go). wq, wbusy guarded by wqmu; wtaken and
	// wbuf owned by the holder of wlock.
	wqmu   sync.Mutex
	wbusy  bool    // the holder of wlock writes the queue before giving wlock back
	wq     []*call // requests waiting for it to write their ADUs, in order
	wtaken []*call // the batch being written
	wbuf   []byte  // own ADU and the batch's, for one write
	writes int     // write calls made on nc (for tests)

	mu        sync.Mutex
	pending   pendingSet
	abandoned map[uint16]gaveUp            // tid of a request that gave up, whose answer may still come
	abandons  uint64                       // requests given up so far: gaveUp.order
	frames    uint64                       // complete frames received
	requests  uint64                       // requests registered so far, for the watcher
	written   uint64                       // requests whose writing began, for each call's seq
	recent    [2 * MaxInFlightLimit]uint16 // the last answered transaction ids, to know duplicates
	nrecent   uint64                       // answers recorded in recent
	silent    int                          // requests in a row that timed out with no frame received meanwhile
	err       error                        // why the link went down
	closing   bool                         // Close is draining this link
}

// gaveUp is what a link remembers of a request that gave up after it was
// sent: its answer may still come, and until then it is outstanding for the
// order check (outOfOrder).
type gaveUp struct {
	seq   uint64 // the request's place in the order requests went on the wire
	order uint64 // the order it gave up in, to forget the oldest first
	unit  uint8
}

// result is the outcome of one exchange.
type result struct {
	pdu  modbus.PDU
	err  error
	tid  uint16
	sent bool // some request bytes were written
	down bool // the error is the link going down, so a retry may help
	// bystander: the link was dropped because another request's answer
	// could not be trusted (refused or malformed) while this one waited
	// for its own, which never came. Nothing is known against this
	// request's answer, so a read may go again on the next link without
	// using up its retries (transact).
	bystander bool
}

func newLink(c *Conn, nc linkConn) *link {
	l := &link{c: c, nc: nc,
		done: make(chan struct{}), draining: make(chan struct{}), readerDone: make(chan struct{}),
		abandoned: make(map[uint16]gaveUp), rs: readState{buf: make([]byte, readBufLen)}, upAt: time.Now()}
	l.wlock.init(1)
	l.rlock.init(1)
	if c.opts.MaxInFlight > 1 {
		l.wq = make([]*call, 0, MaxInFlightLimit)
		l.wtaken = make([]*call, 0, MaxInFlightLimit)
	}
	if tc, ok := nc.(*net.TCPConn); ok && tc != nil && rawWriteOK {
		l.useRaw(tc)
	}
	_, l.secure = nc.(*tlsConn)
	return l
}

// register assigns the next free transaction id to cl. An id is free when
// no request waits for it and no request that gave up on it may still get
// its late answer: after the 16-bit counter wraps, such an answer would
// otherwise be taken for the new request's.
func (l *link) register(cl *call) (uint16, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		return 0, ErrClosed
	}
	if l.err != nil {
		return 0, l.err
	}
	for { // at most MaxInFlightLimit+maxAbandoned of 65536 ids are taken
		tid := uint16(l.c.tid.Add(1))
		busy := l.pending.get(tid) != nil
		_, late := l.abandoned[tid]
		if !busy && !late {
			l.pending.add(tid, cl)
			l.requests++
			cl.seq = 0 // not on the wire yet
			cl.party = false
			return tid, nil
		}
	}
}

// abandon gives up on tid after its request's ctx ended; it reports false
// if the call was no longer waiting (its result is being delivered). The id
// is kept out of use until its late answer comes. For a deadline with no
// frame received since the request began, it returns how many such silent
// timeouts came in a row on this link. Since it began, not since it was
// written: a request that waited for its in-flight slot while answers came
// (under load, it may get the slot with little of its deadline left, too
// little for any answer) proves nothing against a link that is answering.
func (l *link) abandon(cl *call, tid uint16, deadline bool) (silent int, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pending.remove(tid) == nil {
		return 0, false
	}
	if len(l.abandoned) >= maxAbandoned {
		l.forgetOldestAbandoned()
	}
	l.abandons++
	l.abandoned[tid] = gaveUp{seq: cl.seq, order: l.abandons, unit: cl.unit}
	if deadline && l.c.frames.Load() == cl.frames {
		l.silent++
		return l.silent, true
	}
	return 0, true
}

// forgetOldestAbandoned stops expecting the answer that is overdue the
// longest. Called with l.mu held, only when maxAbandoned are expected.
func (l *link) forgetOldestAbandoned() {
	var oldest uint16
	first := uint64(math.MaxUint64)
	for tid, g := range l.abandoned {
		if g.order < first {
			oldest, first = tid, g.order
		}
	}
	delete(l.abandoned, oldest)
}

// checkSilence takes the link down when silent requests in a row have
// timed out with nothing received: the peer is gone (a pulled cable with
// requests in flight is otherwise only noticed by TCP_USER_TIMEOUT or
// after many minutes of retransmission), and re-dialling is the way out.
func (l *link) checkSilence(silent int) {
	limit := l.c.opts.DeadAfterTimeouts
	if limit <= 0 || silent < limit {
		return
	}
	if l.fail(fmt.Errorf("%w (%d in a row)", ErrLinkDead, silent)) {
		l.c.stats.dead.Add(1)
		l.c.log.Warn().Int("timeouts", silent).Int("dead_after", limit).
			Msg("link dead: requests timed out with nothing received; re-dialling")
	}
}

// forget removes tid after its request failed to go out. If the link went
// down meanwhile, fail owns the call and is about to deliver to it: take
// that delivery, so that the call's channel is empty for its next use.
func (l *link) forget(cl *call, tid uint16) {
	l.mu.Lock()
	mine := l.pending.get(tid) == cl
	if mine {
		l.pending.remove(tid)
	}
	l.mu.Unlock()
	if !mine {
		<-cl.done
	}
}

// receive accounts for one complete frame: the link is alive. It removes
// and returns the call waiting for h.TID, or nil; late tells whether h.TID
// is that of a request that gave up, so the frame is its late answer. err
// is non-nil when the stream cannot be trusted: the answer came from
// another unit id than its request's, or overtook an older request's to the
// same unit (outOfOrder), or matches nothing while a request to its unit is
// unanswered (unknown).
func (l *link) receive(h modbus.Header) (cl *call, late bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.frames++
	l.c.frames.Add(1)
	l.silent = 0
	if cl = l.pending.remove(h.TID); cl != nil {
		l.answered(h.TID)
		if cl.seq == 0 { // registered, not written: the answer cannot be its own
			return cl, false, fmt.Errorf("%w: an answer under tid %d came before that request was written",
				ErrStreamOutOfOrder, h.TID)
		}
		if h.UnitID != cl.unit {
			return cl, false, fmt.Errorf("%w: answer to tid %d is from unit id %d, the request went to unit id %d",
				ErrWrongUnit, h.TID, h.UnitID, cl.unit)
		}
		if older, ok := l.outOfOrder(cl.unit, cl.seq); ok {
			l.markParty(older)
			return cl, false, fmt.Errorf("%w: the answer to tid %d (unit id %d) came while the older tid %d "+
				"to that unit was unanswered (dropped, or answered under a wrong tid)", ErrStreamOutOfOrder, h.TID, cl.unit, older)
		}
		return cl, false, nil
	}
	if _, late = l.abandoned[h.TID]; late {
		delete(l.abandoned, h.TID)
		l.answered(h.TID)
		return nil, true, nil
	}
	return nil, false, l.unknown(h)
}

// markParty marks the waiting request under tid, if one waits, as a party
// to a refused answer: the answer may have been its own under another
// transaction id, so failFor does not count it a bystander. Called with
// l.mu held.
func (l *link) markParty(tid uint16) {
	if p := l.pending.get(tid); p != nil {
		p.party = true
	}
}

// answered remembers tid as answered, so that a duplicate of its answer is
// known for one. Called with l.mu held.
func (l *link) answered(tid uint16) {
	l.recent[l.nrecent%uint64(len(l.recent))] = tid
	l.nrecent++
}

// unknown judges an answer whose transaction id no request waits for and
// no request that gave up expects. A duplicate of a recent answer is
// dropped. Anything else is dropped too, unless a request to its unit is
// unanswered: one device answers in order, so the frame is probably that
// request's answer under a wrong transaction id, and the stream cannot be
// trusted (with Options.AllowReorder, it is dropped). Called with l.mu held.
func (l *link) unknown(h modbus.Header) error {
	for i := range min(l.nrecent, uint64(len(l.recent))) {
		if l.recent[i] == h.TID {
			return nil
		}
	}
	if l.c.opts.AllowReorder {
		return nil
	}
	if older, ok := l.outOfOrder(h.UnitID, math.MaxUint64); ok {
		l.markParty(older)
		return fmt.Errorf("%w: an answer under tid %d, which no request is waiting for, came while tid %d "+
			"to unit id %d was unanswered", ErrStreamOutOfOrder, h.TID, older, h.UnitID)
	}
	return nil
}

// outOfOrder looks for a request to unit written before seq that is still
// waiting, or gave up with its answer not yet come. One device executes its
// requests in order, so its answers come in order; an answer that overtakes
// an older one is either from a device that reorders, or an older answer
// under a wrong transaction id (a mislabelling server, or the late answer
// of a request that gave up), and nothing tells the two apart.
// Options.AllowReorder turns the check off. Called with l.mu held; the fast
// path (one request in flight, none given up) looks at nothing.
func (l *link) outOfOrder(unit uint8, seq uint64) (older uint16, found bool) {
	if l.c.opts.AllowReorder || (l.pending.len() == 0 && len(l.abandoned) == 0) {
		return 0, false
	}
	best := seq
	for i, p := range l.pending.cl[:l.pending.n] {
		if p.unit == unit && p.seq != 0 && p.seq < best { // 0: not written yet
			older, best, found = l.pending.tid[i], p.seq, true
		}
	}
	for tid, g := range l.abandoned {
		if g.unit == unit && g.seq != 0 && g.seq < best {
			older, best, found = tid, g.seq, true
		}
	}
	return older, found
}

// alone reports whether the one request waiting for an answer is the only
// one whose answer may come: no other waits, none gave up (a late answer
// may be on its way).
func (l *link) alone() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pending.len() == 1 && len(l.abandoned) == 0
}

// idle reports whether no request has been registered since the last call
// (*seen holds the count then) and none is waiting.
func (l *link) idle(seen *uint64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	idle := l.requests == *seen && l.pending.len() == 0
	*seen = l.requests
	return idle
}

// fail takes the link down once: it closes the socket, fails every waiting
// call with cause (ErrClosed while closing) and detaches the link so that
// new requests wait for the supervisor's next one. A loss not caused by
// Close is counted in Stats.LinkDowns before anyone hears of it; fail
// reports whether this call was such a loss.
func (l *link) fail(cause error) bool { return l.failFor(cause, false) }

// failFor is fail for a link dropped because of one answer (refused or
// malformed): with bystanders, every waiting call not marked a party to
// that answer (markParty; the answer's own call is no longer waiting)
// hears it as a bystander.
func (l *link) failFor(cause error, bystanders bool) bool {
	l.mu.Lock()
	if l.err != nil {
		l.mu.Unlock()
		return false
	}
	closing := l.closing
	if closing {
		cause = ErrClosed
	}
	l.err = cause
	open := l.c.detach(l) // lock order: l.mu, then c.mu
	lost := open && !l.closing
	if lost {
		l.c.stats.downs.Add(1)
	}
	var room [MaxInFlightLimit]*call
	pending := l.pending.takeAll(&room)
	var by [MaxInFlightLimit]bool
	for i, cl := range pending {
		by[i] = bystanders && !l.closing && !cl.party
	}
	l.mu.Unlock()
	if !closing { // else Close's shutdown has drained the link already
		l.c.wg.Add(1)
		go l.lingerClose()
	} else {
		l.nc.Close()
	}
	close(l.done)
	for i, cl := range pending {
		cl.done <- result{err: cause, down: true, bystander: by[i]}
	}
	return lost
}

// lingerClose closes a link that went down while its peer may still talk:
// an answer refused or malformed, junk in the stream, a link retired with
// an answer still to come, timeouts enough to call it dead while the
// answers were only late. Closed at once, with answers to requests still
// in flight arriving, our kernel would reset the connection (data unread,
// or data for a closed socket). A link the peer closed or reset costs
// nothing more: the half-close or the first read fails at once. Instead it sends our FIN, reads and discards until the peer's
// FIN, a read error or Options.Timeout (Close waits for it), then closes.
// The callers heard of the failure already; the reader of the moment, if
// any, is kicked out of its read (and may read on, discarding, until its
// own deadline).
func (l *link) lingerClose() {
	defer l.c.wg.Done()
	nc := l.nc
	now := time.Now()
	nc.SetWriteDeadline(now) // a write under way ends: no byte may follow the FIN
	nc.SetReadDeadline(now)
	if err := nc.CloseWrite(); err != nil {
		nc.Close()
		return
	}
	nc.SetReadDeadline(time.Now().Add(l.c.opts.Timeout))
	var buf [512]byte
	for {
		if _, err := nc.Read(buf[:]); err != nil {
			break
		}
	}
	nc.Close()
}

// cause returns why the link went down, or nil.
func (l *link) cause() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// route delivers one frame read by the holder of rlock to the call waiting
// for it (to; nil for a stale frame): by its channel, or for self, the
// holder's own call, in r. It takes the link down and reports ok false when
// the stream can no longer be trusted: a foreign protocol id, an answer that
// does not decode against its request, an answer from another unit id or
// out of order (receive), or too many unknown transaction ids.
func (l *link) route(h modbus.Header, adu []byte, self *call) (r result, to *call, ok bool) {
	to, late, err := l.receive(h)
	if err != nil {
		// The stream is untrustworthy: down first, as below; every request
		// waiting on the link hears err, this one too.
		// Debug, not Warn: the supervisor's "link down" warning comes next
		// with the same err, so a warn log has one line per refusal.
		l.c.stats.refused.Add(1)
		l.c.log.Debug().Uint16("tid", h.TID).Uint8("unit_id", h.UnitID).Err(err).Msg("answer refused; dropping the link")
		l.failFor(err, true)
		r = result{err: err, down: true}
		if to != nil && to != self {
			to.done <- r
		}
		return r, to, false
	}
	if to == nil {
		if err := l.stale(h, late); err != nil {
			l.fail(err)
			return r, nil, false
		}
		return r, nil, true
	}
	l.rs.unexplained = 0
	r.pdu, r.err = l.decode(to, h, adu)
	exc := r.err != nil && isException(r.err) // a helper: its errors.As target escapes only on an error
	if r.err != nil && !exc {
		// Down first, so that no request can go out on this link after its
		// caller has heard the answer was bad.
		l.failFor(fmt.Errorf("malformed answer to tid %d: %w", h.TID, r.err), true)
	} else {
		ok = true
		l.c.stats.responses.Add(1)
		if exc {
			l.c.stats.exceptions.Add(1)
		}
	}
	if to != self {
		to.done <- r
	}
	return r, to, ok
}

func isException(err error) bool {
	var exc *modbus.ExceptionError
	return errors.As(err, &exc)
}

// decode decodes the answer for cl; adu aliases the read buffer, so the
// PDU is copied first.
func (l *link) decode(cl *call, h modbus.Header, adu []byte) (modbus.PDU, error) {
	if h.Protocol != 0 {
		return nil, &modbus.FrameError{Where: "adu", Offset: 2, Field: "protocol id",
			Reason: fmt.Sprintf("protocol id %d in an answer, want 0", h.Protocol), Err: modbus.ErrProtocolID}
	}
	if cl.intoSet { // ReadRegistersInto: the values go to the caller's slice
		var err error
		cl.into, err = modbus.DecodeRegistersInto(&cl.rr, adu[modbus.MBAPHeaderLen:], cl.into[:0])
		return nil, err
	}
	return modbus.DecodeResponse(cl.req, bytes.Clone(adu[modbus.MBAPHeaderLen:]))
}

// stale drops an answer nobody waits for: normally the late answer to a
// request that gave up. It returns an error when too many answers in a row
// match neither a waiting request nor one that gave up.
func (l *link) stale(h modbus.Header, late bool) error {
	l.c.stats.stale.Add(1)
	l.c.log.Debug().Uint16("tid", h.TID).Bool("late", late).Msg("dropped answer with unknown transaction id")
	if late {
		return nil
	}
	if l.rs.unexplained++; l.rs.unexplained > maxUnexplained {
		return ErrTooManyStale
	}
	return nil
}
