package simulator

import (
	"time"

	"github.com/plcctl/plcctl/modbus"
)

// FaultAction is what a fault rule does to a matching transaction.
type FaultAction int

const (
	FaultNone        FaultAction = iota
	FaultDelay                   // answer after Delay (a "late" answer when Delay exceeds the client's timeout)
	FaultDrop                    // execute, send nothing
	FaultDuplicate               // send the answer twice
	FaultSplit                   // send the answer one byte per write
	FaultWrongTID                // answer with transaction id + 1
	FaultException               // answer exception Exception without executing
	FaultCloseFIN                // close gracefully instead of answering
	FaultCloseRST                // reset instead of answering
	FaultCutMidFrame             // send half the answer, then close
)

var faultNames = [...]string{"none", "delay", "drop", "duplicate", "split", "wrong-tid", "exception",
	"close-fin", "close-rst", "cut-mid-frame"}

func (a FaultAction) String() string {
	if int(a) < len(faultNames) {
		return faultNames[a]
	}
	return "fault(" + itoa(int(a)) + ")"
}

// FaultRule injects a fault into the transactions it matches. Rules are
// tried in order; the first that matches applies. A rule matches requests with
// its Function (0 = any); it skips the first After of them and then applies
// to Count of them (0 = every one after that).
type FaultRule struct {
	Function  modbus.FunctionCode
	After     int
	Count     int
	Action    FaultAction
	Delay     time.Duration
	Exception modbus.ExceptionCode
}

type ruleState struct {
	FaultRule
	seen int
}

// SetFaults replaces the fault rules; none restores normal service. Safe to
// call while serving.
func (s *Server) SetFaults(rules ...FaultRule) {
	st := make([]*ruleState, len(rules))
	for i, r := range rules {
		st[i] = &ruleState{FaultRule: r}
	}
	s.faultMu.Lock()
	s.faults = st
	s.faultMu.Unlock()
}

// fault returns the rule that applies to a request with function fc.
func (s *Server) fault(fc modbus.FunctionCode) FaultRule {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	for _, r := range s.faults {
		if r.Function != 0 && r.Function != fc {
			continue
		}
		n := r.seen
		r.seen++
		if n < r.After || (r.Count > 0 && n >= r.After+r.Count) {
			continue
		}
		return r.FaultRule
	}
	return FaultRule{}
}
