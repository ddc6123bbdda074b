package simulator

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/plcctl/plcctl/modbus"
)

// writeTimeout bounds one response write: a peer that stops reading cannot
// pin a connection goroutine forever.
const writeTimeout = 5 * time.Second

type conn struct {
	s      *Server
	nc     net.Conn
	remote string

	wmu         sync.Mutex // serialises writes against the half-close
	writeClosed bool

	dlMu      sync.Mutex // guards the read deadline against a concurrent drain
	drainAt   time.Time  // set once draining: no more requests are answered
	drainOnce sync.Once
	draining  chan struct{}

	seq  int    // requests so far, for fault rules' nth
	held []byte // answers a coalesce fault holds back
}

// frameReader applies the idle timeout before a frame's first byte and the
// frame timeout once it has started, so a frame cut short is detected.
type frameReader struct {
	c       *conn
	started bool
}

func (r *frameReader) Read(p []byte) (int, error) {
	c := r.c
	if !r.started {
		var d time.Time
		if idle := c.s.cfg.IdleTimeout; idle > 0 {
			d = time.Now().Add(idle)
		}
		c.setReadDeadline(d)
	}
	n, err := c.nc.Read(p)
	if n > 0 && !r.started {
		r.started = true
		c.setReadDeadline(time.Now().Add(c.s.cfg.FrameTimeout))
	}
	return n, err
}

func (c *conn) setReadDeadline(t time.Time) {
	c.dlMu.Lock()
	defer c.dlMu.Unlock()
	if c.drainAt.IsZero() {
		c.nc.SetReadDeadline(t)
	}
}

func (c *conn) isDraining() bool {
	select {
	case <-c.draining:
		return true
	default:
		return false
	}
}

// serve reads ADUs and answers them until the connection ends.
func (c *conn) serve() {
	s := c.s
	if !c.handshake() { // TLS only (security.go)
		return
	}
	fr := &frameReader{c: c}
	buf := make([]byte, modbus.MaxADULen)
	out := make([]byte, 0, modbus.MaxADULen)
	for {
		fr.started = false
		h, adu, err := modbus.ReadADU(fr, buf)
		if err != nil {
			c.endOnReadError(err, adu)
			return
		}
		if e := s.log.Trace(); e.Enabled() {
			e.Str("remote", c.remote).Uint16("tid", h.TID).Hex("rx", adu).Msg("frame")
		}
		if c.isDraining() {
			continue // shutting down: the write side is closed, nothing can be answered
		}
		if h.Protocol != 0 {
			s.stats.foreign.Add(1)
			s.log.Warn().Str("remote", c.remote).Uint16("tid", h.TID).Uint16("protocol_id", h.Protocol).
				Msg("discarded frame: protocol id is not 0 (not Modbus)")
			continue
		}
		s.stats.requests.Add(1)
		s.stats.byFunction[adu[modbus.MBAPHeaderLen]].Add(1)
		var ok bool
		if out, ok = c.transact(h, adu[modbus.MBAPHeaderLen:], out); !ok {
			return
		}
	}
}

// transact answers one request; it returns false when the connection ended.
func (c *conn) transact(h modbus.Header, pdu []byte, out []byte) ([]byte, bool) {
	s := c.s
	fc := modbus.FunctionCode(pdu[0])
	t0 := s.obsStart()
	c.seq++
	rule, ri := s.fault(h.UnitID, pdu, c.seq)
	if rule.Action == FaultReboot {
		c.rebootFault(h, pdu, rule, ri)
		return out, false
	}
	// Structure first: a malformed PDU means the stream cannot be trusted,
	// whichever unit it names. Then the unit (gateway mode), an injected
	// exception, field values, and only then execution.
	mem := s.Unit(h.UnitID)
	req, oc := s.check(pdu, mem)
	switch {
	case oc.malformed != nil:
	case c.refused(fc, req, &oc): // roles, read-only (security.go)
	case mem == nil:
		if oc = s.unknownUnit(fc, h.UnitID); oc.rsp == nil {
			s.log.Info().Str("remote", c.remote).Uint16("tid", h.TID).Uint8("unit_id", h.UnitID).Uint8("fc", uint8(fc)).
				Msg("no device at this unit id: no answer (unknown-unit silent)")
			s.obsRequest(c, h, fc, nil, t0)
			return out, true
		}
	case rule.Action == FaultException:
		oc = exception(fc, rule.Exception, "fault rule")
	case req != nil:
		oc = s.execute(mem, req)
	}
	if oc.malformed != nil {
		s.stats.malformed.Add(1)
		if s.cfg.MalformedPDU == PDUException {
			s.log.Warn().Str("remote", c.remote).Uint16("tid", h.TID).Err(oc.malformed).Msg("malformed pdu: answering exception 03")
			oc = exception(fc, modbus.IllegalDataValue, oc.malformed.Error())
		} else {
			c.drop("malformed pdu", oc.malformed)
			s.obsRequest(c, h, fc, nil, t0)
			return out, false
		}
	}
	if fc.IsException() || fc == 0 {
		// Not a request at all; the exception form of 0x80+ cannot be encoded.
		oc = exception(fc&0x7F, modbus.IllegalFunction, "function code 0x"+hexByte(uint8(fc))+" is not a request")
	}
	if oc.reason != "" {
		// Every refused request is logged with the exact reason.
		s.log.Info().Str("remote", c.remote).Uint16("tid", h.TID).Uint8("unit_id", h.UnitID).Uint8("fc", uint8(fc)).
			Str("reason", oc.reason).Msg("answered with an exception")
	} else if e := s.log.Debug(); e.Enabled() {
		e.Str("remote", c.remote).Uint16("tid", h.TID).Uint8("unit_id", h.UnitID).Uint8("fc", uint8(fc)).Msg("transaction")
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
	s.obsRequest(c, h, fc, out, t0)
	return out, c.respond(out, rule, ri)
}

func (c *conn) write(b []byte) bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.writeClosed {
		return false
	}
	if e := c.s.log.Trace(); e.Enabled() && len(b) >= modbus.MBAPHeaderLen {
		e.Str("remote", c.remote).Hex("tx", b).Msg("frame")
	}
	c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := c.nc.Write(b); err != nil {
		c.s.log.Warn().Str("remote", c.remote).Err(err).Msg("write failed; closing")
		c.nc.Close()
		return false
	}
	return true
}

// endOnReadError classifies why reading stopped and ends the connection.
func (c *conn) endOnReadError(err error, partial []byte) {
	s := c.s
	var fe *modbus.FrameError
	switch {
	case errors.Is(err, io.EOF):
		s.stats.peerEOF.Add(1)
		s.log.Info().Str("remote", c.remote).Msg("connection closed by peer (FIN)")
		c.nc.Close()
	case isReset(err):
		s.stats.peerResets.Add(1)
		s.log.Warn().Str("remote", c.remote).Err(err).Msg("connection reset by peer")
		c.nc.Close()
	case c.isDraining():
		c.nc.Close()
	case errors.As(err, &fe) && isTimeout(err):
		c.drop("framing fault: frame not completed within "+s.cfg.FrameTimeout.String(), err)
	case errors.As(err, &fe) && errors.Is(err, io.ErrUnexpectedEOF):
		s.stats.framing.Add(1)
		s.log.Warn().Str("remote", c.remote).Err(err).Msg("framing fault: peer closed mid-frame")
		c.nc.Close()
	case errors.As(err, &fe):
		if e := s.log.Debug(); e.Enabled() {
			e.Str("remote", c.remote).Hex("rx", partial).Msg("bytes before framing fault")
		}
		c.drop("framing fault", err)
	case isTimeout(err):
		s.log.Info().Str("remote", c.remote).Dur("idle", s.cfg.IdleTimeout).Msg("idle timeout; closing")
		c.closeGracefully()
	default:
		s.log.Info().Str("remote", c.remote).Err(err).Msg("connection ended")
		c.nc.Close()
	}
}

// drop ends a connection whose stream can no longer be trusted, with a reset
// (default) or a FIN, and logs the exact reason.
func (c *conn) drop(what string, err error) {
	s := c.s
	if what != "malformed pdu" {
		s.stats.framing.Add(1)
	}
	s.log.Warn().Str("remote", c.remote).Err(err).Str("action", s.cfg.OnMalformed.String()).Msg(what + ": dropping connection")
	if s.cfg.OnMalformed == ActionClose {
		c.closeGracefully()
		return
	}
	if what == "malformed pdu" {
		c.reset("malformed-pdu")
	} else {
		c.reset("framing-fault")
	}
}

// reset closes with SO_LINGER 0, so the kernel sends RST; reason is for
// the observer (ResetEvent).
func (c *conn) reset(reason string) {
	c.s.stats.resets.Add(1)
	c.s.obsReset(c.remote, reason)
	if tc := c.tcp(); tc != nil {
		tc.SetLinger(0)
	}
	c.nc.Close()
}

// closeGracefully half-closes the write side, drains until the peer's FIN
// (bounded by the drain timeout) and closes, so unread bytes never turn
// the close into a reset.
func (c *conn) closeGracefully() {
	c.startDrain()
	buf := make([]byte, 512)
	for {
		if _, err := c.nc.Read(buf); err != nil {
			break
		}
	}
	c.nc.Close()
}

// startDrain half-closes the write side and bounds further reads by the drain
// timeout. Safe to call from any goroutine, more than once.
func (c *conn) startDrain() {
	c.drainOnce.Do(func() {
		c.dlMu.Lock()
		c.drainAt = time.Now().Add(c.s.cfg.DrainTimeout)
		c.nc.SetReadDeadline(c.drainAt)
		c.dlMu.Unlock()
		close(c.draining)
		c.wmu.Lock()
		c.writeClosed = true
		c.closeWrite()
		c.wmu.Unlock()
	})
}
