package access

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/plcctl/plcctl/modbus"
)

// Rule lets one role use some function codes, within address ranges, on
// some units. A request is allowed when one rule of its role lists its
// function code and its unit id, and every table access of the request
// lies within that rule's ranges.
type Rule struct {
	Role string
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

// Validate reports rules that cannot mean what was intended.
func (p *Policy) Validate() error {
	var errs []error
	for i, r := range p.Rules {
		if r.Role == "" {
			errs = append(errs, fmt.Errorf("access: rule %d: empty role", i+1))
		}
		for _, fc := range r.Functions {
			if fc == 0 || fc >= 0x80 {
				errs = append(errs, fmt.Errorf("access: rule %d (%s): function code %d is not a request code 1..127", i+1, r.Role, fc))
			}
		}
		for _, u := range r.Units {
			if u.First > u.Last || u.Last > 255 {
				errs = append(errs, fmt.Errorf("access: rule %d (%s): unit range %d..%d: want unit ids 0..255, first <= last", i+1, r.Role, u.First, u.Last))
			}
		}
		for t, rs := range r.Ranges {
			if _, ok := tableNames[t]; !ok {
				errs = append(errs, fmt.Errorf("access: rule %d (%s): unknown %s", i+1, r.Role, t))
			}
			for _, rg := range rs {
				if rg.First > rg.Last {
					errs = append(errs, fmt.Errorf("access: rule %d (%s): %s range %d..%d is empty", i+1, r.Role, t, rg.First, rg.Last))
				}
			}
		}
	}
	return errors.Join(errs...)
}

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
