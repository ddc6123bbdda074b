package simulator

import (
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plcctl/plcctl/modbus"
)

// FaultAction is what a fault rule does to a matching transaction.
type FaultAction int

const (
	// FaultNone is the zero value: no fault, not an action a rule may have.
	FaultNone          FaultAction = iota
	FaultDelay                     // answer after Delay (a "late" answer when Delay exceeds the client's timeout)
	FaultDrop                      // execute, send nothing
	FaultDuplicate                 // send the answer twice
	FaultSplit                     // send the answer in pieces: one byte per write, or two at SplitAt; Gap between them
	FaultWrongTID                  // answer with transaction id + 1
	FaultException                 // answer exception Exception without executing
	FaultCloseFIN                  // execute, then close gracefully instead of answering
	FaultCloseRST                  // execute, then reset instead of answering
	FaultCutMidFrame               // send half the answer, then close
	FaultWrongUnit                 // answer with unit id + 1
	FaultWrongFunction             // answer with the next function code (the exception bit kept)
	FaultShort                     // answer with fewer items than asked, byte count and length consistent
	FaultBadByteCount              // answer whose byte count (or, without one, whose length) is one too many
	FaultJunk                      // send Junk bytes that are no frame, then the answer
	FaultCoalesce                  // hold the answer and send it in one write with the next answer
	FaultAnswerClose               // answer, then close gracefully
	FaultStopAccepting             // answer, then accept no connection for For
	FaultReboot                    // drop every connection, refuse connections for For, clear memory; no answer
	numFaultActions
)

var faultNames = [numFaultActions]string{"none", "delay", "drop", "duplicate", "split", "wrong-tid", "exception",
	"close-fin", "close-rst", "cut-mid-frame", "wrong-unit", "wrong-fc", "short", "bad-byte-count", "junk",
	"coalesce", "answer-close", "stop-accepting", "reboot"}

// String returns the action's name in ParseFaultRule's text form ("delay").
func (a FaultAction) String() string {
	if a >= 0 && a < numFaultActions {
		return faultNames[a]
	}
	return "fault(" + itoa(int(a)) + ")"
}

// FaultRule injects a fault into the transactions it selects. Rules are tried
// in order; the first that selects a request applies.
//
// A rule first matches a request on its conditions (Matches): every condition
// that is set must hold, and the zero value of each matches every request.
// Of the matching requests it skips the first After, then takes every
// Every-th, then each of those with Probability (drawn from a generator
// seeded with Seed, so the same requests in the same order get the same
// faults), and it fires at most Count times.
type FaultRule struct {
	Action FaultAction

	// Conditions.
	Function  modbus.FunctionCode // only this function code (0 = any)
	UnitID    uint8               // with MatchUnit: only requests to this unit id
	MatchUnit bool                // unit id 0 is a real id, hence the flag
	AddrFirst uint16              // with MatchAddr: only requests whose address range
	AddrLast  uint16              // overlaps AddrFirst..AddrLast (inclusive)
	MatchAddr bool
	QtyMin    uint16        // only requests for at least QtyMin items (0 = no bound)
	QtyMax    uint16        // and at most QtyMax (0 = no bound)
	Nth       int           // only the Nth request on each connection, 1-based (0 = any)
	From      time.Duration // only from this long after the server started
	Until     time.Duration // and before this long after it (0 = no end)

	// Selection among the matching requests.
	After       int     // serve the first After matching requests normally
	Every       int     // then take every Every-th of them (0 or 1 = each)
	Probability float64 // then each of those with this probability (0 = always)
	Seed        uint64  // seeds the Probability draws
	Count       int     // fire at most this often (0 = no limit)

	// Parameters of the action.
	Delay     time.Duration        // delay: how long
	Exception modbus.ExceptionCode // exception: the code
	Junk      int                  // junk: how many bytes (0 = 8)
	SplitAt   int                  // split: one cut after this many bytes (0 = after every byte)
	Gap       time.Duration        // split: pause between the pieces
	For       time.Duration        // stop-accepting, reboot: how long
}

// FaultRequest is what a fault rule can see of a request.
type FaultRequest struct {
	UnitID   uint8
	Function modbus.FunctionCode
	// Addr and Qty are the request's address range; Qty 0 means it has none
	// (FC 20, 21, 43, and unknown codes). FC 23 also has a write range in
	// Addr2 and Qty2.
	Addr, Qty   uint16
	Addr2, Qty2 uint16
	Seq         int           // 1-based index of the request on its connection
	Elapsed     time.Duration // since the server started
}

// Matches reports whether req meets every condition of r (not its After,
// Every, Probability and Count selection, which depend on earlier requests).
func (r *FaultRule) Matches(req FaultRequest) bool {
	switch {
	case r.Function != 0 && r.Function != req.Function,
		r.MatchUnit && r.UnitID != req.UnitID,
		r.Nth > 0 && r.Nth != req.Seq,
		req.Elapsed < r.From,
		r.Until > 0 && req.Elapsed >= r.Until:
		return false
	}
	if r.MatchAddr && !r.overlaps(req.Addr, req.Qty) && !r.overlaps(req.Addr2, req.Qty2) {
		return false
	}
	if r.QtyMin > 0 || r.QtyMax > 0 {
		return r.qtyFits(req.Qty) || (req.Qty2 > 0 && r.qtyFits(req.Qty2))
	}
	return true
}

func (r *FaultRule) overlaps(addr, qty uint16) bool {
	last := int(addr) + int(qty) - 1
	return qty > 0 && int(addr) <= int(r.AddrLast) && last >= int(r.AddrFirst)
}

func (r *FaultRule) qtyFits(q uint16) bool {
	return q > 0 && q >= r.QtyMin && (r.QtyMax == 0 || q <= r.QtyMax)
}

// ruleState is a rule with the counters its selection depends on.
type ruleState struct {
	FaultRule
	seen  int // matching requests so far
	fired int
	rng   *rand.Rand
}

func newRuleState(r FaultRule) *ruleState {
	return &ruleState{FaultRule: r, rng: rand.New(rand.NewPCG(r.Seed, r.Seed^0x9E3779B97F4A7C15))}
}

// selects advances the rule's counters for a matching request and reports
// whether the rule fires on it.
func (r *ruleState) selects() bool {
	n := r.seen
	r.seen++
	if n < r.After || (r.Count > 0 && r.fired >= r.Count) {
		return false
	}
	if k := n - r.After + 1; r.Every > 1 && k%r.Every != 0 {
		return false
	}
	if r.Probability > 0 && r.Probability < 1 && r.rng.Float64() >= r.Probability {
		return false
	}
	r.fired++
	return true
}

// decide returns the index of the first rule that fires on req, or -1. It is
// the whole fault decision: no I/O, only the rules' counters change.
func decide(rules []*ruleState, req FaultRequest) int {
	for i, r := range rules {
		if r.Matches(req) && r.selects() {
			return i
		}
	}
	return -1
}

// faultSet is the server's fault state: the rules, their counters, and the
// server-wide effects of stop-accepting and reboot.
type faultSet struct {
	mu          sync.Mutex
	rules       []*ruleState
	n           atomic.Int32 // len(rules): a request with no rule in force takes no lock
	start       time.Time
	pausedUntil time.Time      // stop-accepting: hold the accept loop until then
	downUntil   time.Time      // reboot: listener closed until then
	listener    *faultListener // the listener Serve accepts on
	applied     [numFaultActions]atomic.Uint64
}

// SetFaults replaces the fault rules, with fresh counters; none restores
// normal service. Safe to call while serving.
func (s *Server) SetFaults(rules ...FaultRule) {
	st := make([]*ruleState, len(rules))
	for i, r := range rules {
		st[i] = newRuleState(r)
	}
	s.fx.mu.Lock()
	if s.fx.start.IsZero() {
		s.fx.start = time.Now()
	}
	s.fx.rules = st
	s.fx.n.Store(int32(len(st)))
	s.fx.mu.Unlock()
}

// Faults returns a copy of the fault rules in force.
func (s *Server) Faults() []FaultRule {
	s.fx.mu.Lock()
	defer s.fx.mu.Unlock()
	out := make([]FaultRule, len(s.fx.rules))
	for i, r := range s.fx.rules {
		out[i] = r.FaultRule
	}
	return out
}

// FaultCounts returns how often each action was injected since the server
// started (actions never injected are left out).
func (s *Server) FaultCounts() map[FaultAction]uint64 {
	m := make(map[FaultAction]uint64)
	for a := FaultAction(1); a < numFaultActions; a++ {
		if n := s.fx.applied[a].Load(); n > 0 {
			m[a] = n
		}
	}
	return m
}

// fault returns the rule that applies to a request (Action FaultNone when no
// rule does) and the rule's index.
func (s *Server) fault(unit uint8, pdu []byte, seq int) (FaultRule, int) {
	if s.fx.n.Load() == 0 {
		return FaultRule{}, -1
	}
	s.fx.mu.Lock()
	defer s.fx.mu.Unlock()
	if len(s.fx.rules) == 0 {
		return FaultRule{}, -1
	}
	req := faultRequestOf(unit, pdu, seq)
	req.Elapsed = time.Since(s.fx.start)
	i := decide(s.fx.rules, req)
	if i < 0 {
		return FaultRule{}, -1
	}
	return s.fx.rules[i].FaultRule, i
}

// faultRequestOf reads what the rules match on from a request PDU, without
// decoding it: a malformed PDU can be faulted too.
func faultRequestOf(unit uint8, pdu []byte, seq int) FaultRequest {
	req := FaultRequest{UnitID: unit, Seq: seq}
	if len(pdu) == 0 {
		return req
	}
	req.Function = modbus.FunctionCode(pdu[0])
	u16 := func(i int) uint16 {
		if len(pdu) < i+2 {
			return 0
		}
		return binary.BigEndian.Uint16(pdu[i:])
	}
	switch req.Function {
	case modbus.FuncReadCoils, modbus.FuncReadDiscreteInputs, modbus.FuncReadHoldingRegisters,
		modbus.FuncReadInputRegisters, modbus.FuncWriteMultipleCoils, modbus.FuncWriteMultipleRegisters:
		req.Addr, req.Qty = u16(1), u16(3)
	case modbus.FuncWriteSingleCoil, modbus.FuncWriteSingleRegister, modbus.FuncMaskWriteRegister,
		modbus.FuncReadFIFOQueue:
		req.Addr, req.Qty = u16(1), 1
	case modbus.FuncReadWriteMultipleRegisters:
		req.Addr, req.Qty, req.Addr2, req.Qty2 = u16(1), u16(3), u16(5), u16(7)
	}
	if len(pdu) < 3 {
		req.Qty = 0 // no address at all
	}
	return req
}
