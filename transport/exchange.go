package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plcctl/plcctl/modbus"
)

// call is one request on its way: its deadline, and the channel its answer
// is delivered on when another goroutine reads it. Calls are pooled; one
// goes back to the pool only when nothing can deliver to it or wake it any
// more.
type call struct {
	req    modbus.Request
	unit   uint8                // the unit id the request goes to
	done   chan result          // buffered: the deliverer never blocks
	frames uint64               // Conn.frames when the request began (getCall): see link.abandon
	seq    uint64               // its place in the order the link's requests went on the wire; 0 before (outOfOrder)
	party  bool                 // a refused answer may be its own (markParty); guarded by link.mu, reset by register
	dl     time.Time            // the deadline: the ctx's, or Options.Timeout from start
	early  time.Time            // earliest(dl, start): a socket deadline from then to dl may stay (closeEnough)
	ownDL  bool                 // dl is not the ctx's: no ctx.Done fires at it, timer does
	cancel bool                 // ctx.Done() != nil: cancelling must wake a blocked read or write
	timer  *time.Timer          // fires at dl when ownDL; made on first need, kept in the pool
	armed  bool                 // timer is running
	l      atomic.Pointer[link] // the link of the current exchange, for kick; nil between requests
	kickFn func()               // cl.kick, bound once
	// A cached context.AfterFunc(regCtx, kickFn): kept across requests
	// while they use the same ctx (a program's one signal ctx), so that a
	// request costs no registration. Only calls on their Conn's free list
	// carry one, and Close stops them.
	regCtx  context.Context
	regStop func() bool
	spent   bool       // a kick may still be running: never reuse
	sw      slotWaiter // its place in the queue for an in-flight slot

	// Coalesced writes (batch.go): the ADU a writer writes for this call,
	// its transaction id (for the trace), its place in the queue and
	// whether it waits for the writer's word even if written whole (both
	// guarded by link.wqmu), whether it gave up while taken (link.kmu),
	// the writer's word when its ADU did not go out whole, and whether it
	// is queued with that word not yet known (its own goroutine's).
	adu    []byte
	wtid   uint16
	wstate int8
	wwait  bool
	wgone  bool
	wdone  chan wresult // buffered: the writer never blocks
	queued bool

	// ReadRegistersInto: the request lives here, and the answer's values
	// are decoded into into (intoSet) instead of a new PDU.
	rr      modbus.ReadRegisters
	into    []uint16
	intoSet bool

	buf [modbus.MaxADULen]byte // the request's ADU (send), pooled with the call
}

var callPool = sync.Pool{New: func() any {
	cl := &call{done: make(chan result, 1), wdone: make(chan wresult, 1)}
	cl.kickFn = cl.kick
	return cl
}}

// getCall returns a call for req. A ctx without a deadline gets
// Options.Timeout from now as a plain time, not a derived ctx: the socket
// deadlines and, where a goroutine must wait, a timer enforce it, and it is
// reported as context.DeadlineExceeded like a ctx deadline. A call from the
// Conn's free list keeps its ctx registration when req's ctx is the same
// one and still live; otherwise the registration is stopped, and a call
// whose kick may have run is not used again.
func (c *Conn) getCall(ctx context.Context, unit uint8, req modbus.Request, now time.Time, timeout time.Duration) *call {
	cl := c.freeCall()
	if cl != nil && (cl.regCtx != ctx || ctx.Err() != nil) { // regCtx's type is comparable: no panic
		if !cl.unregister() {
			cl = nil
		}
	}
	if cl == nil {
		cl = callPool.Get().(*call)
	}
	cl.req, cl.unit = req, unit
	cl.frames = c.frames.Load()
	cl.cancel = ctx.Done() != nil
	if dl, ok := ctx.Deadline(); ok {
		cl.dl, cl.ownDL = dl, false
	} else {
		cl.dl, cl.ownDL = now.Add(timeout), true
	}
	cl.early = earliest(cl.dl, now)
	return cl
}

// unregister stops cl's cached registration; false means its kick ran or
// is running, so cl must not be used again.
func (cl *call) unregister() bool {
	stop := cl.regStop
	cl.regCtx, cl.regStop = nil, nil
	return stop == nil || stop()
}

func (c *Conn) putCall(cl *call) {
	if cl.armed {
		cl.timer.Stop()
		cl.armed = false
	}
	cl.l.Store(nil)
	if cl.spent || len(cl.done) != 0 || len(cl.wdone) != 0 || cl.wstate != wNone || cl.queued { // never hand out a call that may still hear from the last request
		return
	}
	cl.req = nil
	cl.into, cl.intoSet = nil, false
	if cl.regStop != nil {
		if c.keepCall(cl) {
			if c.callsClosed.Load() { // Close may have drained before we kept it
				c.drainCalls()
			}
			return
		}
		if !cl.unregister() {
			return
		}
	}
	callPool.Put(cl)
}

// freeCall takes a call from the free list, or returns nil. A lone caller
// finds its call in the spare slot: an atomic swap, no channel operation.
func (c *Conn) freeCall() *call {
	if cl := c.spare.Swap(nil); cl != nil {
		return cl
	}
	select {
	case cl := <-c.calls:
		return cl
	default:
		return nil
	}
}

// keepCall puts cl on the free list, the spare slot first; false if both
// are full.
func (c *Conn) keepCall(cl *call) bool {
	if c.spare.CompareAndSwap(nil, cl) {
		return true
	}
	select {
	case c.calls <- cl:
		return true
	default:
		return false
	}
}

// drainCalls stops the registrations of the free list's calls (Close), so
// that no ctx of the caller keeps the Conn alive.
func (c *Conn) drainCalls() {
	if cl := c.spare.Swap(nil); cl != nil && cl.unregister() {
		callPool.Put(cl)
	}
	for {
		select {
		case cl := <-c.calls:
			if cl.unregister() {
				callPool.Put(cl)
			}
		default:
			return
		}
	}
}

// cacheable says a ctx's registration may be kept: its dynamic type can be
// compared with ==, as getCall does.
func cacheable(ctx context.Context) bool {
	t := reflect.TypeOf(ctx)
	return t != nil && t.Comparable()
}

// expired returns why the request must stop waiting: ctx.Err(), or
// context.DeadlineExceeded once dl has passed; nil if it may go on.
func (cl *call) expired(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !time.Now().Before(cl.dl) {
		return context.DeadlineExceeded
	}
	return nil
}

// timeout returns a channel that fires at dl when no ctx.Done does (nil
// otherwise, which never fires in a select). The timer is armed on first
// use only: a request that never waits on a channel never touches it.
func (cl *call) timeout() <-chan time.Time {
	if !cl.ownDL {
		return nil
	}
	if !cl.armed {
		if d := time.Until(cl.dl); cl.timer == nil {
			cl.timer = time.NewTimer(d)
		} else {
			cl.timer.Reset(d)
		}
		cl.armed = true
	}
	return cl.timer.C
}

// kick runs when the ctx of a request blocked in a read or write of its link
// is cancelled: it moves that deadline to the past. It touches the socket
// only while cl holds the role, under kmu, so it never wakes the next
// holder's read or write.
func (cl *call) kick() {
	l := cl.l.Load()
	if l == nil { // between requests: nothing to wake
		return
	}
	l.kmu.Lock()
	defer l.kmu.Unlock()
	if l.reader == cl {
		l.nc.SetReadDeadline(aLongTimeAgo)
		l.rkicked = true
	}
	if l.writer == cl {
		l.nc.SetWriteDeadline(aLongTimeAgo)
		l.wkicked = true
	}
}

// errGaveUp says a request's ctx or deadline ended while it read frames.
var errGaveUp = errors.New("transport: request gave up")

// exchange sends one request and waits for its answer, its ctx, or the link
// going down. One context.AfterFunc per exchange, and only for a ctx that
// can be cancelled, wakes a read or write blocked on its behalf.
func (l *link) exchange(ctx context.Context, cl *call, adu []byte) result {
	if l.retireBeforeWrite(cl) {
		return result{err: l.cause(), down: true} // not sent: it goes to the next link
	}
	tid, err := l.register(cl)
	if err != nil {
		return result{err: err, down: !errors.Is(err, ErrClosed)}
	}
	binary.BigEndian.PutUint16(adu, tid)
	var stop func() bool
	if cl.cancel {
		cl.l.Store(l)
		switch {
		case cl.regStop != nil: // registered for this ctx by an earlier request (getCall)
		case cacheable(ctx):
			cl.regCtx, cl.regStop = ctx, context.AfterFunc(ctx, cl.kickFn)
		default:
			stop = context.AfterFunc(ctx, cl.kickFn)
		}
	}
	r := l.run(ctx, cl, tid, adu)
	if stop != nil && !stop() {
		cl.spent = true
	}
	r.tid = tid
	return r
}

// run writes the request and gets its answer. When no one is reading the
// link, the request takes the reader's role before it writes, so that it
// reads its own answer (no hand-off between goroutines) and one system
// call sets both socket deadlines. A request that another writer was to
// write, and did not, writes again (await's again).
func (l *link) run(ctx context.Context, cl *call, tid uint16, adu []byte) result {
	for {
		reading := l.rlock.tryLock()
		if reading {
			l.own(cl)
		}
		if n, err := l.write(ctx, cl, tid, adu, reading); err != nil {
			if reading {
				l.unread(cl)
			}
			l.forget(cl, tid)
			return writeFailed(err, n)
		}
		if !reading {
			r, again := l.await(ctx, cl, tid)
			if again {
				continue
			}
			return r
		}
		if r, ok := l.readAs(ctx, cl); ok {
			r.sent = true
			return r
		}
		return l.giveUp(ctx, cl, tid)
	}
}

// writeFailed is the result of a request whose write failed with n bytes
// of it written.
func writeFailed(err error, n int) result {
	return result{err: err, sent: n > 0, down: !errors.Is(err, ErrClosed) && !isCtxErr(err)}
}

// await waits for the answer while another goroutine reads the link, and
// takes over reading if that one leaves first. A queued request (its ADU
// left to another writer, batch.go) may do so before its ADU is written;
// it waits here for the writer's word too, which comes only if its ADU did
// not go out whole: then it writes again (again) or fails.
func (l *link) await(ctx context.Context, cl *call, tid uint16) (r result, again bool) {
	var wdone <-chan wresult // nil unless queued: a request that wrote for itself hears nothing
	if cl.queued {
		wdone = cl.wdone
	}
	l.rlock.join()
	for !l.rlock.take() {
		select {
		case r := <-cl.done:
			l.rlock.leave()
			return l.settle(cl, r), false
		case w := <-wdone:
			l.rlock.leave()
			return l.unwritten(ctx, cl, tid, cl.heard(w))
		case <-l.rlock.wake:
			continue
		case <-ctx.Done():
		case <-cl.timeout():
		}
		l.rlock.leave()
		return l.quit(ctx, cl, tid)
	}
	l.own(cl)
	if r, ok := l.readAs(ctx, cl); ok {
		return l.settle(cl, r), false
	}
	return l.quit(ctx, cl, tid)
}

// settle completes the result r of a request that was sent, or queued:
// whether its bytes went out is then the writer's word (writeOutcome).
func (l *link) settle(cl *call, r result) result {
	if !cl.queued {
		r.sent = true
		return r
	}
	w := l.writeOutcome(cl, false)
	r.sent = w.whole() || w.n > 0
	return r
}

// quit ends the wait of a request whose ctx or deadline ended, or, if it
// was queued, whose ADU the writer did not write (a reader woken by
// report). A queued request learns what went out first: none of it, it
// leaves unsent or writes again; all of it, it gives up as a sent request
// does.
func (l *link) quit(ctx context.Context, cl *call, tid uint16) (result, bool) {
	if cl.queued {
		if w := l.writeOutcome(cl, true); !w.whole() {
			return l.unwritten(ctx, cl, tid, w)
		}
	}
	return l.giveUp(ctx, cl, tid), false
}

// unwritten ends a queued request whose ADU did not go out whole: again
// (none went out, the link is up), it writes again unless its ctx or
// deadline has ended; otherwise it fails with what went out.
func (l *link) unwritten(ctx context.Context, cl *call, tid uint16, w wresult) (result, bool) {
	err := w.err
	if w.again {
		if err = cl.expired(ctx); err == nil {
			return result{}, true
		}
	}
	l.forget(cl, tid)
	return writeFailed(err, w.n), false
}

// giveUp ends a request whose ctx or deadline ended after it was sent. If
// its answer is being delivered meanwhile, that answer wins.
func (l *link) giveUp(ctx context.Context, cl *call, tid uint16) result {
	err := cl.expired(ctx)
	if err == nil {
		err = context.DeadlineExceeded // the timer fired: dl has passed
	}
	if silent, ok := l.abandon(cl, tid, errors.Is(err, context.DeadlineExceeded)); ok {
		l.checkSilence(silent)
		return result{err: err, sent: true}
	}
	r := <-cl.done // taken by a reader or by fail: delivery is imminent
	r.sent = true
	return r
}

func isCtxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// own records cl as the holder of rlock, so that cancelling its ctx wakes
// its read, and so does the writer that was to write its ADU and did not
// (report).
func (l *link) own(cl *call) {
	if cl.cancel || cl.queued {
		l.kmu.Lock()
		l.reader = cl
		l.kmu.Unlock()
	}
}

// unread gives rlock back. After a kick the socket's read deadline is in
// the past: forget the one recorded, so the next reader sets its own.
func (l *link) unread(cl *call) {
	if cl.cancel || cl.queued {
		l.kmu.Lock()
		l.reader = nil
		if l.rkicked {
			l.rs.dl, l.rkicked = aLongTimeAgo, false
		}
		l.kmu.Unlock()
	}
	l.rlock.unlock()
}
