package simulator

import (
	"bytes"
	"encoding/binary"
	"time"

	"github.com/plcctl/plcctl/modbus"
)

// This file carries out the fault decisions of faults.go on a connection:
// the decision is made without I/O, the actions here only do what it says.

// respond sends a response, applying a fault rule. It returns false when the
// connection ended.
func (c *conn) respond(out []byte, rule FaultRule, ri int) bool {
	s := c.s
	if rule.Action != FaultNone {
		c.noteFault(out, rule, ri)
	}
	switch rule.Action {
	case FaultDelay:
		if !c.pause(rule.Delay) {
			return false
		}
	case FaultDrop:
		return true
	case FaultDuplicate:
		if !c.send(out) {
			return false
		}
		c.answered(1)
	case FaultSplit:
		return c.sendSplit(out, rule)
	case FaultWrongTID:
		binary.BigEndian.PutUint16(out, binary.BigEndian.Uint16(out)+1)
	case FaultWrongUnit:
		out[6]++
	case FaultWrongFunction:
		fc := out[modbus.MBAPHeaderLen]
		out[modbus.MBAPHeaderLen] = (fc & 0x80) | ((fc&0x7F)%127 + 1)
	case FaultShort:
		out = shortAnswer(out)
	case FaultBadByteCount:
		out = badByteCount(out)
	case FaultJunk:
		out = append(bytes.Repeat([]byte{0xFF}, cmp0(rule.Junk, 8)), out...)
	case FaultCoalesce:
		c.held = append(c.held, out...)
		return true
	case FaultCloseFIN:
		c.closeGracefully()
		return false
	case FaultCloseRST:
		c.reset(ResetFault)
		return false
	case FaultCutMidFrame:
		c.send(out[:len(out)/2])
		c.closeGracefully()
		return false
	case FaultAnswerClose:
		if c.send(out) {
			c.answered(1)
		}
		c.closeGracefully()
		return false
	case FaultStopAccepting:
		s.fx.mu.Lock()
		s.fx.pausedUntil = time.Now().Add(rule.For)
		s.fx.mu.Unlock()
	}
	if !c.send(out) {
		return false
	}
	c.answered(1)
	return true
}

// noteFault counts an injected fault and logs it with the connection and
// transaction it hit.
func (c *conn) noteFault(out []byte, rule FaultRule, ri int) {
	s := c.s
	s.stats.faultsApplied.Add(1)
	s.fx.applied[rule.Action].Add(1)
	s.obsFault(c.remote, rule.Action)
	e := s.log.Info().Str("remote", c.remote).Str("fault", rule.Action.String()).Int("rule", ri+1)
	if len(out) > modbus.MBAPHeaderLen {
		// out is the answer, not yet changed by the fault: its function
		// code is the request's, with bit 7 set for an exception.
		e = e.Uint16("tid", binary.BigEndian.Uint16(out)).Uint8("unit_id", out[6]).Uint8("fc", out[modbus.MBAPHeaderLen]&0x7F)
	}
	e.Int("request", c.seq).Msg("fault injected")
}

// send writes b in one write, after any answers a coalesce fault held back.
func (c *conn) send(b []byte) bool {
	if len(c.held) > 0 {
		b = append(c.held, b...)
		c.answered(countADUs(c.held))
		c.held = nil
	}
	return c.write(b)
}

// sendSplit writes out in pieces (each byte, or two cut at rule.SplitAt),
// pausing rule.Gap between them.
func (c *conn) sendSplit(out []byte, rule FaultRule) bool {
	for i := 0; i < len(out); {
		n := 1
		if rule.SplitAt > 0 {
			n = len(out) - i
			if i == 0 && rule.SplitAt < len(out) {
				n = rule.SplitAt
			}
		}
		if i > 0 && rule.Gap > 0 && !c.pause(rule.Gap) {
			return false
		}
		if !c.send(out[i : i+n]) {
			return false
		}
		i += n
	}
	c.answered(1)
	return true
}

// pause waits d, or until the server closes or the connection is ended
// from elsewhere (a reset: Server.Reboot); false means one of those.
// Closed, the connection is then marked as stopped by the shutdown, so
// that finish closes it gracefully. Shutdown marks every connection too,
// but only after done is closed: a connection woken first found itself not
// stopping and closed at once, without a drain, and a request the peer had
// sent meanwhile, unread, made that close the kernel's (uncounted) reset.
// Reset, the connection is gone already: its goroutine just ends (it
// stayed in the pause, counted open and holding its MaxConns slot, until
// the delay was over, possibly hours after the reboot).
func (c *conn) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.gone:
		return false
	case <-c.s.done:
		c.signalStop(stopShutdown) // a no-op if Shutdown (or Close) came first
		return false
	}
}

// shortAnswer drops the last item of a read answer and fixes its byte count
// and length, so the frame is consistent but holds fewer items than asked.
// Other answers lose their last two bytes; an exception is left alone.
func shortAnswer(out []byte) []byte {
	pdu := out[modbus.MBAPHeaderLen:]
	fc := modbus.FunctionCode(pdu[0])
	switch {
	case fc.IsException():
		return out
	case (fc == modbus.FuncReadCoils || fc == modbus.FuncReadDiscreteInputs) && len(pdu) >= 3:
		pdu[1]--
		out = out[:len(out)-1]
	case (fc == modbus.FuncReadHoldingRegisters || fc == modbus.FuncReadInputRegisters ||
		fc == modbus.FuncReadWriteMultipleRegisters) && len(pdu) >= 4:
		pdu[1] -= 2
		out = out[:len(out)-2]
	default:
		out = out[:max(len(out)-2, modbus.MBAPHeaderLen+1)]
	}
	setLength(out)
	return out
}

// badByteCount makes an answer's byte count one too many; an answer without
// a byte count gets one extra byte, so its length is wrong for its function.
func badByteCount(out []byte) []byte {
	pdu := out[modbus.MBAPHeaderLen:]
	switch modbus.FunctionCode(pdu[0]) {
	case modbus.FuncReadCoils, modbus.FuncReadDiscreteInputs, modbus.FuncReadHoldingRegisters,
		modbus.FuncReadInputRegisters, modbus.FuncReadWriteMultipleRegisters, modbus.FuncReadFileRecord:
		if len(pdu) >= 2 {
			pdu[1]++
			return out
		}
	case modbus.FuncReadFIFOQueue:
		if len(pdu) >= 3 {
			binary.BigEndian.PutUint16(pdu[1:], binary.BigEndian.Uint16(pdu[1:])+1)
			return out
		}
	}
	out = append(out, 0)
	setLength(out)
	return out
}

func setLength(adu []byte) {
	binary.BigEndian.PutUint16(adu[4:], uint16(len(adu)-6))
}

// countADUs counts the frames in b, a run of whole ADUs we encoded.
func countADUs(b []byte) int {
	n := 0
	for len(b) >= modbus.MBAPHeaderLen {
		l := 6 + int(binary.BigEndian.Uint16(b[4:]))
		b = b[min(l, len(b)):]
		n++
	}
	return n
}

func cmp0(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// rebootFault carries out a reboot rule: the request is not executed and
// never answered.
func (c *conn) rebootFault(h modbus.Header, pdu []byte, rule FaultRule, ri int) {
	hdr := make([]byte, 0, modbus.MBAPHeaderLen+1)
	hdr = binary.BigEndian.AppendUint16(hdr, h.TID)
	hdr = append(hdr, 0, 0, 0, 2, h.UnitID, pdu[0])
	c.noteFault(hdr, rule, ri)
	c.s.Reboot(rule.For)
}

// Reboot simulates a power cycle: every connection is dropped with a reset
// (one whose answer a delay fault holds back too, at once: its goroutine
// ends with it), the listening socket is closed for d (connection attempts
// are refused) and then opened again on the same address, and the
// non-retentive memory is cleared. Safe to call while serving.
func (s *Server) Reboot(d time.Duration) {
	s.fx.mu.Lock()
	s.fx.downUntil = time.Now().Add(d)
	l := s.fx.listener
	s.fx.mu.Unlock()
	if l != nil {
		l.reboot()
	}
	s.clearVolatile()
	s.mu.Lock()
	cs := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	s.log.Warn().Dur("for", d).Int("conns", len(cs)).Msg("reboot: dropping every connection, memory cleared")
	for _, c := range cs {
		c.reset(ResetReboot)
	}
}
