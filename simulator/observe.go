package simulator

import (
	"time"

	"github.com/plcctl/plcctl/modbus"
)

// Observer is the server's one seam for watching what it does: metrics, a
// journal of client writes, a live page. Config.Observer installs one; nil
// (the default) costs a nil check per event and nothing else.
//
// The server calls the methods on its connection and accept goroutines,
// from the places where it counts Stats, so events agree with Stats exactly.
// A method must return quickly and must never block: copy what you keep
// and hand it to your own goroutine. The slices in events are fresh copies
// the observer may keep.
type Observer interface {
	// Request is called once per request ADU with protocol id 0 (every one
	// counted in Stats.Requests) when its answer is ready, before it is sent
	// (so a client that has its answer knows the event was reported), or when
	// the connection is dropped for a malformed PDU.
	Request(RequestEvent)
	// Write is called after every write request that executed (its answer
	// is normal, whether a fault then delays or drops it), before the answer
	// is sent.
	Write(WriteEvent)
	// Connection is called when a connection is accepted, refused or evicted,
	// and when it ends.
	Connection(ConnEvent)
	// Reset is called when the server drops a connection with a TCP reset.
	Reset(ResetEvent)
	// Fault is called when a fault rule is applied to a transaction.
	Fault(FaultEvent)
}

// NopObserver ignores every event; embed it to implement only some methods.
type NopObserver struct{}

// Request ignores e.
func (NopObserver) Request(e RequestEvent) {}

// Write ignores e.
func (NopObserver) Write(e WriteEvent) {}

// Connection ignores e.
func (NopObserver) Connection(e ConnEvent) {}

// Reset ignores e.
func (NopObserver) Reset(e ResetEvent) {}

// Fault ignores e.
func (NopObserver) Fault(e FaultEvent) {}

// RequestEvent describes one request and its outcome.
type RequestEvent struct {
	Remote    string
	UnitID    uint8
	Function  modbus.FunctionCode  // the request's function code
	Exception modbus.ExceptionCode // the exception answered; 0 for a normal answer or none
	// Malformed: the PDU's length was not what its function code implies
	// (Stats.MalformedPDUs): the connection was dropped without an answer,
	// or under MalformedPDU exception it was answered 03 (Exception).
	Malformed bool
	Silent    bool          // not answered on purpose: a unit without a memory under UnknownUnitSilent
	Duration  time.Duration // from the complete request to the answer ready to send
}

// WriteEvent is one executed client write. Address is the first item written
// (for FC 21 the record number within File). Coils holds the bits of FC 5 and
// 15; Registers the registers of FC 6, 16, 23 (its write part) and 21, and for
// FC 22 the two masks, AND then OR.
type WriteEvent struct {
	Time      time.Time
	Remote    string
	UnitID    uint8
	Function  modbus.FunctionCode
	Address   uint16
	File      uint16
	Coils     []bool
	Registers []uint16
}

// ConnResult says what happened to a connection.
type ConnResult string

const (
	ConnAccepted ConnResult = "accepted" // now served
	ConnRefused  ConnResult = "refused"  // closed at once: MaxConns reached
	ConnEvicted  ConnResult = "evicted"  // closed by the server to make room or on its policy
	ConnClosed   ConnResult = "closed"   // a served connection ended, for whatever reason
)

// ConnEvent is a connection's change of state.
type ConnEvent struct {
	Remote string
	Result ConnResult
}

// ResetEvent is a connection the server reset, and why: a ResetReason's
// String: "framing-fault", "malformed-pdu", "write-timeout", "drain-timeout",
// "fault" (a close-rst rule), "shutdown" or "reboot" (a connection dropped by
// Reboot; while rebooting the port is closed, so no connection is accepted
// to be reset).
type ResetEvent struct {
	Remote string
	Reason string
}

// FaultEvent is a fault rule applied to one transaction.
type FaultEvent struct {
	Remote string
	Action FaultAction
}

// obsStart returns the start time of a request when an observer wants it.
func (s *Server) obsStart() time.Time {
	if s.obs == nil {
		return time.Time{}
	}
	return time.Now()
}

// obsRequest reports a request; out is its answer ADU, nil when none was
// built: the PDU was malformed, or (silent) the unit has no memory and
// UnknownUnitSilent says to stay quiet, which is no fault of the request.
// malformed says the PDU was, answered (03) or not.
func (s *Server) obsRequest(c *conn, h modbus.Header, fc modbus.FunctionCode, out []byte, t0 time.Time, silent, malformed bool) {
	if s.obs == nil {
		return
	}
	ev := RequestEvent{Remote: c.remote, UnitID: h.UnitID, Function: fc, Malformed: malformed, Silent: silent, Duration: time.Since(t0)}
	if len(out) > modbus.MBAPHeaderLen+1 && modbus.FunctionCode(out[modbus.MBAPHeaderLen]).IsException() {
		ev.Exception = modbus.ExceptionCode(out[modbus.MBAPHeaderLen+1])
	}
	s.obs.Request(ev)
}

// obsWrite reports req as a client write if it is one and it executed (its
// answer rsp is not an exception).
func (s *Server) obsWrite(c *conn, h modbus.Header, req modbus.Request, rsp []byte) {
	if s.obs == nil || req == nil || len(rsp) <= modbus.MBAPHeaderLen || modbus.FunctionCode(rsp[modbus.MBAPHeaderLen]).IsException() {
		return
	}
	ev := WriteEvent{Remote: c.remote, UnitID: h.UnitID, Function: req.Function()}
	switch r := req.(type) {
	case *modbus.WriteSingleCoil:
		ev.Address, ev.Coils = r.Address, []bool{r.On()}
	case *modbus.WriteMultipleCoils:
		ev.Address, ev.Coils = r.Address, r.Bits()
	case *modbus.WriteSingleRegister:
		ev.Address, ev.Registers = r.Address, []uint16{r.Value}
	case *modbus.WriteMultipleRegisters:
		ev.Address, ev.Registers = r.Address, modbus.AppendRegisters(nil, r.Values)
	case *modbus.MaskWriteRegister:
		ev.Address, ev.Registers = r.Address, []uint16{r.AndMask, r.OrMask}
	case *modbus.ReadWriteRegisters:
		ev.Address, ev.Registers = r.WriteAddress, modbus.AppendRegisters(nil, r.Values)
	case *modbus.WriteFileRecord:
		ev.Time = time.Now()
		for _, rec := range r.Records { // one event per record group
			ev.File, ev.Address, ev.Registers = rec.File, rec.Record, modbus.AppendRegisters(nil, rec.Data)
			s.obs.Write(ev)
		}
		return
	default:
		return
	}
	ev.Time = time.Now()
	s.obs.Write(ev)
}

func (s *Server) obsConn(remote string, r ConnResult) {
	if s.obs != nil {
		s.obs.Connection(ConnEvent{Remote: remote, Result: r})
	}
}

func (s *Server) obsReset(remote, reason string) {
	if s.obs != nil {
		s.obs.Reset(ResetEvent{Remote: remote, Reason: reason})
	}
}

func (s *Server) obsFault(remote string, a FaultAction) {
	if s.obs != nil {
		s.obs.Fault(FaultEvent{Remote: remote, Action: a})
	}
}
