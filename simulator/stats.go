package simulator

import "sync/atomic"

// Stats are the server's counters since it started. Every event is counted
// here even when its log line is suppressed by the log rate limit.
type Stats struct {
	Conns           int64  // open now, serving or draining
	Accepted        uint64 // connections accepted (evicted and refused ones included)
	Refused         uint64 // connections closed at once: MaxConns reached and no connection idle to evict
	Evicted         uint64 // idle connections closed to make room for a new one (MaxConns reached)
	IdleClosed      uint64 // connections closed for the idle timeout
	Requests        uint64 // ADUs with protocol id 0 received
	Responses       uint64 // responses sent, normal or exception
	Exceptions      uint64 // exception responses sent
	FramingFaults   uint64 // bad MBAP length, frame cut short
	MalformedPDUs   uint64 // PDU length inconsistent with its function code
	ForeignProtocol uint64 // protocol id != 0, discarded
	Resets          uint64 // connections we dropped with a TCP reset: the sum of ResetsBy
	// ResetsBy counts the resets we sent by reason, indexed by ResetReason.
	ResetsBy      [NumResetReasons]uint64
	PeerEOF       uint64 // connections the peer closed with a FIN
	PeerResets    uint64 // connections the peer reset
	Faults        uint64 // fault rules applied
	LogSuppressed uint64 // log lines left out by the log rate limit (summarised instead)

	// FaultsByAction is Faults per action; actions never applied are left out.
	FaultsByAction map[FaultAction]uint64
}

// ResetReason is why the server ended a connection with a TCP reset.
type ResetReason uint8

const (
	// ResetFramingFault: a framing fault (MBAP length outside 2..254, a
	// frame not completed within FrameTimeout) under OnMalformed reset.
	ResetFramingFault ResetReason = iota
	// ResetMalformedPDU: a PDU whose length is not what its function code
	// implies, under MalformedPDU strict and OnMalformed reset.
	ResetMalformedPDU
	// ResetWriteTimeout: the peer stopped reading and an answer could not be
	// written within WriteTimeout; unread requests make any close a reset.
	ResetWriteTimeout
	// ResetDrainTimeout: a graceful close did not see the peer's FIN within
	// DrainTimeout.
	ResetDrainTimeout
	// ResetFault: a fault rule asked for it (close-rst).
	ResetFault
	// ResetShutdown: Shutdown's ctx ended (or Close was called) before the
	// connection's graceful close completed.
	ResetShutdown
	// ResetReboot: a reboot (fault rule or Server.Reboot) dropped the
	// connection.
	ResetReboot

	// NumResetReasons is the number of reasons, the length of Stats.ResetsBy.
	NumResetReasons = iota
)

var resetNames = [NumResetReasons]string{"framing-fault", "malformed-pdu", "write-timeout", "drain-timeout", "fault", "shutdown", "reboot"}

// String returns the reason as logs, the Observer's ResetEvent and plcsim's
// summary name it: "framing-fault", "malformed-pdu", "write-timeout",
// "drain-timeout", "fault", "shutdown", "reboot".
func (r ResetReason) String() string {
	if int(r) < len(resetNames) {
		return resetNames[r]
	}
	return "reset(" + itoa(int(r)) + ")"
}

type counters struct {
	conns                                                  atomic.Int64
	accepted, refused, evicted, idleClosed                 atomic.Uint64
	requests, responses, exceptions, framing               atomic.Uint64
	malformed, foreign, peerEOF, peerResets, faultsApplied atomic.Uint64
	resetsBy                                               [NumResetReasons]atomic.Uint64
	byFunction                                             [256]atomic.Uint64
}

// FunctionRequests returns how many requests with function code fc arrived
// (protocol id 0, whatever the answer).
func (s *Server) FunctionRequests(fc uint8) uint64 { return s.stats.byFunction[fc].Load() }

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	c := &s.stats
	st := Stats{Conns: c.conns.Load(), Accepted: c.accepted.Load(), Refused: c.refused.Load(),
		Evicted: c.evicted.Load(), IdleClosed: c.idleClosed.Load(),
		Requests: c.requests.Load(), Responses: c.responses.Load(), Exceptions: c.exceptions.Load(),
		FramingFaults: c.framing.Load(), MalformedPDUs: c.malformed.Load(), ForeignProtocol: c.foreign.Load(),
		PeerEOF: c.peerEOF.Load(), PeerResets: c.peerResets.Load(),
		Faults: c.faultsApplied.Load(), LogSuppressed: s.logs.suppressedTotal.Load(), FaultsByAction: s.FaultCounts()}
	for i := range c.resetsBy {
		st.ResetsBy[i] = c.resetsBy[i].Load()
		st.Resets += st.ResetsBy[i]
	}
	return st
}
