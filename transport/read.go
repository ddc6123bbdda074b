package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/plcctl/plcctl/modbus"
)

// Reading a link. There is no goroutine per link that reads every frame and
// hands each answer over to its caller: that costs a goroutine wake-up per
// request, often on another CPU. Instead the right to read (rlock) goes to a
// request waiting for its answer. It reads frames [IG §3.1.2, §4.3] into the
// link's buffer, routes other requests' answers to their channels, and
// returns when its own has come, leaving the role to the next waiting
// request. The buffer and the frame in progress belong to the link, so a
// request that leaves in the middle of a frame (its ctx ended) leaves it to
// the next reader. While no request runs, the link's watcher reads, so that
// a FIN, a reset or junk on an idle link is noticed at once.

// readBufLen is the link's read buffer: room for the answers to every
// request in flight, so that one read system call takes all that arrived.
const readBufLen = MaxInFlightLimit * modbus.MaxADULen

// defaultIdleWatch is how long a link must go without requests before its
// watcher takes the reader's role. A request that comes while the watcher
// reads is answered through its channel, at the cost of one goroutine
// wake-up; the watcher then leaves the role to requests again. So a FIN on a
// link that was busy a moment ago is noticed within two of these, and one on
// a link idle for longer at once.
const defaultIdleWatch = 20 * time.Millisecond

// readState is the holder of rlock's: bytes read but not yet framed, and
// the socket's read deadline.
type readState struct {
	buf         []byte
	r, w        int       // buf[r:w] is not framed yet
	start       time.Time // when a reader first waited for the rest of buf[r:w]'s frame; zero: not yet
	dl          time.Time // the read deadline set on the socket
	unexplained int       // unknown transaction ids in a row (route)
}

// frame returns the next complete frame in the buffer, or a nil adu if more
// bytes are needed. A header with a length outside 2..254 is an error.
func (rs *readState) frame() (modbus.Header, []byte, error) {
	b := rs.buf[rs.r:rs.w]
	if len(b) < modbus.MBAPHeaderLen {
		return modbus.Header{}, nil, nil
	}
	h, err := modbus.DecodeHeader(b[:modbus.MBAPHeaderLen])
	if err != nil {
		return h, nil, err
	}
	total := modbus.MBAPHeaderLen - 1 + int(h.Length)
	if len(b) < total {
		return h, nil, nil
	}
	rs.r += total
	if rs.r == rs.w {
		rs.r, rs.w = 0, 0
	}
	rs.start = time.Time{}
	return h, b[:total:total], nil
}

// compact makes room for a whole ADU at the end of the buffer.
func (rs *readState) compact() {
	if len(rs.buf)-rs.w < modbus.MaxADULen {
		rs.w = copy(rs.buf, rs.buf[rs.r:rs.w])
		rs.r = 0
	}
}

// fill reads what nc has into the buffer, in one call (link.fill for a
// plain TCP link on Linux).
func (rs *readState) fill(nc net.Conn) error {
	rs.compact()
	n, err := nc.Read(rs.buf[rs.w:])
	rs.w += n
	if n > 0 {
		return nil // an error comes again with the next read
	}
	return err
}

// cut describes a stream that ended or failed with buf[r:w] unframed, as
// modbus.ReadADU does: bare err between frames, a *modbus.FrameError inside
// one.
func (rs *readState) cut(err error) error {
	partial := io.MultiReader(bytes.NewReader(rs.buf[rs.r:rs.w]), errReader{err})
	_, _, ferr := modbus.ReadADU(partial, nil)
	return ferr
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// nextFrame returns the next frame, reading the socket as needed, for cl
// (nil: the watcher, which has no deadline). It returns errGaveUp when cl's
// ctx or deadline ends, or when cl is queued and the writer did not write
// its ADU whole (armRead); any other error means the stream is broken. A frame
// once begun must be complete within Options.Timeout, whoever reads it.
func (l *link) nextFrame(ctx context.Context, cl *call) (modbus.Header, []byte, error) {
	rs := &l.rs
	for {
		h, adu, err := rs.frame()
		if adu != nil || err != nil {
			return h, adu, err
		}
		if err := l.armRead(ctx, cl); err != nil {
			return h, nil, err
		}
		err = l.fill()
		switch {
		case err == nil:
			continue
		case !isDeadline(err):
			return h, nil, rs.cut(err)
		case rs.w > rs.r && !time.Now().Before(rs.start.Add(l.c.opts.Timeout)):
			return h, nil, rs.cut(err) // the frame did not complete in time
		case cl != nil && cl.expired(ctx) != nil:
			return h, nil, errGaveUp
		}
		rs.dl = aLongTimeAgo // woken early (closeEnough), or by report (armRead sees it): set the deadline exactly
	}
}

// armRead sets the socket's read deadline for the next read unless the one
// set is close enough (closeEnough): cl's deadline, or sooner the end of the
// frame in progress, which is set exactly.
func (l *link) armRead(ctx context.Context, cl *call) error {
	rs := &l.rs
	var d, early time.Time
	if cl != nil {
		d, early = cl.dl, cl.early
	}
	if rs.w > rs.r {
		if rs.start.IsZero() {
			rs.start = time.Now()
		}
		if fd := rs.start.Add(l.c.opts.Timeout); d.IsZero() || fd.Before(d) {
			d, early = fd, fd
		}
	}
	if cl != nil && (cl.cancel || cl.queued) {
		l.kmu.Lock()
		defer l.kmu.Unlock()
		// A kick may have come before we were the reader, or the writer's
		// word that our ADU did not go out whole (report): then no answer
		// can come, and a wait would last until our deadline.
		if ctx.Err() != nil || len(cl.wdone) != 0 {
			return errGaveUp
		}
	}
	if !d.Equal(rs.dl) && (d.IsZero() || !closeEnough(rs.dl, d, early)) {
		l.nc.SetReadDeadline(d)
		rs.dl = d
	}
	return nil
}

// readAs reads frames as the holder of rlock until cl's answer comes,
// routing the others' on the way, then gives rlock back. It reports false
// if cl's ctx or deadline ended first, or its ADU was not written (see
// nextFrame).
func (l *link) readAs(ctx context.Context, cl *call) (result, bool) {
	defer l.unread(cl)
	select {
	case r := <-cl.done: // routed by the previous reader, or failed
		return r, true
	default:
	}
	for {
		h, adu, err := l.nextFrame(ctx, cl)
		if err == errGaveUp {
			return result{}, false
		}
		if err != nil {
			l.fail(readError(err))
			return <-cl.done, true // fail delivers to every waiting call
		}
		l.c.traceFrame(h.TID, "rx", adu)
		r, to, ok := l.route(h, adu, cl)
		switch {
		case to == cl && ok:
			l.routeBuffered()
			return r, true
		case to == cl:
			return r, true
		case !ok:
			return <-cl.done, true
		}
	}
}

// routeBuffered routes the complete frames left in the buffer, answers
// that came with the reader's own, so that their callers need not wait for
// the next reader.
func (l *link) routeBuffered() {
	for {
		h, adu, err := l.rs.frame()
		if err != nil {
			l.fail(readError(err))
			return
		}
		if adu == nil {
			return
		}
		l.c.traceFrame(h.TID, "rx", adu)
		if _, _, ok := l.route(h, adu, nil); !ok {
			return
		}
	}
}

// watch is the link's goroutine. Once the link has had no request for
// idleWatch, or when Close drains it, it takes the reader's role and reads
// until it has delivered an answer (requests run again and read for
// themselves) or, while draining, until the link is down.
func (l *link) watch() {
	defer l.c.wg.Done()
	defer close(l.readerDone)
	idleWatch := l.c.opts.idleWatch
	t := time.NewTimer(idleWatch)
	defer t.Stop()
	var seen uint64
	for {
		select {
		case <-t.C:
			if !l.idle(&seen) {
				t.Reset(idleWatch)
				continue
			}
		case <-l.draining:
		case <-l.done:
			return
		}
		if l.rlock.lock(l.done, nil, nil, nil) >= 0 {
			return
		}
		if !l.readIdle() {
			return
		}
		t.Reset(idleWatch)
	}
}

// readIdle reads frames as the watcher; see watch. It gives rlock back and
// reports false once the link is down.
func (l *link) readIdle() bool {
	defer l.rlock.unlock()
	ctx := context.Background()
	for {
		h, adu, err := l.nextFrame(ctx, nil)
		if err != nil {
			l.fail(readError(err))
			return false
		}
		l.c.traceFrame(h.TID, "rx", adu)
		_, to, ok := l.route(h, adu, nil)
		if !ok {
			return false
		}
		if to != nil && !l.isDraining() {
			return true
		}
	}
}

func (l *link) isDraining() bool {
	select {
	case <-l.draining:
		return true
	default:
		return false
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

// shutdown closes the link gracefully: no new writes, FIN after the last
// write, answers still read until the peer's FIN, then close. Past
// Options.Timeout, or when parent ends, it closes anyway. It reports whether
// the close was graceful (the peer's FIN came, or the link was already down).
func (l *link) shutdown(parent context.Context) (graceful bool) {
	ctx, cancel := context.WithTimeout(parent, l.c.opts.Timeout)
	defer cancel()
	l.mu.Lock()
	l.closing = true
	l.mu.Unlock()
	close(l.draining) // the watcher reads from now on, until the FIN
	// wlock, held for good: no write can follow the FIN.
	if l.wlock.lock(l.done, ctx.Done(), nil, nil) < 0 {
		if err := l.nc.CloseWrite(); err != nil {
			l.fail(ErrClosed)
		}
	}
	graceful = true
	select {
	case <-l.readerDone: // the peer's FIN, or the link was already down
	case <-ctx.Done():
		graceful = false
		// A peer that had already let requests time out is not news:
		// their callers heard of it, and a CLI has said so in its one
		// sentence. A peer that answered but does not close is.
		l.mu.Lock()
		silent := l.silent
		l.mu.Unlock()
		e := l.c.log.Warn()
		if silent > 0 {
			e = l.c.log.Debug().Int("timeouts", silent)
		}
		e.Err(context.Cause(ctx)).Msg("no FIN from peer; closing")
	}
	l.fail(ErrClosed)
	<-l.readerDone
	return graceful
}
