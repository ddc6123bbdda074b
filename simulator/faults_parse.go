package simulator

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plcctl/plcctl/modbus"
)

// ParseFaultAction parses a fault action name such as "delay" or "close-rst".
func ParseFaultAction(s string) (FaultAction, error) {
	for i, n := range faultNames {
		if i > 0 && n == s {
			return FaultAction(i), nil
		}
	}
	return 0, fmt.Errorf("simulator: %w", unknownAction(s))
}

// unknownAction says that s names no fault action, without the package
// prefix: ParseFaultRule's error already has it ("simulator: fault
// "action=nope": simulator: fault action ..." said it twice).
func unknownAction(s string) error {
	return fmt.Errorf("fault action %q: want one of %s", s, strings.Join(faultNames[1:], ", "))
}

// FaultKeys lists the keys of the text form of a rule, in the order String
// writes them.
var FaultKeys = []string{"action", "unit", "fc", "addr", "qty", "nth", "from", "until", "after", "every",
	"prob", "seed", "count", "delay", "exception", "junk", "at", "gap", "for"}

// ParseFaultRule parses the text form of a rule used by plcsim's --fault,
// its --fault-file and the plant file: comma-separated key=value pairs, for
// example
//
//	action=delay,delay=2s,fc=3,after=10,count=1
//	action=exception,exception=6,unit=2,addr=100-199
//	action=close-rst,every=50,prob=0.5,seed=7
//	action=reboot,for=3s,from=10s,count=1
//
// Conditions: unit (unit id 0..255), fc (function code 1..127), addr (N or
// N-M: the request's address range overlaps it), qty (N or N-M: items
// asked), nth (only the Nth request on each connection), from and until
// (durations since the server started). Selection: after (matching
// requests served normally first), every (then every Kth), prob (then each
// with this probability, 0 < p <= 1), seed (for prob; default 0), count (at
// most this many faults). Parameters: delay (for delay), exception (for
// exception), junk (bytes, for junk; default 8), at and gap (for split: cut
// once after this many bytes instead of after each, and pause this long
// between pieces), for (for stop-accepting and reboot).
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
	if err := r.Validate(); err != nil {
		return r, fmt.Errorf("simulator: fault %q: %w", s, oneLine(err))
	}
	return r, nil
}

// oneLine is err, with the several problems of an errors.Join (Validate's)
// said on one line, separated by "; ": plcsim prints a rule's error as one
// line, and the control API returns it as one JSON string.
func oneLine(err error) error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return err
	}
	msgs := make([]string, 0, len(j.Unwrap()))
	for _, e := range j.Unwrap() {
		msgs = append(msgs, e.Error())
	}
	return joinedError{err, strings.Join(msgs, "; ")}
}

// joinedError is an errors.Join with its messages on one line; errors.Is
// still reaches each of them.
type joinedError struct {
	err error
	msg string
}

func (e joinedError) Error() string { return e.msg }
func (e joinedError) Unwrap() error { return e.err }

// ParseFaultRules reads a rules file: one rule per line in ParseFaultRule's
// form, blank lines and lines starting with # ignored. An error names the
// line.
func ParseFaultRules(rd io.Reader) ([]FaultRule, error) {
	var rules []FaultRule
	sc := bufio.NewScanner(rd)
	n := 1
	for ; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r, err := ParseFaultRule(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		rules = append(rules, r)
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		// No rule is near this long: a file that is not a rules file?
		return nil, fmt.Errorf("line %d: simulator: fault rules: longer than %d KiB, which no rule is", n, bufio.MaxScanTokenSize>>10)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("simulator: fault rules: %w", err)
	}
	return rules, nil
}

// Validate reports whether r is a rule the server can carry out: an action,
// each parameter only with its action, and values in range.
func (r FaultRule) Validate() error {
	a := r.Action
	need := func(ok bool, msg string) error {
		if ok {
			return nil
		}
		return errors.New(msg)
	}
	return errors.Join(
		need(a > FaultNone && a < numFaultActions, "action is required"),
		need(a != FaultDelay || r.Delay > 0, "action=delay needs delay=DURATION"),
		need(a != FaultException || r.Exception != 0, "action=exception needs exception=CODE"),
		need((a != FaultStopAccepting && a != FaultReboot) || r.For > 0, "action="+a.String()+" needs for=DURATION"),
		need(r.Delay == 0 || a == FaultDelay, "delay= goes with action=delay"),
		need(r.Exception == 0 || a == FaultException, "exception= goes with action=exception"),
		need(r.Junk == 0 || a == FaultJunk, "junk= goes with action=junk"),
		need((r.SplitAt == 0 && r.Gap == 0) || a == FaultSplit, "at= and gap= go with action=split"),
		need(r.For == 0 || a == FaultStopAccepting || a == FaultReboot, "for= goes with action=stop-accepting or reboot"),
		need(r.Seed == 0 || r.Probability > 0, "seed= goes with prob="),
		need(r.Probability >= 0 && r.Probability <= 1, "prob outside 0..1"),
		need(!r.MatchAddr || r.AddrFirst <= r.AddrLast, "addr range ends before it starts"),
		need(r.QtyMax == 0 || r.QtyMin <= r.QtyMax, "qty range ends before it starts"),
		need(r.Until == 0 || r.Until > r.From, "until= must be later than from="),
		need(r.After >= 0 && r.Count >= 0 && r.Every >= 0 && r.Nth >= 0 && r.Junk >= 0 && r.SplitAt >= 0,
			"negative count"),
		need(r.From >= 0 && r.Until >= 0 && r.Gap >= 0 && r.Delay >= 0 && r.For >= 0, "negative duration"),
	)
}

func (r *FaultRule) set(k, v string) error {
	var err error
	switch k {
	case "action":
		if r.Action, err = ParseFaultAction(v); err != nil {
			return unknownAction(v)
		}
	case "unit":
		n, err := strconv.ParseUint(v, 0, 8)
		if err != nil {
			return fmt.Errorf("unit=%s: want a unit id 0..255", shown(v))
		}
		r.UnitID, r.MatchUnit = uint8(n), true
	case "fc":
		n, err := strconv.ParseUint(v, 0, 8)
		if err != nil || n == 0 || n > 127 {
			return fmt.Errorf("fc=%s: want a function code 1..127", shown(v))
		}
		r.Function = modbus.FunctionCode(n)
	case "addr":
		if r.AddrFirst, r.AddrLast, err = parseRange(v, 0); err != nil {
			return fmt.Errorf("addr=%s: want an address 0..65535 or a range such as 100-199", shown(v))
		}
		r.MatchAddr = true
	case "qty":
		if r.QtyMin, r.QtyMax, err = parseRange(v, 1); err != nil {
			return fmt.Errorf("qty=%s: want a quantity 1..65535 or a range such as 1-10", shown(v))
		}
	case "nth", "every":
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("%s=%s: want a whole number >= 1", k, shown(v))
		}
		*map[string]*int{"nth": &r.Nth, "every": &r.Every}[k] = n
	case "after", "count", "junk", "at":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("%s=%s: want a whole number >= 0", k, shown(v))
		}
		*map[string]*int{"after": &r.After, "count": &r.Count, "junk": &r.Junk, "at": &r.SplitAt}[k] = n
	case "prob":
		p, err := strconv.ParseFloat(v, 64)
		if err != nil || !(p > 0 && p <= 1) {
			return fmt.Errorf("prob=%s: want a probability 0 < p <= 1 such as 0.05", shown(v))
		}
		r.Probability = p
	case "seed":
		if r.Seed, err = strconv.ParseUint(v, 0, 64); err != nil {
			return fmt.Errorf("seed=%s: want a whole number >= 0", shown(v))
		}
	case "delay", "gap", "for", "from", "until":
		d, err := time.ParseDuration(v)
		positive := k != "from" && k != "until"
		if err != nil || d < 0 || (positive && d == 0) {
			return fmt.Errorf("%s=%s: want a positive duration such as 1.5s", k, shown(v))
		}
		*map[string]*time.Duration{"delay": &r.Delay, "gap": &r.Gap, "for": &r.For, "from": &r.From, "until": &r.Until}[k] = d
	case "exception":
		n, err := strconv.ParseUint(v, 0, 8)
		if err != nil || n == 0 {
			return fmt.Errorf("exception=%s: want an exception code 1..255", shown(v))
		}
		r.Exception = modbus.ExceptionCode(n)
	default:
		return fmt.Errorf("unknown key %q (want one of %s)", k, strings.Join(FaultKeys, ", "))
	}
	return nil
}

// shown is a value as an error repeats it: as given, or quoted when it
// holds what a terminal would not show (the rule itself is quoted already).
func shown(v string) string {
	if utf8.ValidString(v) && !strings.ContainsFunc(v, func(r rune) bool { return !strconv.IsPrint(r) }) {
		return v
	}
	return strconv.Quote(v)
}

// parseRange parses "N" or "N-M" as 16-bit values >= min.
func parseRange(s string, min uint64) (uint16, uint16, error) {
	a, b, isRange := strings.Cut(s, "-")
	lo, err := strconv.ParseUint(a, 0, 16)
	if err != nil || lo < min {
		return 0, 0, errors.New("bad range")
	}
	hi := lo
	if isRange {
		if hi, err = strconv.ParseUint(b, 0, 16); err != nil || hi < lo {
			return 0, 0, errors.New("bad range")
		}
	}
	return uint16(lo), uint16(hi), nil
}

// String returns the rule in ParseFaultRule's text form, keys in FaultKeys
// order, defaults left out.
func (r FaultRule) String() string {
	n := func(v int) string {
		if v == 0 {
			return ""
		}
		return itoa(v)
	}
	d := func(v time.Duration) string {
		if v == 0 {
			return ""
		}
		return v.String()
	}
	var unit, fc, addr, qty, prob, seed, exc string
	if r.MatchUnit {
		unit = itoa(int(r.UnitID))
	}
	if r.Function != 0 {
		fc = itoa(int(r.Function))
	}
	if r.MatchAddr {
		addr = rangeString(r.AddrFirst, r.AddrLast)
	}
	if r.QtyMin > 0 || r.QtyMax > 0 {
		qty = rangeString(max(r.QtyMin, 1), max(r.QtyMax, r.QtyMin))
		if r.QtyMax == 0 {
			qty = itoa(int(max(r.QtyMin, 1))) + "-65535"
		}
	}
	if r.Probability != 0 {
		prob = strconv.FormatFloat(r.Probability, 'g', -1, 64)
	}
	if r.Seed != 0 {
		seed = strconv.FormatUint(r.Seed, 10)
	}
	if r.Exception != 0 {
		exc = itoa(int(r.Exception))
	}
	vals := []string{r.Action.String(), unit, fc, addr, qty, n(r.Nth), d(r.From), d(r.Until), n(r.After),
		n(r.Every), prob, seed, n(r.Count), d(r.Delay), exc, n(r.Junk), n(r.SplitAt), d(r.Gap), d(r.For)}
	var b strings.Builder
	for i, v := range vals {
		if v == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(FaultKeys[i] + "=" + v)
	}
	return b.String()
}

func rangeString(lo, hi uint16) string {
	if lo == hi {
		return itoa(int(lo))
	}
	return itoa(int(lo)) + "-" + itoa(int(hi))
}
