package transport

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"sync"
	"sync/atomic"
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

// link is one TCP connection. Requests write under wlock; one reader
// goroutine reads every frame and routes it by transaction id.
type link struct {
	c          *Conn
	nc         *net.TCPConn
	wlock      chan struct{} // one slot: a waiting writer can leave when its ctx ends
	done       chan struct{} // closed when the link is down
	readerDone chan struct{}
	served     atomic.Bool // at least one answer matched a request

	mu        sync.Mutex
	pending   map[uint16]*call
	abandoned map[uint16]uint64 // tid of a request that gave up -> order it gave up in
	abandons  uint64            // requests given up so far: the order above
	frames    uint64            // complete frames received
	silent    int               // requests in a row that timed out with no frame received meanwhile
	err       error             // why the link went down
	closing   bool              // Close is draining this link
}

type call struct {
	req    modbus.Request
	done   chan result // buffered: the deliverer never blocks
	frames uint64      // link.frames when the call was registered
}

// result is the outcome of one exchange.
type result struct {
	pdu  modbus.PDU
	err  error
	tid  uint16
	sent bool // some request bytes were written
	down bool // the error is the link going down, so a retry may help
}

func newLink(c *Conn, nc *net.TCPConn) *link {
	return &link{c: c, nc: nc, wlock: make(chan struct{}, 1), done: make(chan struct{}),
		readerDone: make(chan struct{}), pending: make(map[uint16]*call),
		abandoned: make(map[uint16]uint64)}
}

// exchange sends one request and waits for its answer, its ctx, or the link
// going down.
func (l *link) exchange(ctx context.Context, req modbus.Request, adu []byte) result {
	cl := &call{req: req, done: make(chan result, 1)}
	tid, err := l.register(cl)
	if err != nil {
		return result{err: err, down: !errors.Is(err, ErrClosed)}
	}
	binary.BigEndian.PutUint16(adu, tid)
	if n, err := l.write(ctx, tid, adu); err != nil {
		l.forget(tid)
		return result{err: err, tid: tid, sent: n > 0, down: !errors.Is(err, ErrClosed) && !isCtxErr(err)}
	}
	select {
	case r := <-cl.done:
		r.tid, r.sent = tid, true
		return r
	case <-ctx.Done():
		if silent, ok := l.abandon(cl, tid, errors.Is(ctx.Err(), context.DeadlineExceeded)); ok {
			l.checkSilence(silent)
			return result{err: ctx.Err(), tid: tid, sent: true}
		}
		r := <-cl.done // taken by the reader or by fail: delivery is imminent
		r.tid, r.sent = tid, true
		return r
	}
}

func isCtxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
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
		_, busy := l.pending[tid]
		_, late := l.abandoned[tid]
		if !busy && !late {
			l.pending[tid] = cl
			cl.frames = l.frames
			return tid, nil
		}
	}
}

// abandon gives up on tid after its request's ctx ended; it reports false
// if the call was no longer waiting (its result is being delivered). The id
// is kept out of use until its late answer comes. For a deadline with no
// frame received since the call was registered, it returns how many such
// silent timeouts came in a row on this link.
func (l *link) abandon(cl *call, tid uint16, deadline bool) (silent int, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.pending[tid]; !ok {
		return 0, false
	}
	delete(l.pending, tid)
	if len(l.abandoned) >= maxAbandoned {
		l.forgetOldestAbandoned()
	}
	l.abandons++
	l.abandoned[tid] = l.abandons
	if deadline && l.frames == cl.frames {
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
	for tid, n := range l.abandoned {
		if n < first {
			oldest, first = tid, n
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

// forget removes tid after its request failed to go out.
func (l *link) forget(tid uint16) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.pending, tid)
}

// receive accounts for one complete frame: the link is alive. It removes
// and returns the call waiting for tid, or nil; late tells whether tid is
// that of a request that gave up, so the frame is its late answer.
func (l *link) receive(tid uint16) (cl *call, late bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.frames++
	l.silent = 0
	if cl = l.pending[tid]; cl != nil {
		delete(l.pending, tid)
		return cl, false
	}
	if _, late = l.abandoned[tid]; late {
		delete(l.abandoned, tid)
	}
	return nil, late
}

// write writes the whole ADU in one call, under wlock, with the socket's
// write deadline driven by ctx. A partial write or a network error takes
// the link down; a timeout before the first byte leaves it usable.
func (l *link) write(ctx context.Context, tid uint16, adu []byte) (int, error) {
	select {
	case l.wlock <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-l.done:
		return 0, l.cause()
	case <-l.c.ctx.Done():
		return 0, ErrClosed
	}
	defer func() { <-l.wlock }()
	if err := ctx.Err(); err != nil {
		return 0, err // select picks at random among ready cases
	}
	// Log the frame before writing it: the reader goroutine may log the
	// answer before Write returns, and a trace must read tx, then rx.
	l.c.log.Trace().Uint16("tid", tid).Hex("tx", adu).Msg("frame")
	stop := watchDeadline(ctx, l.nc)
	n, err := l.nc.Write(adu)
	stop()
	if err == nil {
		return n, nil
	}
	l.c.log.Trace().Uint16("tid", tid).Int("written", n).Err(err).Msg("frame not sent")
	timeout := isDeadline(err)
	if n > 0 || !timeout {
		l.fail(fmt.Errorf("write: %w", err))
	}
	if timeout {
		// The write deadline is the ctx's, so this is the ctx ending even if
		// its own timer has not fired yet: say so, or the caller would see a
		// bare i/o timeout and transact would try again at once.
		if err := ctx.Err(); err != nil {
			return n, err
		}
		return n, context.DeadlineExceeded
	}
	return n, err
}

// isDeadline reports whether a socket error is our own deadline passing.
// Not net.Error.Timeout: that is also true of ETIMEDOUT, the kernel giving
// up on the connection (TCP_USER_TIMEOUT, keepalive), which is a dead link.
func isDeadline(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// aLongTimeAgo is a deadline in the past: it wakes a blocked I/O call.
var aLongTimeAgo = time.Unix(1, 0)

// watchDeadline sets nc's write deadline from ctx and wakes the write when
// ctx is cancelled. The returned stop must be called when the write is done;
// it waits for a wake-up already under way, so that none can touch a later
// write and no goroutine outlives the request.
func watchDeadline(ctx context.Context, nc net.Conn) (stop func()) {
	dl, _ := ctx.Deadline()
	nc.SetWriteDeadline(dl)
	woken := make(chan struct{})
	stopAF := context.AfterFunc(ctx, func() {
		defer close(woken)
		nc.SetWriteDeadline(aLongTimeAgo)
	})
	return func() {
		if !stopAF() {
			<-woken
		}
	}
}

// fail takes the link down once: it closes the socket, fails every waiting
// call with cause (ErrClosed while closing) and detaches the link so that
// new requests wait for the supervisor's next one. A loss not caused by
// Close is counted in Stats.LinkDowns before anyone hears of it; fail
// reports whether this call was such a loss.
func (l *link) fail(cause error) bool {
	l.mu.Lock()
	if l.err != nil {
		l.mu.Unlock()
		return false
	}
	if l.closing {
		cause = ErrClosed
	}
	l.err = cause
	open := l.c.detach(l) // lock order: l.mu, then c.mu
	lost := open && !l.closing
	if lost {
		l.c.stats.downs.Add(1)
	}
	pending := l.pending
	l.pending = nil
	l.mu.Unlock()
	l.nc.Close()
	close(l.done)
	for _, cl := range pending {
		cl.done <- result{err: cause, down: true}
	}
	return lost
}

// cause returns why the link went down, or nil.
func (l *link) cause() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// readLoop reads frames until the link goes down and routes each one to
// the call waiting for its transaction id.
func (l *link) readLoop() {
	defer l.c.wg.Done()
	defer close(l.readerDone)
	buf := make([]byte, modbus.MaxADULen)
	fr := &frameReader{nc: l.nc, timeout: l.c.opts.Timeout}
	var unexplained int
	for {
		fr.reset()
		h, adu, err := modbus.ReadADU(fr, buf)
		if err != nil {
			l.fail(readError(err))
			return
		}
		l.c.log.Trace().Uint16("tid", h.TID).Hex("rx", adu).Msg("frame")
		if !l.route(h, adu, &unexplained) {
			return
		}
	}
}

func readError(err error) error {
	switch {
	case errors.Is(err, io.EOF):
		return errPeerClosed
	case errors.Is(err, net.ErrClosed):
		return err
	}
	return fmt.Errorf("read: %w", err)
}

// route delivers one frame. It takes the link down and reports false when
// the stream can no longer be trusted: a foreign protocol id, an answer that
// does not decode against its request, or too many unknown transaction ids.
func (l *link) route(h modbus.Header, adu []byte, unexplained *int) bool {
	cl, late := l.receive(h.TID)
	if cl == nil {
		if err := l.stale(h, late, unexplained); err != nil {
			l.fail(err)
			return false
		}
		return true
	}
	*unexplained = 0
	var rsp modbus.PDU
	var err error
	if h.Protocol != 0 {
		err = &modbus.FrameError{Where: "adu", Offset: 2, Field: "protocol id",
			Reason: fmt.Sprintf("protocol id %d in an answer, want 0", h.Protocol), Err: modbus.ErrProtocolID}
	} else {
		pdu := bytes.Clone(adu[modbus.MBAPHeaderLen:]) // adu aliases the read buffer
		rsp, err = modbus.DecodeResponse(cl.req, pdu)
	}
	var exc *modbus.ExceptionError
	if err != nil && !errors.As(err, &exc) {
		// Down first, so that no request can go out on this link after its
		// caller has heard the answer was bad.
		l.fail(fmt.Errorf("malformed answer to tid %d: %w", h.TID, err))
		cl.done <- result{err: err}
		return false
	}
	l.served.Store(true)
	l.c.stats.responses.Add(1)
	if exc != nil {
		l.c.stats.exceptions.Add(1)
	}
	cl.done <- result{pdu: rsp, err: err}
	return true
}

// stale drops an answer nobody waits for: normally the late answer to a
// request that gave up. It returns an error when too many answers in a row
// match neither a waiting request nor one that gave up.
func (l *link) stale(h modbus.Header, late bool, unexplained *int) error {
	l.c.stats.stale.Add(1)
	l.c.log.Debug().Uint16("tid", h.TID).Bool("late", late).Msg("dropped answer with unknown transaction id")
	if late {
		return nil
	}
	if *unexplained++; *unexplained > maxUnexplained {
		return ErrTooManyStale
	}
	return nil
}

// frameReader arms the read deadline when the first byte of a frame
// arrives: an idle link may wait forever (keepalive watches it), but a frame
// once begun must be complete within the timeout.
type frameReader struct {
	nc      net.Conn
	timeout time.Duration
	armed   bool
}

func (r *frameReader) reset() {
	r.armed = false
	r.nc.SetReadDeadline(time.Time{})
}

func (r *frameReader) Read(p []byte) (int, error) {
	n, err := r.nc.Read(p)
	if n > 0 && !r.armed {
		r.armed = true
		r.nc.SetReadDeadline(time.Now().Add(r.timeout))
	}
	return n, err
}

// shutdown closes the link gracefully: no new writes, FIN after the last
// write, answers still read until the peer's FIN, then close. Past
// Options.Timeout it closes anyway.
func (l *link) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), l.c.opts.Timeout)
	defer cancel()
	l.mu.Lock()
	l.closing = true
	l.mu.Unlock()
	select {
	case l.wlock <- struct{}{}: // held for good: no write can follow the FIN
		if err := l.nc.CloseWrite(); err != nil {
			l.fail(ErrClosed)
		}
	case <-l.done:
	case <-ctx.Done():
	}
	select {
	case <-l.readerDone: // the peer's FIN, or the link was already down
	case <-ctx.Done():
		l.c.log.Warn().Dur("elapsed", l.c.opts.Timeout).Msg("no FIN from peer; closing")
	}
	l.fail(ErrClosed)
	<-l.readerDone
}
