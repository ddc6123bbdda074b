package simulator

import (
	"fmt"
	"strconv"
	"strings"
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

// ParseFaultAction parses a fault action name such as "delay" or "close-rst".
func ParseFaultAction(s string) (FaultAction, error) {
	for i, n := range faultNames {
		if i > 0 && n == s {
			return FaultAction(i), nil
		}
	}
	return 0, fmt.Errorf("simulator: fault action %q: want one of %s", s, strings.Join(faultNames[1:], ", "))
}

// ParseFaultRule parses the text form of a rule used by plcsim's --fault:
// comma-separated key=value pairs, for example
//
//	action=delay,delay=2s,fc=3,after=10,count=1
//	action=exception,exception=6
//	action=close-rst,after=100
//
// Keys: action (required: delay, drop, duplicate, split, wrong-tid,
// exception, close-fin, close-rst, cut-mid-frame), fc (function code the rule
// matches; default any), after (matching requests served normally first),
// count (requests the fault applies to; default all after that), delay (a
// duration, for action=delay), exception (the code, for action=exception).
func ParseFaultRule(s string) (FaultRule, error) {
	var r FaultRule
	seen := map[string]bool{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || v == "" {
			return r, fmt.Errorf("simulator: fault %q: %q is not key=value", s, kv)
		}
		if seen[k] {
			return r, fmt.Errorf("simulator: fault %q: %s given twice", s, k)
		}
		seen[k] = true
		if err := r.set(k, v); err != nil {
			return r, fmt.Errorf("simulator: fault %q: %w", s, err)
		}
	}
	switch {
	case r.Action == FaultNone:
		return r, fmt.Errorf("simulator: fault %q: action is required", s)
	case r.Action == FaultDelay && r.Delay <= 0:
		return r, fmt.Errorf("simulator: fault %q: action=delay needs delay=DURATION", s)
	case r.Action == FaultException && r.Exception == 0:
		return r, fmt.Errorf("simulator: fault %q: action=exception needs exception=CODE", s)
	case r.Delay > 0 && r.Action != FaultDelay, r.Exception != 0 && r.Action != FaultException:
		return r, fmt.Errorf("simulator: fault %q: delay= goes with action=delay and exception= with action=exception", s)
	}
	return r, nil
}

func (r *FaultRule) set(k, v string) error {
	switch k {
	case "action":
		a, err := ParseFaultAction(v)
		r.Action = a
		return err
	case "fc":
		n, err := strconv.ParseUint(v, 0, 8)
		if err != nil || n == 0 || n > 127 {
			return fmt.Errorf("fc=%s: want a function code 1..127", v)
		}
		r.Function = modbus.FunctionCode(n)
	case "after", "count":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("%s=%s: want a whole number >= 0", k, v)
		}
		if k == "after" {
			r.After = n
		} else {
			r.Count = n
		}
	case "delay":
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("delay=%s: want a positive duration such as 1.5s", v)
		}
		r.Delay = d
	case "exception":
		n, err := strconv.ParseUint(v, 0, 8)
		if err != nil || n == 0 {
			return fmt.Errorf("exception=%s: want an exception code 1..255", v)
		}
		r.Exception = modbus.ExceptionCode(n)
	default:
		return fmt.Errorf("unknown key %q (want action, fc, after, count, delay, exception)", k)
	}
	return nil
}
