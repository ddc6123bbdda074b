package transport

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plcctl/plcctl/modbus"
)

// maxUnexplained is how many answers with unknown transaction ids the reader
// tolerates beyond those explained by abandoned requests (duplicates, a
// server echoing a wrong id) before it stops trusting the stream.
const maxUnexplained = 2 * MaxInFlightLimit

// maxAbandoned caps how many late answers a link keeps expecting.
const maxAbandoned = 1024

// link is one TCP connection. Requests write under wlock; one reader
// goroutine reads every frame and routes it by transaction id.
type link struct {
	c          *Conn
	nc         *net.TCPConn
	wlock      chan struct{} // one slot: a waiting writer can leave when its ctx ends
	done       chan struct{} // closed when the link is down
	readerDone chan struct{}
	served     atomic.Bool  // at least one answer matched a request
	abandoned  atomic.Int64 // requests given up whose answers may still come

	mu      sync.Mutex
	pending map[uint16]*call
	err     error // why the link went down
	closing bool  // Close is draining this link
}

type call struct {
	req  modbus.Request
	done chan result // buffered: the deliverer never blocks
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
		readerDone: make(chan struct{}), pending: make(map[uint16]*call)}
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
		return result{err: err, tid: tid, sent: n > 0, down: ctx.Err() == nil && !errors.Is(err, ErrClosed)}
	}
	select {
	case r := <-cl.done:
		r.tid, r.sent = tid, true
		return r
	case <-ctx.Done():
		if l.forget(tid) {
			if l.abandoned.Load() < maxAbandoned {
				l.abandoned.Add(1)
			}
			return result{err: ctx.Err(), tid: tid, sent: true}
		}
		r := <-cl.done // taken by the reader or by fail: delivery is imminent
		r.tid, r.sent = tid, true
		return r
	}
}

// register assigns the next free transaction id to cl.
func (l *link) register(cl *call) (uint16, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		return 0, ErrClosed
	}
	if l.err != nil {
		return 0, l.err
	}
	for {
		tid := uint16(l.c.tid.Add(1))
		if _, busy := l.pending[tid]; !busy {
			l.pending[tid] = cl
			return tid, nil
		}
	}
}

// forget removes tid; it reports whether the call was still waiting (so
// nobody else will deliver to it).
func (l *link) forget(tid uint16) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.pending[tid]
	delete(l.pending, tid)
	return ok
}

// take removes and returns the call waiting for tid, or nil.
func (l *link) take(tid uint16) *call {
	l.mu.Lock()
	defer l.mu.Unlock()
	cl := l.pending[tid]
	delete(l.pending, tid)
	return cl
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
	stop := watchDeadline(ctx, l.nc)
	n, err := l.nc.Write(adu)
	stop()
	if err == nil {
		l.c.log.Trace().Uint16("tid", tid).Hex("tx", adu).Msg("frame")
		return n, nil
	}
	var ne net.Error
	timeout := errors.As(err, &ne) && ne.Timeout()
	if n > 0 || !timeout {
		l.fail(fmt.Errorf("write: %w", err))
	}
	if timeout && ctx.Err() != nil {
		return n, ctx.Err()
	}
	return n, err
}

// aLongTimeAgo is a deadline in the past: it wakes a blocked I/O call.
var aLongTimeAgo = time.Unix(1, 0)

// watchDeadline sets nc's write deadline from ctx and wakes the write when
// ctx is cancelled. The returned stop must be called when the write is done;
// after it, the cancellation can no longer touch the socket.
func watchDeadline(ctx context.Context, nc net.Conn) (stop func()) {
	dl, _ := ctx.Deadline()
	nc.SetWriteDeadline(dl)
	var mu sync.Mutex
	finished := false
	stopAF := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !finished {
			nc.SetWriteDeadline(aLongTimeAgo)
		}
	})
	return func() {
		if !stopAF() {
			mu.Lock()
			finished = true
			mu.Unlock()
		}
	}
}

// fail takes the link down once: it closes the socket, fails every waiting
// call with cause (ErrClosed while closing) and detaches the link so that
// new requests wait for the supervisor's next one.
func (l *link) fail(cause error) {
	l.mu.Lock()
	if l.err != nil {
		l.mu.Unlock()
		return
	}
	if l.closing {
		cause = ErrClosed
	}
	l.err = cause
	pending := l.pending
	l.pending = nil
	l.c.detach(l) // lock order: l.mu, then c.mu
	l.mu.Unlock()
	l.nc.Close()
	close(l.done)
	for _, cl := range pending {
		cl.done <- result{err: cause, down: true}
	}
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
	cl := l.take(h.TID)
	if cl == nil {
		if err := l.stale(h, unexplained); err != nil {
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
// request that timed out. It returns an error when such answers outnumber
// what abandoned requests explain.
func (l *link) stale(h modbus.Header, unexplained *int) error {
	l.c.stats.stale.Add(1)
	l.c.log.Debug().Uint16("tid", h.TID).Msg("dropped answer with unknown transaction id")
	if l.abandoned.Load() > 0 {
		l.abandoned.Add(-1)
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
