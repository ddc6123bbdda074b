package access

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/plcctl/plcctl/internal/errlist"
	"github.com/plcctl/plcctl/modbus"
)

// Rule lets one role use some function codes, within address ranges, on
// some units. A request is allowed when one rule of its role lists its
// function code and its unit id, and every table access of the request
// lies within that rule's ranges.
type Rule struct {
	Role string
	// Source is where the rule was written ("rules.yaml:7:9"), for
	// Validate's errors; empty for a rule made in Go.
	Source string
	// Units limits the rule to these unit ids (ranges within 0..255). Nil:
	// every unit. Empty, non-nil: no unit.
	Units []Range
	// Functions the role may use. Empty allows nothing.
	Functions []modbus.FunctionCode
	// Ranges limits the addresses per table. Nil or empty: every address of
	// every table. Otherwise only the tables listed, in the ranges listed.
	Ranges map[Table][]Range
}

// Policy is the set of rules of a server. The zero value applies
// DefaultRules.
type Policy struct {
	// Rules; nil means DefaultRules. An empty, non-nil slice refuses
	// everything.
	Rules []Rule
	// ReadOnly refuses every write (IsWrite) whatever the rules say.
	ReadOnly bool
}

// The default roles.
const (
	RoleOperator = "operator"
	RoleViewer   = "viewer"
)

// DefaultRules: role "operator" may read and write everything, "viewer"
// may only read; any other role, or none, may do nothing.
func DefaultRules() []Rule {
	return []Rule{
		{Role: RoleOperator, Functions: AllFunctions()},
		{Role: RoleViewer, Functions: ReadFunctions()},
	}
}

// Validate reports rules that cannot mean what was intended: every
// mistake, as Errors, one RuleError each, in rule order.
func (p *Policy) Validate() error {
	var errs Errors
	for i, r := range p.Rules {
		bad := func(field, format string, args ...any) {
			errs = append(errs, &RuleError{Rule: i, Role: r.Role, Source: r.Source, Field: field, Msg: fmt.Sprintf(format, args...)})
		}
		if r.Role == "" {
			bad("role", "the role is empty: write the role as the client certificates carry it")
		}
		for j, fc := range r.Functions {
			if fc == 0 || fc >= 0x80 {
				bad(fmt.Sprintf("functions[%d]", j), "function code %d is not a request code 1..127", fc)
			}
		}
		for j, u := range r.Units {
			if u.First > u.Last || u.Last > 255 {
				bad(fmt.Sprintf("units[%d]", j), "unit range %d..%d is not unit ids 0..255, first <= last", u.First, u.Last)
			}
		}
		tables := slices.Sorted(maps.Keys(r.Ranges)) // map order would change the errors' order from run to run
		for _, t := range tables {
			if _, ok := tableNames[t]; !ok {
				bad("ranges", "%s is not a table: want coils, discrete-inputs, holding-registers, input-registers or files", t)
				continue
			}
			for j, rg := range r.Ranges[t] {
				if rg.First > rg.Last {
					bad(fmt.Sprintf("%s[%d]", t, j), "range %d..%d is empty: it ends before it starts", rg.First, rg.Last)
				}
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// RuleError is one mistake Validate found in a rule.
type RuleError struct {
	Rule   int    // index in Policy.Rules
	Role   string // the rule's role
	Source string // Rule.Source: where the rule was written, if known
	Field  string // "role", "functions[2]", "units[0]", "holding-registers[1]", "ranges"
	Msg    string
}

// Error is one line: "access: rules.yaml:7:9: rule 2 (role "viewer"):
// functions[0]: function code 0 is not a request code 1..127", without
// the place when the rule was made in Go.
func (e *RuleError) Error() string {
	var b strings.Builder
	b.WriteString("access: ")
	if e.Source != "" {
		b.WriteString(e.Source + ": ")
	}
	fmt.Fprintf(&b, "rule %d (role %q): %s: %s", e.Rule+1, e.Role, e.Field, e.Msg)
	return b.String()
}

// Errors is every mistake of a policy, one per line, each line complete:
// a message that names the place once, then lists, would leave every line
// but the first without it.
type Errors = errlist.List[*RuleError]

// Decision is the verdict on one request.
type Decision struct {
	Allow  bool
	Reason string // why not, for the log
}

// Decide returns whether a client with role (""= none) may send req to
// unit.
func (p *Policy) Decide(role string, unit uint8, req modbus.Request) Decision {
	fc := req.Function()
	if p.ReadOnly && IsWrite(fc) {
		return Decision{Reason: "read-only server: " + fcName(fc) + " is a write"}
	}
	if role == "" {
		return Decision{Reason: "no role in the client certificate"}
	}
	rules := p.Rules
	if rules == nil {
		rules = DefaultRules()
	}
	var buf [4]Access
	acc := Accesses(buf[:0], req)
	var why string
	var units []Range // of the rules refused for their units only
	unitRefused := false
	for _, r := range rules {
		if r.Role != role || !slices.Contains(r.Functions, fc) {
			continue
		}
		if !r.onUnit(unit) {
			units, unitRefused = append(units, r.Units...), true
			continue
		}
		bad, ok := r.allows(acc)
		if ok {
			return Decision{Allow: true}
		}
		why = fmt.Sprintf("role %q may not %s (allowed for %s: %s)", role, bad, fcName(fc), r.describe(bad.Table))
	}
	switch {
	case why != "": // a rule for this unit, but not these addresses
	case unitRefused:
		why = fmt.Sprintf("role %q may not use %s on unit %d (allowed on %s)", role, fcName(fc), unit, describeUnits(units))
	default:
		why = fmt.Sprintf("role %q may not use %s", role, fcName(fc))
	}
	return Decision{Reason: why}
}

// MayUse judges a request by its function code and unit alone, for a
// request that did not pass validation (its fields cannot be trusted):
// allowed when a rule of the role lists the code and the unit, whatever
// its ranges.
func (p *Policy) MayUse(role string, unit uint8, fc modbus.FunctionCode) Decision {
	if p.ReadOnly && IsWrite(fc) {
		return Decision{Reason: "read-only server: " + fcName(fc) + " is a write"}
	}
	if role == "" {
		return Decision{Reason: "no role in the client certificate"}
	}
	rules := p.Rules
	if rules == nil {
		rules = DefaultRules()
	}
	for _, r := range rules {
		if r.Role == role && slices.Contains(r.Functions, fc) && r.onUnit(unit) {
			return Decision{Allow: true}
		}
	}
	return Decision{Reason: fmt.Sprintf("role %q may not use %s on unit %d", role, fcName(fc), unit)}
}

// onUnit reports whether r holds for unit.
func (r *Rule) onUnit(unit uint8) bool {
	return r.Units == nil || slices.ContainsFunc(r.Units, func(u Range) bool { return u.covers(uint16(unit), 1) })
}

// describeUnits lists unit ranges for a refusal, lowest first.
func describeUnits(us []Range) string {
	if len(us) == 0 {
		return "no unit"
	}
	us = slices.Clone(us)
	slices.SortFunc(us, func(a, b Range) int { return int(a.First) - int(b.First) })
	s := make([]string, len(us))
	for i, u := range us {
		s[i] = u.String()
	}
	return "units " + strings.Join(s, ", ")
}

// allows reports whether every access lies within r's ranges; if not, it
// returns the first that does not.
func (r *Rule) allows(acc []Access) (Access, bool) {
	if len(r.Ranges) == 0 {
		return Access{}, true
	}
	for _, a := range acc {
		if !slices.ContainsFunc(r.Ranges[a.Table], func(rg Range) bool { return rg.covers(a.Address, a.Count) }) {
			return a, false
		}
	}
	return Access{}, true
}

func (r *Rule) describe(t Table) string {
	rs := r.Ranges[t]
	if len(rs) == 0 {
		return "no " + t.String()
	}
	s := make([]string, len(rs))
	for i, rg := range rs {
		s[i] = rg.String()
	}
	return t.String() + " " + strings.Join(s, ", ")
}

func fcName(fc modbus.FunctionCode) string {
	return fc.String() + " (FC " + strconv.Itoa(int(fc)) + ")"
}
