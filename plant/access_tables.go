package plant

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/plcctl/plcctl/access"
)

// rangeRef is one address range of a grant's table (coils: and the other
// tables, not files:), where it is in the file.
type rangeRef struct {
	rangeItem
	kind  TableKind
	units []access.Range // the grant's units: nil for every unit
	lo    int64          // the file's first address (1 when one-based), to say addresses as the file writes them
}

// tableUnit is one unit whose tables a grant's ranges must meet.
type tableUnit struct {
	dev    string // the device's name; "" for the one unit of CheckTables
	id     uint8
	every  bool // stands for every unit id (CheckTables)
	tables *[4]Table
	from   *[4]string // what gives each table, for CheckTables; nil otherwise
}

// checkGrantRanges reports grant ranges that lie wholly outside their
// table in every unit the grant holds on, which would never apply: a
// device's own access: is checked against its units, the plant's against
// those of every device without its own, as checkGrantUnits does. A range
// that meets the table partly is fine: it applies to the addresses that
// exist (and a request beyond them gets 02 in any case).
func (c *parseCtx) checkGrantRanges() {
	p := c.p
	var shared []*Device
	for _, d := range p.Devices {
		if d.Access != nil {
			c.errs = append(c.errs, d.Access.rangeErrors(unitsOf([]*Device{d}))...)
		} else {
			shared = append(shared, d)
		}
	}
	if p.Access != nil {
		c.errs = append(c.errs, p.Access.rangeErrors(unitsOf(shared))...)
	}
	c.errs = c.errs[:min(len(c.errs), maxErrors)]
}

// CheckRanges reports the grants' address ranges that lie wholly outside
// their table in every unit of devs the grant holds on, as a plant file's
// own access: sections are checked: such a grant never applies. It is for
// rules from an access file (LoadAccess) served with a plant: nil, or
// Errors with the access file's line and key.
func (a *AccessRules) CheckRanges(devs []*Device) error {
	if es := a.rangeErrors(unitsOf(devs)); len(es) > 0 {
		return Errors(es)
	}
	return nil
}

// CheckTables is CheckRanges for units served without a plant, every unit
// id with the same tables (plcsim's --coils and the other size flags):
// from[k] names what gives tables[k] ("--holding-registers 100"), for the
// message.
func (a *AccessRules) CheckTables(tables [4]Table, from [4]string) error {
	if es := a.rangeErrors([]tableUnit{{every: true, tables: &tables, from: &from}}); len(es) > 0 {
		return Errors(es)
	}
	return nil
}

// unitsOf is every unit of devs.
func unitsOf(devs []*Device) []tableUnit {
	var us []tableUnit
	for _, d := range devs {
		for _, u := range d.Units {
			us = append(us, tableUnit{dev: d.Name, id: u.ID, tables: &u.Tables})
		}
	}
	return us
}

// rangeErrors is CheckRanges' list: one Error per grant range that meets
// no address of its table in any of units the grant holds on. A grant on
// none of them is left to the units check (unitErrors).
func (a *AccessRules) rangeErrors(units []tableUnit) []*Error {
	if a == nil {
		return nil
	}
	var es []*Error
	for _, ref := range a.ranges {
		if len(es) >= maxErrors { // past it a file is wrong enough (30000 wrong ranges took 5 minutes)
			break
		}
		var under []tableUnit
		for _, u := range units {
			if u.every || ref.units == nil || slices.ContainsFunc(ref.units, func(r access.Range) bool { return r.First <= uint16(u.id) && uint16(u.id) <= r.Last }) {
				under = append(under, u)
			}
		}
		if len(under) == 0 || slices.ContainsFunc(under, func(u tableUnit) bool { return meets(u.tables[ref.kind].Ranges, ref.r) }) {
			continue
		}
		es = append(es, &Error{File: a.file, Line: ref.node.Line, Column: ref.node.Column, Key: ref.path,
			Msg: fmt.Sprintf("%s %s: %s, so a grant for them never applies", tableWords(ref.kind), ref.say(ref.r), ref.tablesOf(under))})
	}
	return es
}

// meets reports whether r shares an address with any of rs, which are
// sorted and apart (Table.Ranges): the first that ends at or after r's
// start is the one that can.
func meets(rs []Range, r Range) bool {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].End >= r.Start })
	return i < len(rs) && rs[i].Start <= r.End
}

// maxListed is how many ranges of a table a message lists before "and N
// more": a table of 30000 ranges made each message 200 kB.
const maxListed = 8

// tablesOf says what under have of ref's table: "device station unit 1
// has holding registers 0-99 only", "plcsim has no coils (--coils ...)",
// or "no unit under this grant has any of them (station unit 1: 0-99;
// station unit 2: none)".
func (ref rangeRef) tablesOf(under []tableUnit) string {
	have := func(u tableUnit) string {
		rs := u.tables[ref.kind].Ranges
		if len(rs) == 0 {
			return ""
		}
		s := make([]string, 0, min(len(rs), maxListed))
		for _, r := range rs[:min(len(rs), maxListed)] {
			s = append(s, ref.say(r))
		}
		if len(rs) > maxListed {
			return fmt.Sprintf("%s and %d more ranges", strings.Join(s, ", "), len(rs)-maxListed)
		}
		return strings.Join(s, ", ")
	}
	if len(under) == 1 {
		u := under[0]
		who := fmt.Sprintf("device %s unit %d", u.dev, u.id)
		if u.every {
			who = "plcsim"
		}
		msg := fmt.Sprintf("%s has %s %s only", who, tableWords(ref.kind), have(u))
		if have(u) == "" {
			msg = fmt.Sprintf("%s has no %s", who, tableWords(ref.kind))
		}
		if u.from != nil && u.from[ref.kind] != "" {
			msg += " (" + u.from[ref.kind] + ")"
		}
		return msg
	}
	s := make([]string, len(under))
	for i, u := range under {
		h := have(u)
		if h == "" {
			h = "none"
		}
		s[i] = fmt.Sprintf("%s unit %d: %s", u.dev, u.id, h)
	}
	return "no unit under this grant has any of them (" + strings.Join(s, "; ") + ")"
}

// say writes r in the file's numbering: "40001-40100", or "7" for one
// address.
func (ref rangeRef) say(r Range) string {
	if r.Start == r.End {
		return fmt.Sprint(int64(r.Start) + ref.lo)
	}
	return fmt.Sprintf("%d-%d", int64(r.Start)+ref.lo, int64(r.End)+ref.lo)
}

// tableWords is k as words: "holding registers".
func tableWords(k TableKind) string { return strings.ReplaceAll(k.String(), "_", " ") }
