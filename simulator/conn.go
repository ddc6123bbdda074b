package simulator

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/modbus"
)

type conn struct {
	s      *Server
	nc     net.Conn
	id     uint64 // accept order, from 1: "conn" in log lines
	remote string
	opened time.Time

	requests   atomic.Uint64
	responses  atomic.Uint64
	lastActive atomic.Int64 // unix ns of the last complete request or answer sent; opened before
	busy       atomic.Bool  // the server is working on a request (not waiting on the peer)
	inSlot     bool         // counts against MaxConns; guarded by Server.mu

	connState

	// The deadlines the serving goroutine armed (zero: none) and, for the
	// write under way, when it is due. On a plain TCP socket a deadline
	// armed for an earlier frame or answer is kept while at least half its
	// timeout is left, and a read or write it cuts short is resumed to the
	// real due time: one timer change per half timeout instead of three per
	// request, with the same timeouts. Over TLS a timed-out write leaves
	// the connection unusable, so each read and write arms its own.
	plain bool // c.nc is a *net.TCPConn; set before serving
	// sock reads the requests and writes the answers: c.nc, or on Linux a
	// plain TCP socket's raw reads and writes (rawsock_linux.go), which
	// honour c.nc's deadlines. Set before serving.
	sock io.ReadWriter
	// rs is the raw socket when there is one (Linux, plain TCP): plain
	// requests are then served inside its raw read (serveIn,
	// rawsock_linux.go), and inRaw is true while they are.
	rs       *rawSocket
	inRaw    bool
	now      time.Time // inside the raw read: when the last read returned
	rdl, wdl time.Time
	writeDue time.Time
	idleDue  time.Time // when the idle wait armed last (armIdle) ends; zero: never

	br  *connReader // the requests read and not yet handled
	buf []byte      // the request being handled, copied out of br
	out []byte      // its answer

	// A malformed PDU found inside the raw read, whose connection is
	// dropped once serveIn has returned (a socket cannot be closed from
	// inside its own raw read).
	later pendingDrop

	seq  int    // requests so far, for fault rules' nth
	held []byte // answers a coalesce fault holds back

	sc scratch // the request being handled and its answer (handler.go)

	// Pipelined requests that came in one read are answered in one write:
	// while another complete request is buffered (more), a plain answer (no
	// fault) waits in wbuf, and the last plain answer of the batch joins
	// them; wbuf goes out then, before the socket is read again, before any
	// fault or error path, and when the connection stops.
	more bool
	wbuf []byte
	wn   int // answers in wbuf
}

// wbufLen bounds the answers wbuf holds.
const wbufLen = 16 * modbus.MaxADULen

// connReader buffers a connection's reads, so that one read system call
// takes every request that has arrived (a frame's header and body, and a
// pipelining client's next requests).
type connReader struct {
	fr   *frameReader
	buf  []byte
	r, w int
}

func (br *connReader) Read(p []byte) (int, error) {
	if br.r == br.w {
		br.r, br.w = 0, 0
		n, err := br.fr.Read(br.buf)
		if n == 0 {
			return 0, err
		}
		br.w = n // an error comes again with the next read
	}
	n := copy(p, br.buf[br.r:br.w])
	br.r += n
	return n, nil
}

// complete says a whole frame (or a header no frame can follow) is
// buffered: reading it needs no system call.
func (br *connReader) complete() bool {
	b := br.buf[br.r:br.w]
	return len(b) >= modbus.MBAPHeaderLen && len(b) >= modbus.MBAPHeaderLen-1+int(binary.BigEndian.Uint16(b[4:6]))
}

// flush writes the answers held in wbuf; false when the connection ended.
func (c *conn) flush() bool {
	if len(c.wbuf) == 0 {
		return true
	}
	b, n := c.wbuf, c.wn
	c.wbuf, c.wn = c.wbuf[:0], 0
	if !c.write(b) {
		return false
	}
	c.answered(n)
	return true
}

func (c *conn) touch() { c.lastActive.Store(time.Now().UnixNano()) }

// frameReader applies the idle timeout before a frame's first byte and the
// frame timeout once it has started, so a frame cut short is detected. A
// frame that comes whole in its first read (the usual case) needs no frame
// deadline: it is armed when a started frame has to be read further.
type frameReader struct {
	c       *conn
	started bool // the frame's first bytes are in
	armed   bool // the frame's deadline is set
}

func (r *frameReader) Read(p []byte) (int, error) {
	c := r.c
	if r.started {
		if !r.armed {
			if !c.setReadDeadline(time.Now().Add(c.s.cfg.FrameTimeout)) {
				return 0, errStopping
			}
			r.armed = true
		}
		return c.sock.Read(p)
	}
	n, err := c.readIdle(p)
	if n > 0 {
		r.started, r.armed = true, false
	}
	return n, err
}

// readIdle reads a frame's first bytes, waiting at most IdleTimeout from
// now (forever without one).
func (c *conn) readIdle(p []byte) (int, error) {
	if !c.armIdle(time.Now()) {
		return 0, errStopping
	}
	for {
		n, err := c.sock.Read(p)
		if n > 0 || !c.idleKept(err) {
			return n, err
		}
		if !c.setReadDeadline(c.idleDue) {
			return 0, errStopping
		}
	}
}

// armIdle readies a wait for a frame's first byte to end IdleTimeout after
// now (never without one), due at c.idleDue. On a plain socket the deadline
// of an earlier frame is kept while it leaves at least half of IdleTimeout
// (idleKept tells when it cut the wait short). False: the connection is
// stopping.
func (c *conn) armIdle(now time.Time) bool {
	idle := c.s.cfg.IdleTimeout
	if idle <= 0 {
		c.idleDue = time.Time{}
		return c.rdl.IsZero() || c.setReadDeadline(time.Time{})
	}
	due := now.Add(idle)
	c.idleDue = due
	if !c.plain || c.rdl.Before(now.Add(idle/2)) || c.rdl.After(due) {
		return c.setReadDeadline(due)
	}
	return true
}

// idleKept says the idle wait ended with err only because the deadline
// kept from an earlier frame came first: the connection has not been idle
// for IdleTimeout yet, and the wait goes on to c.idleDue.
func (c *conn) idleKept(err error) bool {
	return c.rdl.Before(c.idleDue) && isTimeout(err)
}

// errStopping ends the read loop of a connection the server is stopping.
var errStopping = errors.New("simulator: connection stopping")

// serve reads ADUs and answers them until the connection ends.
func (c *conn) serve() {
	defer c.finish()
	if !c.handshake() { // TLS only (security.go)
		return
	}
	c.sock = c.nc
	if tc, ok := c.nc.(*net.TCPConn); ok {
		c.plain = true
		if rs := newRawSocket(tc); rs != nil {
			c.rs, c.sock = rs, rs
			rs.serveFn = c.inRead
		}
	}
	fr := &frameReader{c: c}
	br := &connReader{fr: fr, buf: make([]byte, 16*modbus.MaxADULen)}
	c.br, c.buf, c.out = br, make([]byte, modbus.MaxADULen), make([]byte, 0, modbus.MaxADULen)
	for {
		c.more = false
		if !br.complete() {
			// The socket is read next: the answers held go out first.
			if !c.flush() {
				return
			}
			if c.rs != nil && br.r == br.w {
				// Plain requests are read, handled and answered inside
				// the socket's raw read; what they cannot do there comes
				// back here (rawsock_linux.go).
				if err := c.serveIn(); err != nil {
					c.flush()
					c.endOnReadError(err, nil)
					return
				}
				if c.later.err != nil {
					c.dropMalformed(c.later)
					return
				}
				continue
			}
			// A frame begun in the last read has FrameTimeout from the
			// read that continues it.
			fr.started, fr.armed = br.r < br.w, false
		} else {
			fr.started = false
		}
		h, adu, err := modbus.ReadADU(br, c.buf)
		if err != nil {
			c.flush() // answers to the requests before the bad bytes first, as they came
			c.endOnReadError(err, adu)
			return
		}
		c.more = br.complete()
		if !c.handle(h, adu) {
			return
		}
	}
}

// handle serves one complete frame; false when the connection ended (or,
// inside the raw read, must leave it: rawsock_linux.go).
func (c *conn) handle(h modbus.Header, adu []byte) bool {
	s := c.s
	if e := s.log.Trace(); e.Enabled() {
		e.Uint64("conn", c.id).Str("remote", c.remote).Uint16("tid", h.TID).Hex("rx", adu).Msg("frame")
	}
	if c.stopping() && c.stop.Load() != stopShutdown {
		c.flush()    // what was answered goes out; nothing more is
		return false // evicted or reset
	}
	// Shutting down, a request already read is still answered; the loop
	// ends at its next read of the socket.
	if c.inRaw {
		c.lastActive.Store(c.now.UnixNano()) // the time of the read
	} else {
		c.touch()
	}
	if h.Protocol != 0 {
		s.stats.foreign.Add(1)
		s.event(logForeign, zerolog.WarnLevel).Uint64("conn", c.id).Str("remote", c.remote).Uint16("tid", h.TID).
			Uint16("protocol_id", h.Protocol).Msg("discarded frame: protocol id is not 0 (not Modbus)")
		return true
	}
	s.stats.requests.Add(1)
	c.requests.Add(1)
	s.stats.byFunction[adu[modbus.MBAPHeaderLen]].Add(1)
	c.busy.Store(true)
	var ok bool
	c.out, ok = c.transact(h, adu[modbus.MBAPHeaderLen:], c.out)
	c.busy.Store(c.more) // with the next request buffered, it is still busy
	return ok
}

// pendingDrop is a malformed PDU's drop put off until serveIn returned.
type pendingDrop struct {
	err error
	h   modbus.Header
	fc  modbus.FunctionCode
	t0  time.Time
}

// dropMalformed ends the connection on a malformed PDU (ResetMalformedPDU
// or a FIN, per OnMalformed), after the answers before it. The observer
// hears of the request first, as Stats has counted it already: a client
// that reads the metrics once it sees the reset finds it counted.
func (c *conn) dropMalformed(d pendingDrop) {
	c.flush()
	c.s.obsRequest(c, d.h, d.fc, nil, d.t0, false, true)
	c.drop(ResetMalformedPDU, "malformed pdu", d.err)
}

// transact answers one request; it returns false when the connection ended.
func (c *conn) transact(h modbus.Header, pdu []byte, out []byte) ([]byte, bool) {
	s := c.s
	fc := modbus.FunctionCode(pdu[0])
	t0 := s.obsStart()
	c.seq++
	rule, ri := FaultRule{}, -1
	if !c.inRaw { // inside the raw read only without rules (plainNext)
		rule, ri = s.fault(h.UnitID, pdu, c.seq)
	}
	if rule.Action != FaultNone && !c.flush() { // a fault acts on the stream as it was
		return out, false
	}
	if rule.Action == FaultReboot {
		c.rebootFault(h, pdu, rule, ri)
		return out, false
	}
	// Structure first: a malformed PDU means the stream cannot be trusted,
	// whichever unit it names. Then the unit (gateway mode), an injected
	// exception, field values, and only then execution.
	mem := s.Unit(h.UnitID)
	req, oc := s.check(pdu, mem, &c.sc)
	switch {
	case oc.malformed != nil:
	case c.refused(h.UnitID, fc, req, &oc): // roles, read-only (security.go)
	case mem == nil:
		if oc = s.unknownUnit(fc, h.UnitID); oc.rsp == nil {
			s.log.Info().Str("remote", c.remote).Uint16("tid", h.TID).Uint8("unit_id", h.UnitID).Uint8("fc", uint8(fc)).
				Msg("no device at this unit id: no answer (unknown-unit silent)")
			s.obsRequest(c, h, fc, nil, t0, true, false)
			return out, true
		}
	case rule.Action == FaultException:
		oc = exception(fc, rule.Exception, "fault rule")
	case req != nil:
		oc = s.execute(mem, req, &c.sc)
	}
	malformed := oc.malformed != nil
	if malformed {
		s.stats.malformed.Add(1)
		if s.cfg.MalformedPDU == PDUException {
			s.event(logMalformed, zerolog.WarnLevel).Uint64("conn", c.id).Str("remote", c.remote).Uint16("tid", h.TID).
				Err(oc.malformed).Msg("malformed pdu: answering exception 03")
			oc = exception(fc, modbus.IllegalDataValue, oc.malformed.Error())
		} else {
			d := pendingDrop{err: oc.malformed, h: h, fc: fc, t0: t0}
			if c.inRaw {
				c.later = d // serve drops it once out of the raw read
			} else {
				c.dropMalformed(d)
			}
			return out, false
		}
	}
	if fc.IsException() || fc == 0 {
		// Not a request at all; the exception form of 0x80+ cannot be encoded.
		oc = exception(fc&0x7F, modbus.IllegalFunction, "function code 0x"+hexByte(uint8(fc))+" is not a request")
	}
	if oc.reason != "" {
		// Every refused request is logged with the exact reason.
		s.event(logException, zerolog.InfoLevel).Uint64("conn", c.id).Str("remote", c.remote).Uint16("tid", h.TID).
			Uint8("unit_id", h.UnitID).Uint8("fc", uint8(fc)).Str("reason", oc.reason).Msg("answered with an exception")
	} else if e := s.log.Debug(); e.Enabled() {
		e.Uint64("conn", c.id).Str("remote", c.remote).Uint16("tid", h.TID).Uint8("unit_id", h.UnitID).Uint8("fc", uint8(fc)).Msg("transaction")
	}
	out, err := modbus.AppendADU(out[:0], h.TID, h.UnitID, oc.rsp)
	if err != nil {
		s.log.Error().Err(err).Uint16("tid", h.TID).Msg("cannot encode response")
		out, _ = modbus.AppendADU(out[:0], h.TID, h.UnitID, modbus.NewException(fc, modbus.ServerDeviceFailure))
	}
	if modbus.FunctionCode(out[modbus.MBAPHeaderLen]).IsException() {
		s.stats.exceptions.Add(1)
	}
	s.obsWrite(c, h, req, out)
	s.obsRequest(c, h, fc, out, t0, false, malformed)
	if (c.more || len(c.wbuf) > 0) && rule.Action == FaultNone && len(c.held) == 0 && len(c.wbuf)+len(out) <= wbufLen {
		// The next request is here already, or this answers the last of
		// a batch: one write for all of them.
		c.wbuf = append(c.wbuf, out...)
		c.wn++
		if c.more {
			return out, true
		}
		return out, c.flush()
	}
	if !c.flush() {
		return out, false
	}
	return out, c.respond(out, rule, ri)
}

// traceTx logs bytes that went out (or go out now) at trace level.
func (c *conn) traceTx(b []byte) {
	if e := c.s.log.Trace(); e.Enabled() {
		e.Uint64("conn", c.id).Str("remote", c.remote).Hex("tx", b).Msg("frame")
	}
}

// write sends b within WriteTimeout. It returns false when the connection
// ended (or is stopping): a peer that stopped reading is reset
// (ResetWriteTimeout), since its unread requests make any close a reset.
func (c *conn) write(b []byte) bool {
	s := c.s
	c.busy.Store(false) // from here on we wait on the peer
	if len(b) >= modbus.MBAPHeaderLen {
		c.traceTx(b)
	}
	now := time.Now()
	if !c.armWrite(now) {
		return false
	}
	// Touched before the write, not after: the peer may act on the answer
	// (and the eviction order compare it) before this goroutine runs again.
	c.lastActive.Store(now.UnixNano())
	n, err := c.sock.Write(b)
	for err != nil && c.wdl.Before(c.writeDue) && isTimeout(err) && c.setWriteDeadline(c.writeDue) {
		// The deadline kept from an earlier answer came first: this write
		// has not had its WriteTimeout yet.
		b = b[n:]
		n, err = c.sock.Write(b)
	}
	switch {
	case err == nil:
		return true
	case c.stopping() && (c.stop.Load() != stopShutdown || errors.Is(err, net.ErrClosed)):
		// Evicted or reset (the deadline was moved to now), or closed at
		// the end of Shutdown's ctx: finish closes.
	case isTimeout(err):
		c.resetWith(ResetWriteTimeout, s.event(logReset, zerolog.WarnLevel).Err(err).Dur("write_timeout", s.cfg.WriteTimeout))
	case isReset(err):
		s.stats.peerResets.Add(1)
		s.event(logPeerReset, zerolog.WarnLevel).Uint64("conn", c.id).Str("remote", c.remote).Err(err).Msg("connection reset by peer")
		c.close()
	default:
		s.event(logWriteFailed, zerolog.WarnLevel).Uint64("conn", c.id).Str("remote", c.remote).Err(err).Msg("write failed; closing")
		c.close()
	}
	return false
}

// endOnReadError classifies why reading stopped and ends the connection.
func (c *conn) endOnReadError(err error, partial []byte) {
	s := c.s
	var fe *modbus.FrameError
	switch {
	case c.stopping():
		// Evicted or shutting down (the read deadline was moved to now):
		// finish closes.
	case errors.Is(err, io.EOF):
		s.stats.peerEOF.Add(1)
		s.event(logPeerClosed, zerolog.InfoLevel).Uint64("conn", c.id).Str("remote", c.remote).Msg("connection closed by peer (FIN)")
		c.close()
	case isReset(err):
		s.stats.peerResets.Add(1)
		s.event(logPeerReset, zerolog.WarnLevel).Uint64("conn", c.id).Str("remote", c.remote).Err(err).Msg("connection reset by peer")
		c.close()
	case errors.As(err, &fe) && isTimeout(err):
		c.drop(ResetFramingFault, "framing fault: frame not completed within "+s.cfg.FrameTimeout.String(), err)
	case errors.As(err, &fe) && errors.Is(err, io.ErrUnexpectedEOF):
		s.stats.framing.Add(1)
		s.event(logFraming, zerolog.WarnLevel).Uint64("conn", c.id).Str("remote", c.remote).Err(err).Msg("framing fault: peer closed mid-frame")
		c.close()
	case errors.As(err, &fe):
		if e := s.log.Debug(); e.Enabled() {
			e.Uint64("conn", c.id).Str("remote", c.remote).Hex("rx", partial).Msg("bytes before framing fault")
		}
		c.drop(ResetFramingFault, "framing fault", err)
	case isTimeout(err):
		s.stats.idleClosed.Add(1)
		s.event(logIdle, zerolog.InfoLevel).Uint64("conn", c.id).Str("remote", c.remote).Dur("idle", s.cfg.IdleTimeout).Msg("idle timeout; closing")
		c.closeGracefully()
	default:
		s.event(logEnded, zerolog.InfoLevel).Uint64("conn", c.id).Str("remote", c.remote).Err(err).Msg("connection ended")
		c.close()
	}
}

// drop ends a connection whose stream can no longer be trusted, with a reset
// (default) or a FIN, and logs the exact reason.
func (c *conn) drop(reason ResetReason, what string, err error) {
	s := c.s
	kind := logMalformed
	if reason == ResetFramingFault {
		s.stats.framing.Add(1)
		kind = logFraming
	}
	e := s.event(kind, zerolog.WarnLevel).Err(err).Str("action", s.cfg.OnMalformed.String())
	if s.cfg.OnMalformed == ActionClose {
		e.Uint64("conn", c.id).Str("remote", c.remote).Msg(what + ": dropping connection")
		c.closeGracefully()
		return
	}
	c.resetWith(reason, e.Str("fault", what))
}
