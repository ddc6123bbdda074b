package plant

import (
	"sort"

	"github.com/plcctl/plcctl/modbus"
)

// Read is one read request of a plan: Count items of Table from Start on
// unit UnitID of Device, serving Tags (each lies wholly inside the request,
// so no value is torn between two requests).
type Read struct {
	Device *Device
	UnitID uint8
	Table  TableKind
	Start  uint16
	Count  int
	Tags   []*Tag
}

// End returns the last address the read covers.
func (r Read) End() uint16 { return r.Start + uint16(r.Count-1) }

// PlanOptions tune PlanReads. The zero value is the protocol's limits and
// no gap bridging.
type PlanOptions struct {
	// MaxRegisters and MaxBits bound one request; default (and at most) 125
	// registers and 2000 bits [AP §6.1-6.4].
	MaxRegisters, MaxBits int
	// MaxGap lets one request also read up to MaxGap unused addresses
	// between two tags, but only where the unit's table ranges say those
	// addresses exist (a hole would be answered with exception 02). Default
	// 0: only touching or overlapping tags share a request.
	MaxGap int
	// Unit, when not nil, is the unit every read goes to, whichever unit
	// its tags name (plcctl -u UNIT): tags are grouped by that unit, gaps
	// are bridged only where its ranges say the addresses exist, and each
	// Read's UnitID is it. Nil: each tag's own unit.
	Unit *uint8
}

func (o PlanOptions) withDefaults() PlanOptions {
	if o.MaxRegisters <= 0 || o.MaxRegisters > modbus.MaxReadRegisters {
		o.MaxRegisters = modbus.MaxReadRegisters
	}
	if o.MaxBits <= 0 || o.MaxBits > modbus.MaxReadBits {
		o.MaxBits = modbus.MaxReadBits
	}
	o.MaxGap = max(o.MaxGap, 0)
	return o
}

// PlanReads coalesces the reads of tags into as few requests as the limits
// allow: tags of the same device, unit and table whose addresses touch or
// overlap (or are at most MaxGap apart inside an existing range) share one
// request of at most MaxRegisters registers or MaxBits bits. Each tag is
// read whole by exactly one request; a tag given twice is read once. The
// reads come ordered by device (file order), unit, table and address, and
// each read's Tags by address. PlanReads is pure: it sends nothing.
//
// Within one group the plan is a left-to-right sweep: a read grows while
// the next tag starts inside it, next to it (or within the allowed gap) and
// the grown read stays within the limit. Tags are intervals, so this greedy
// sweep gives the fewest requests for the group when tags do not overlap.
func PlanReads(tags []*Tag, opt PlanOptions) []Read {
	opt = opt.withDefaults()
	type key struct {
		dev  int
		unit uint8
		k    TableKind
	}
	devIndex := map[*Device]int{}
	groups := map[key][]*Tag{}
	seen := map[*Tag]bool{}
	for _, t := range tags {
		if seen[t] {
			continue
		}
		seen[t] = true
		if _, ok := devIndex[t.Device]; !ok {
			devIndex[t.Device] = len(devIndex)
		}
		unit := t.UnitID
		if opt.Unit != nil {
			unit = *opt.Unit
		}
		k := key{devIndex[t.Device], unit, t.Table}
		groups[k] = append(groups[k], t)
	}
	keys := make([]key, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.dev != b.dev {
			return a.dev < b.dev
		}
		if a.unit != b.unit {
			return a.unit < b.unit
		}
		return a.k < b.k
	})
	var out []Read
	for _, k := range keys {
		out = append(out, planGroup(groups[k], k.unit, opt)...)
	}
	return out
}

// planGroup plans the reads of tags ts of one device and table from unit,
// bridging gaps by that unit's ranges.
func planGroup(ts []*Tag, unit uint8, opt PlanOptions) []Read {
	sort.SliceStable(ts, func(i, j int) bool {
		if ts[i].Address != ts[j].Address {
			return ts[i].Address < ts[j].Address
		}
		return ts[i].End() < ts[j].End()
	})
	limit := opt.MaxRegisters
	if ts[0].Table.IsBits() {
		limit = opt.MaxBits
	}
	var table *Table
	if u := ts[0].Device.Unit(unit); u != nil {
		table = &u.Tables[ts[0].Table]
	}
	var out []Read
	for _, t := range ts {
		if n := len(out) - 1; n >= 0 {
			r := &out[n]
			end := max(int(r.End()), int(t.End()))
			gap := int(t.Address) - int(r.End()) - 1
			fits := end-int(r.Start)+1 <= limit
			bridge := gap <= 0 || gap <= opt.MaxGap && table != nil && table.Contains(r.Start, end-int(r.Start)+1)
			if fits && bridge {
				r.Count = end - int(r.Start) + 1
				r.Tags = append(r.Tags, t)
				continue
			}
		}
		out = append(out, Read{Device: t.Device, UnitID: unit, Table: t.Table, Start: t.Address,
			Count: t.Registers(), Tags: []*Tag{t}})
	}
	return out
}
