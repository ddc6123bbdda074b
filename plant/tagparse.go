package plant

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/plcctl/plcctl/values"
)

// tableAliases are the spellings a tag's table: accepts.
var tableAliases = map[string]TableKind{
	"coil": Coils, "coils": Coils, "co": Coils,
	"discrete_input": DiscreteInputs, "discrete_inputs": DiscreteInputs, "di": DiscreteInputs,
	"holding_register": HoldingRegisters, "holding_registers": HoldingRegisters, "hr": HoldingRegisters,
	"input_register": InputRegisters, "input_registers": InputRegisters, "ir": InputRegisters,
}

func (c *parseCtx) tag(n *yaml.Node, path string, dev *Device, a addressing) *Tag {
	o := c.object(n, path, tagKeys)
	if o == nil {
		return nil
	}
	errs := len(c.errs)
	t := &Tag{Device: dev, Bit: -1, Scale: 1, Line: o.node.Line}
	if v := o.get("name"); v == nil {
		c.errorf(o.node, o.at("name"), "name is required")
	} else if s, ok := c.str(v, o.at("name")); ok {
		if !nameRE().MatchString(s) || len(s) > 64 {
			c.errorf(v, o.at("name"), "%q is not a tag name: up to 64 letters, digits and _ . - /, not starting with a digit", s)
		} else if old := c.p.byName[s]; old != nil {
			c.errorf(v, o.at("name"), "tag %q is defined twice (first at line %d)", s, old.Line)
		} else {
			c.p.byName[s] = t
		}
		t.Name = s
	}
	if !c.tagUnit(o, t, dev) || !c.tagTable(o, t) {
		return nil
	}
	if v := o.get("address"); v == nil {
		c.errorf(o.node, o.at("address"), "address is required")
	} else {
		t.Address, _ = a.address(c.decoder, v, o.at("address"))
	}
	c.tagType(o, t)
	c.tagScale(o, t)
	c.tagAccess(o, t)
	for _, k := range []struct {
		key string
		dst *string
	}{{"eng_unit", &t.EngUnit}, {"description", &t.Description}} {
		if v := o.get(k.key); v != nil {
			*k.dst, _ = c.text(v, o.at(k.key), false)
		}
	}
	for _, k := range []struct {
		key string
		dst *bool
	}{{"retentive", &t.Retentive}, {"alias", &t.Alias}} {
		if v := o.get(k.key); v != nil {
			*k.dst, _ = c.boolean(v, o.at(k.key))
		}
	}
	if len(c.errs) > errs {
		return nil // later checks would only repeat the mistake
	}
	if int(t.Address)+t.Registers()-1 > 65535 {
		c.errorf(o.get("address"), o.at("address"), "a %s at address %d passes the last address 65535", t.TypeName(), t.Address)
		return nil
	}
	if u := dev.Unit(t.UnitID); u != nil && !u.Tables[t.Table].Contains(t.Address, t.Registers()) {
		c.errorf(o.get("address"), o.at("address"), "%s %d..%d of unit %d are outside the table's ranges %s",
			t.Table, t.Address, t.End(), t.UnitID, rangesText(u.Tables[t.Table].Ranges))
		return nil
	}
	if v := o.get("initial"); v != nil {
		t.Initial = c.initial(v, o.at("initial"), t)
	}
	if v := o.get("sim"); v != nil {
		t.Sim = c.sim(v, o.at("sim"), t)
	}
	c.tagNodes[t] = o
	c.p.Tags = append(c.p.Tags, t)
	return t
}

func rangesText(rs []Range) string {
	if len(rs) == 0 {
		return "(none)"
	}
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = fmt.Sprintf("%d-%d", r.Start, r.End)
	}
	return strings.Join(s, ", ")
}

func (c *parseCtx) tagUnit(o *object, t *Tag, dev *Device) bool {
	v := o.get("unit_id")
	if v == nil {
		if len(dev.Units) > 1 {
			ids := make([]string, len(dev.Units))
			for i, u := range dev.Units {
				ids[i] = fmt.Sprint(u.ID)
			}
			c.errorf(o.node, o.at("unit_id"), "unit_id is required: device %q has units %s", dev.Name, strings.Join(ids, ", "))
			return false
		}
		if len(dev.Units) == 1 {
			t.UnitID = dev.Units[0].ID
		}
		return true
	}
	id, ok := c.integer(v, o.at("unit_id"), 1, 255)
	if !ok {
		return false
	}
	if dev.Unit(uint8(id)) == nil {
		c.errorf(v, o.at("unit_id"), "device %q has no unit %d", dev.Name, id)
		return false
	}
	t.UnitID = uint8(id)
	return true
}

func (c *parseCtx) tagTable(o *object, t *Tag) bool {
	v := o.get("table")
	if v == nil {
		c.errorf(o.node, o.at("table"), "table is required: coil, discrete_input, holding_register or input_register")
		return false
	}
	s, ok := c.str(v, o.at("table"))
	if !ok {
		return false
	}
	k, ok := tableAliases[strings.ToLower(s)]
	if !ok {
		c.errorf(v, o.at("table"), "%q is not a table: coil, discrete_input, holding_register or input_register", s)
		return false
	}
	t.Table = k
	return true
}

func (c *parseCtx) tagType(o *object, t *Tag) {
	typ, bit, chars, order := o.get("type"), o.get("bit"), o.get("chars"), o.get("order")
	if t.Table.IsBits() {
		t.Bool = true
		if typ != nil {
			if s, ok := c.str(typ, o.at("type")); ok && s != "bool" {
				c.errorf(typ, o.at("type"), "a %s tag is one bit: type is bool or left out, not %q", t.Table, s)
			}
		}
		for _, k := range []string{"bit", "chars", "order", "scale", "offset"} {
			if o.get(k) != nil {
				c.errorf(o.keys[k], o.at(k), "%s has no meaning for a %s tag (one bit)", k, t.Table)
			}
		}
		return
	}
	if typ != nil {
		if s, ok := c.str(typ, o.at("type")); ok {
			if s == "bool" {
				t.Bool = true
				if bit == nil {
					c.errorf(typ, o.at("type"), "a bool tag in %s needs bit: 0..15 (the bit inside the register)", t.Table)
				}
			} else if vt, err := values.ParseType(s); err != nil {
				c.errorf(typ, o.at("type"), "unknown type %q (want bool, %s)", s, typeList())
			} else {
				t.Type = vt
			}
		}
	}
	if bit != nil {
		if typ != nil && !t.Bool {
			c.errorf(bit, o.at("bit"), "bit makes the tag one bool inside a register: leave type out or write type: bool, not %s", t.Type)
		}
		if b, ok := c.integer(bit, o.at("bit"), 0, 15); ok {
			t.Bit, t.Bool = int(b), true
		}
	}
	switch {
	case t.Type == values.String && !t.Bool && chars == nil:
		c.errorf(typ, o.at("chars"), "a string tag needs chars: its length in characters (1..250)")
	case chars != nil && (t.Type != values.String || t.Bool):
		c.errorf(chars, o.at("chars"), "chars goes with type: string only")
	case chars != nil:
		if n, ok := c.integer(chars, o.at("chars"), 1, 2*125); ok {
			t.Chars = int(n)
		}
	}
	if order != nil {
		if t.Bool || t.Type == values.Hex || t.Type == values.Bits {
			c.errorf(order, o.at("order"), "order has no meaning for a %s tag (one raw register)", t.TypeName())
		} else if s, ok := c.str(order, o.at("order")); ok {
			wo, err := values.ParseWordOrder(s)
			if err != nil {
				c.errorf(order, o.at("order"), "unknown word order %q (want ABCD, CDAB, BADC or DCBA)", s)
			}
			t.Order = wo
		}
	}
}

func typeList() string {
	ts := values.Types()
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.String()
	}
	return strings.Join(s, ", ")
}

// valueKind sorts tags for follow: "bool", "string" or "number".
func (t *Tag) valueKind() string {
	switch {
	case t.Bool:
		return "bool"
	case t.Type == values.String:
		return "string"
	}
	return "number"
}

// numeric reports whether scale, offset and numeric living values apply.
func (t *Tag) numeric() bool {
	return !t.Bool && t.Type != values.String && t.Type != values.Hex && t.Type != values.Bits
}

func (c *parseCtx) tagScale(o *object, t *Tag) {
	for _, k := range []string{"scale", "offset"} {
		v := o.get(k)
		if v == nil || t.Table.IsBits() {
			continue
		}
		if !t.numeric() {
			c.errorf(v, o.at(k), "%s goes with number types, not %s", k, t.TypeName())
			continue
		}
		f, ok := c.number(v, o.at(k))
		if !ok {
			continue
		}
		if k == "scale" {
			if f == 0 {
				c.errorf(v, o.at(k), "scale 0 would map every raw value to the offset")
				continue
			}
			t.Scale = f
		} else {
			t.Offset = f
		}
		t.Scaled = true
	}
}

func (c *parseCtx) tagAccess(o *object, t *Tag) {
	t.Access = ReadWrite
	if !t.Table.Writable() {
		t.Access = ReadOnly
	}
	v := o.get("access")
	if v == nil {
		return
	}
	s, ok := c.choice(v, o.at("access"), "read-only", "read-write")
	switch {
	case !ok:
	case s == "read-write" && !t.Table.Writable():
		c.errorf(v, o.at("access"), "%s cannot be written over Modbus: a tag of %s is read-only (leave access out)", t.Table, t.Table)
	case s == "read-only":
		t.Access = ReadOnly
	}
}

// initial reads a tag's initial value and checks that it fits.
func (c *parseCtx) initial(n *yaml.Node, path string, t *Tag) any {
	var v any
	var err error
	switch {
	case n.Kind != yaml.ScalarNode:
		c.errorf(n, path, "want one value, got %s", kindName(n))
		return nil
	case t.Bool:
		b, ok := c.boolean(n, path)
		if !ok {
			return nil
		}
		return b
	case t.Type == values.String:
		s, ok := c.str(n, path)
		if !ok {
			return nil
		}
		v, err = t.ParseValue(s)
	case t.Type == values.Hex || t.Type == values.Bits:
		u, ok := c.integer(n, path, 0, 65535)
		if !ok {
			return nil
		}
		if msg := ambiguousDigits(n.Value, uint16(u), t.Type); msg != "" {
			c.errorf(n, path, "%s", msg)
			return nil
		}
		return uint16(u)
	case n.Tag == "!!int" || n.Tag == "!!float":
		v, err = t.ParseValue(n.Value)
	default:
		c.errorf(n, path, "want a number, got %s", kindName(n))
		return nil
	}
	if err != nil {
		// The path names the tag and its key already: the value's own
		// words, without "plant: tag d: values: " before them.
		var te *TagError
		if errors.As(err, &te) {
			err = te.Err
		}
		c.errorf(n, path, "%s", strings.TrimPrefix(err.Error(), "values: "))
		return nil
	}
	return v
}

func (c *parseCtx) sim(n *yaml.Node, path string, t *Tag) *Sim {
	o := c.object(n, path, simKeys)
	if o == nil {
		return nil
	}
	s := &Sim{Line: o.node.Line}
	kn := o.get("kind")
	if kn == nil {
		c.errorf(o.node, o.at("kind"), "kind is required: counter, ramp, sine, random-walk, uptime, clock or follow")
		return nil
	}
	name, ok := c.choice(kn, o.at("kind"), simNames[1:]...)
	if !ok {
		return nil
	}
	for k, n := range simNames {
		if n == name {
			s.Kind = SimKind(k)
		}
	}
	allowed := simKindKeys[s.Kind]
	for key, kn := range o.keys {
		if key != "kind" && !contains(allowed, key) {
			c.errorf(kn, o.at(key), "%s does not apply to kind %s (it takes %s)", key, s.Kind, orNone(allowed))
		}
	}
	errs := len(c.errs)
	switch s.Kind {
	case SimFollow:
		c.simFollow(o, s, t)
	default:
		if !t.numeric() {
			c.errorf(kn, o.at("kind"), "kind %s needs a number tag, not %s (a %s tag can only follow another)", s.Kind, t.TypeName(), t.TypeName())
			return nil
		}
		c.simNumeric(o, s, t)
	}
	if len(c.errs) > errs {
		return nil
	}
	c.simNodes[s] = o
	return s
}

func orNone(keys []string) string {
	if len(keys) == 0 {
		return "no other key"
	}
	return strings.Join(keys, ", ")
}

func (c *parseCtx) simFollow(o *object, s *Sim, t *Tag) {
	if o.get("tag") == nil {
		c.errorf(o.node, o.at("tag"), "kind follow needs tag: the name of the tag to follow")
	} else {
		c.str(o.get("tag"), o.at("tag")) // resolved once every tag is known
	}
	if v := o.get("delay"); v != nil {
		s.Delay, _ = c.duration(v, o.at("delay"), 0, time.Hour)
	}
	if v := o.get("invert"); v != nil {
		s.Invert, _ = c.boolean(v, o.at("invert"))
		if s.Invert && !t.Bool {
			c.errorf(v, o.at("invert"), "invert goes with bool tags only")
		}
	}
}

func (c *parseCtx) simNumeric(o *object, s *Sim, t *Tag) {
	switch s.Kind {
	case SimCounter:
		lo, hi := t.bounds()
		s.Min, s.Max, s.Step = min(max(0, lo), hi), hi, 1
	case SimRamp, SimSine, SimRandomWalk:
		s.Min, s.Max = t.bounds()
	}
	for _, k := range []struct {
		key string
		dst *float64
	}{{"min", &s.Min}, {"max", &s.Max}, {"step", &s.Step}} {
		v := o.get(k.key)
		if v == nil {
			continue
		}
		f, ok := c.number(v, o.at(k.key))
		if !ok {
			continue
		}
		*k.dst = f
		if k.key != "step" {
			if _, err := t.EncodeValue(f); err != nil {
				c.errorf(v, o.at(k.key), "%s %v does not fit tag %s: %v", k.key, f, t.Name, err)
			}
		}
	}
	needRange := s.Kind == SimRamp || s.Kind == SimSine || s.Kind == SimRandomWalk
	for _, k := range []string{"min", "max"} {
		if needRange && o.get(k) == nil {
			c.errorf(o.node, o.at(k), "kind %s needs %s", s.Kind, k)
		}
	}
	if (o.get("min") != nil || o.get("max") != nil || s.Kind == SimCounter) && s.Min >= s.Max {
		c.errorf(o.node, o.at("max"), "max %v must be above min %v", s.Max, s.Min)
	}
	switch s.Kind {
	case SimRamp, SimSine:
		if v := o.get("period"); v == nil {
			c.errorf(o.node, o.at("period"), "kind %s needs period: the length of one cycle, e.g. 60s", s.Kind)
		} else {
			s.Period, _ = c.duration(v, o.at("period"), time.Millisecond, 1000*time.Hour)
		}
	case SimCounter:
		if v := o.get("step"); v != nil && s.Step == 0 {
			c.errorf(v, o.at("step"), "step 0 would never count")
		}
		if v := o.get("every"); v != nil {
			s.Every, _ = c.duration(v, o.at("every"), time.Millisecond, 1000*time.Hour)
		}
	case SimRandomWalk:
		if v := o.get("step"); v == nil {
			c.errorf(o.node, o.at("step"), "kind random-walk needs step: the largest move per scan")
		} else if s.Step <= 0 {
			c.errorf(v, o.at("step"), "step must be above 0")
		}
		if v := o.get("seed"); v != nil {
			s.Seed, s.HasSeed = c.uint64Value(v, o.at("seed"))
		}
	case SimClock:
		if !t.Scaled && t.Type.Registers() < 2 {
			c.errorf(o.get("kind"), o.at("kind"), "kind clock counts Unix seconds: it needs a 32- or 64-bit type, not %s", t.Type)
		}
	}
}

// ambiguousDigits says why the YAML integer lit (value v) may not be the
// initial value of a hex or bits tag: a plain decimal number whose digits
// plcctl set reads in the tag's base as another value ("initial: 4660" is
// 0x1234, "plcctl set h 4660" writes 0x4660); "" when the prefix says the
// base (0x1234, 0b101) or both readings agree (0..9, or 0 and 1).
func ambiguousDigits(lit string, v uint16, t values.Type) string {
	if strings.Trim(lit, "0123456789") != "" {
		return "" // 0x, 0b, 0o: the base is written
	}
	prefix, base := "0x", 16
	if t == values.Bits {
		prefix, base = "0b", 2
	}
	as, err := strconv.ParseUint(lit, base, 16)
	if err == nil && as == uint64(v) {
		return ""
	}
	msg := fmt.Sprintf("%s is a decimal number here, but plcctl set reads a %s tag's digits in base %d: write %s%s",
		lit, t, base, prefix, strings.ToUpper(strconv.FormatUint(uint64(v), base)))
	if err == nil {
		msg += " (or " + prefix + lit + " if that was meant)"
	}
	return msg
}

// resolveSims links follow sources once every tag is known, and refuses
// follow cycles.
func (c *parseCtx) resolveSims() {
	for _, t := range c.p.Tags {
		s := t.Sim
		if s == nil || s.Kind != SimFollow {
			continue
		}
		o := c.simNodes[s]
		n := o.get("tag")
		src := c.p.byName[n.Value]
		switch {
		case src == nil:
			c.errorf(n, o.at("tag"), "no tag %q to follow", n.Value)
		case src == t:
			c.errorf(n, o.at("tag"), "tag %s cannot follow itself", t.Name)
		case src.valueKind() != t.valueKind():
			c.errorf(n, o.at("tag"), "tag %s (%s) cannot follow %s (%s): both must be bool, both string or both numbers", t.Name, t.TypeName(), src.Name, src.TypeName())
		default:
			s.Follow = src
		}
	}
	for _, t := range c.followCycles() {
		o := c.simNodes[t.Sim]
		c.errorf(o.get("tag"), o.at("tag"), "tag %s follows itself through a cycle of follow rules", t.Name)
	}
}

// followCycles returns the tags on a cycle of follow rules. Each tag
// follows at most one, so one walk from each tag not yet seen, ending at
// a tag seen before, finds every cycle: each tag is walked once. (A walk
// from every tag was quadratic: a chain of 20000 follows, a 1.7 MB file,
// took 28 s to load.)
func (c *parseCtx) followCycles() []*Tag {
	const (
		onPath = 1
		done   = 2
	)
	state := make(map[*Tag]int, len(c.p.Tags))
	var cycles, path []*Tag
	for _, t := range c.p.Tags {
		path = path[:0]
		f := t
		for f != nil && state[f] == 0 {
			state[f] = onPath
			path = append(path, f)
			f = f.followed()
		}
		if f != nil && state[f] == onPath { // the walk came back to itself
			i := slices.Index(path, f)
			cycles = append(cycles, path[i:]...)
		}
		for _, p := range path {
			state[p] = done
		}
	}
	slices.SortFunc(cycles, func(a, b *Tag) int { return a.Line - b.Line })
	return cycles
}

// followed is the tag t follows, or nil.
func (t *Tag) followed() *Tag {
	if t.Sim == nil {
		return nil
	}
	return t.Sim.Follow
}

// checkOverlaps reports tags that share an address (bits of one register
// excepted, and tags marked alias). It returns the pairs of tags compared.
func (c *parseCtx) checkOverlaps() (pairs int) {
	type key struct {
		d    *Device
		unit uint8
		k    TableKind
	}
	groups := map[key][]*Tag{}
	for _, t := range c.p.Tags {
		groups[key{t.Device, t.UnitID, t.Table}] = append(groups[key{t.Device, t.UnitID, t.Table}], t)
	}
	for _, ts := range groups {
		// Aliases overlap by design: left out, they cost nothing (60000
		// aliases of one register took 7 s, each compared with each).
		// Two other tags that overlap are an error, except bits of one
		// register (at most 16), so the inner loop runs past the error
		// limit only on errors, which errorf stops recording.
		ts = slices.DeleteFunc(ts, func(t *Tag) bool { return t.Alias })
		sort.SliceStable(ts, func(i, j int) bool { return ts[i].Address < ts[j].Address })
		for i, a := range ts {
			for _, b := range ts[i+1:] {
				if b.Address > a.End() || len(c.errs) >= maxErrors {
					break
				}
				pairs++
				if a.Bit >= 0 && b.Bit >= 0 && a.Bit != b.Bit {
					continue
				}
				o := c.tagNodes[b]
				c.errorf(o.get("address"), o.at("address"), "tag %s (%s %d..%d) overlaps tag %s (%d..%d, line %d); mark one alias: true if that is meant",
					b.Name, b.Table, b.Address, b.End(), a.Name, a.Address, a.End(), a.Line)
			}
		}
	}
	return pairs
}
