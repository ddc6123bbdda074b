package plant

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/plcctl/plcctl/access"
	"github.com/plcctl/plcctl/internal/suggest"
	"github.com/plcctl/plcctl/modbus"
)

// Keys of the access: section and of its grants; plant.schema.json lists
// the same.
var (
	accessKeys     = []string{"read_only", "roles"}
	grantKeys      = []string{"functions", "units", "coils", "discrete_inputs", "holding_registers", "input_registers", "files"}
	accessFileKeys = []string{"numbering", "access"}
)

// grantTables maps a grant's table keys to the tables of package access.
// kind is the unit's table the addresses are of (none for files: FC 21
// writes files a unit did not have, so every file number can apply).
var grantTables = []struct {
	key   string
	table access.Table
	kind  TableKind
}{
	{"coils", access.Coils, Coils}, {"discrete_inputs", access.DiscreteInputs, DiscreteInputs},
	{"holding_registers", access.HoldingRegisters, HoldingRegisters}, {"input_registers", access.InputRegisters, InputRegisters},
	{"files", access.FileRecords, noTable},
}

// noTable is grantTables' kind for files.
const noTable TableKind = 255

// AccessRules is an access: section: who may do what over Modbus/TCP Security.
// The roles are those in the client certificates (access.Role); a role the
// section does not list, or a client without a role, may do nothing.
//
//	access:
//	  read_only: false          # true: every write gets exception 01, TCP and TLS
//	  roles:
//	    operator: {functions: [all]}
//	    viewer:   {functions: [reads]}
//	    maintenance:
//	      - functions: [reads]
//	      - functions: [write-single-register, 16]
//	        holding_registers: ["100-199"]   # a grant that lists tables covers only those
//	        units: [1, "3-5"]                # a grant that lists units holds only on those
//
// At the top of a plant file it holds for every device (each plcsim serving
// one device of the plant applies it); a device's own access: replaces it
// for that device. A grant without units: holds for every unit id.
type AccessRules struct {
	// Rules are the grants as package access reads them, one Rule per
	// grant, in file order. Nil (no roles: key) means access.DefaultRules;
	// empty (roles: {}) refuses every request on TLS.
	Rules []access.Rule
	// ReadOnly refuses every write, on plain TCP too.
	ReadOnly bool
	Line     int // where the section starts

	file   string     // the file it was read from, for CheckUnits
	units  []unitRef  // the grants' units: items, where they are in file
	ranges []rangeRef // the grants' table ranges, for CheckRanges
}

// Policy returns the section as the simulator's policy.
func (a *AccessRules) Policy() access.Policy {
	return access.Policy{Rules: a.Rules, ReadOnly: a.ReadOnly}
}

// AccessFor returns the access rules of device d: its own access: section,
// else the plant's; nil when neither has one.
func (p *Plant) AccessFor(d *Device) *AccessRules {
	if d != nil && d.Access != nil {
		return d.Access
	}
	return p.Access
}

// LoadAccess reads an access file: a YAML file with an access: section
// as a plant file has it, and optionally numbering:.
func LoadAccess(path string) (*AccessRules, error) {
	data, err := readFile(path, "an access file")
	if err != nil {
		return nil, err
	}
	return ParseAccess(data, path)
}

// ParseAccess decodes and validates an access file (see LoadAccess).
// Mistakes are returned as Errors, each with its line and key.
func ParseAccess(data []byte, filename string) (*AccessRules, error) {
	d := &decoder{file: filename}
	root, err := d.document(data, "access:")
	if err != nil {
		return nil, err
	}
	if k := plantKey(root); k != nil {
		d.errorf(k, "devices", "this is a plant file: serve it with --plant, which reads its access: section; an access file holds only access: (and numbering:)")
		return nil, d.sorted()
	}
	o := d.object(root, "", accessFileKeys)
	if o == nil {
		return nil, d.sorted()
	}
	var a addressing
	if n := o.get("numbering"); n != nil {
		s, _ := d.choice(n, "numbering", "zero-based", "one-based")
		a.oneBased = s == "one-based"
	}
	var acc *AccessRules
	if n := o.get("access"); n == nil {
		d.errorf(root, "access", "access is required: an access file holds one access: section, as a plant file does")
	} else {
		acc = (&parseCtx{decoder: d}).access(n, "access", a)
	}
	if len(d.errs) > 0 {
		return nil, d.sorted()
	}
	return acc, nil
}

// plantKey returns the devices: key of a plant file's root, or nil.
func plantKey(root *yaml.Node) *yaml.Node {
	if root.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := root.Content[i]; k.Kind == yaml.ScalarNode && k.Value == "devices" {
			return k
		}
	}
	return nil
}

// access reads an access: section; addresses follow a's numbering.
func (c *parseCtx) access(n *yaml.Node, path string, a addressing) *AccessRules {
	o := c.object(n, path, accessKeys)
	if o == nil {
		return nil
	}
	acc := &AccessRules{Line: o.node.Line, file: c.file}
	start, startRanges := len(c.unitRefs), len(c.rangeRefs)
	defer func() { acc.units, acc.ranges = c.unitRefs[start:], c.rangeRefs[startRanges:] }()
	if v := o.get("read_only"); v != nil {
		acc.ReadOnly, _ = c.boolean(v, o.at("read_only"))
	}
	v := o.get("roles")
	if v == nil {
		return acc
	}
	acc.Rules = []access.Rule{}
	for _, e := range c.entries(v, o.at("roles")) {
		role, rp := e.key.Value, o.at("roles")+"."+e.key.Value
		switch {
		case e.key.Kind != yaml.ScalarNode:
			c.errorf(e.key, o.at("roles"), "a role name must be a plain string, got %s", kindName(e.key))
			continue
		case e.key.Tag == "!!null" || role == "":
			c.errorf(e.key, o.at("roles"), "a role name cannot be empty: write the role as the client certificates carry it")
			continue
		case strings.TrimSpace(role) != role:
			c.errorf(e.key, rp, "role %q has spaces at its ends: a certificate's role must match exactly", role)
			continue
		}
		grants := []*yaml.Node{e.value}
		if e.value.Kind == yaml.SequenceNode {
			grants = c.list(e.value, rp)
			if len(grants) == 0 {
				c.errorf(e.value, rp, "role %q has no grants: give at least one, or leave the role out (a role not listed may do nothing)", role)
			}
		}
		for i, g := range grants {
			gp := rp
			if e.value.Kind == yaml.SequenceNode {
				gp = fmt.Sprintf("%s[%d]", rp, i)
			}
			if r, ok := c.grant(g, gp, role, a); ok {
				acc.Rules = append(acc.Rules, r)
			}
		}
	}
	return acc
}

// grant reads one grant of a role: the functions it may use and, when any
// table is listed, the addresses of the tables listed.
func (c *parseCtx) grant(n *yaml.Node, path, role string, a addressing) (access.Rule, bool) {
	r := access.Rule{Role: role, Source: c.file + ":" + strconv.Itoa(n.Line) + ":" + strconv.Itoa(n.Column)}
	o := c.object(n, path, grantKeys)
	if o == nil {
		return r, false
	}
	before := len(c.errs)
	if v := o.get("functions"); v == nil {
		c.errorf(o.node, o.at("functions"), "functions is required: a list of function codes or names (e.g. [reads, write-single-register, 16])")
	} else {
		items := c.list(v, o.at("functions"))
		if v.Kind == yaml.SequenceNode && len(items) == 0 {
			c.errorf(v, o.at("functions"), "functions is empty: give at least one function, or leave the grant out")
		}
		for i, item := range items {
			for _, fc := range c.function(item, fmt.Sprintf("%s[%d]", o.at("functions"), i)) {
				if !slices.Contains(r.Functions, fc) {
					r.Functions = append(r.Functions, fc)
				}
			}
		}
	}
	if v := o.get("units"); v != nil {
		r.Units = c.unitRanges(v, o.at("units"))
	}
	for _, gt := range grantTables {
		v := o.get(gt.key)
		if v == nil {
			continue
		}
		if r.Ranges == nil {
			r.Ranges = map[access.Table][]access.Range{}
		}
		ta := a
		if gt.table == access.FileRecords {
			ta = addressing{} // file numbers are numbers, not addresses
		}
		items := c.rangeItems(v, o.at(gt.key), ta)
		rs := []access.Range{}
		for _, rg := range mergeRanges(items) {
			if gt.table == access.FileRecords && rg.Start == 0 {
				c.errorf(v, o.at(gt.key), "there is no file 0: file numbers are 1..65535")
			}
			rs = append(rs, access.Range{First: rg.Start, Last: rg.End})
		}
		if gt.kind != noTable {
			for _, it := range items {
				c.rangeRefs = append(c.rangeRefs, rangeRef{it, gt.kind, r.Units, ta.lo()})
			}
		}
		r.Ranges[gt.table] = rs
	}
	return r, len(c.errs) == before
}

// unitRanges reads a grant's units: a list of unit ids 0..255, each N or
// "N-M", none overlapping another; an empty list is a mistake (leave
// units: out for every unit).
func (c *parseCtx) unitRanges(n *yaml.Node, path string) []access.Range {
	items := c.list(n, path)
	if n.Kind == yaml.SequenceNode && len(items) == 0 {
		c.errorf(n, path, "units is empty: give unit ids such as [1, \"3-5\"], or leave units out: the grant then holds for every unit")
	}
	var rs []access.Range
	for i, item := range items {
		ip := fmt.Sprintf("%s[%d]", path, i)
		var r access.Range
		switch {
		case item.Kind == yaml.ScalarNode && item.Tag == "!!int":
			v, ok := c.integer(item, ip, 0, 255)
			if !ok {
				continue
			}
			r = access.Range{First: uint16(v), Last: uint16(v)}
		case item.Kind == yaml.ScalarNode && item.Tag == "!!str":
			lo, hi, found := strings.Cut(item.Value, "-")
			if !found {
				hi = lo
			}
			first, err1 := strconv.ParseUint(strings.TrimSpace(lo), 0, 8)
			last, err2 := strconv.ParseUint(strings.TrimSpace(hi), 0, 8)
			switch {
			case err1 != nil || err2 != nil:
				c.errorf(item, ip, "%q is not a unit id 0..255 or a range of them such as \"1-5\"", item.Value)
				continue
			case last < first:
				c.errorf(item, ip, "unit range %q ends before it starts", item.Value)
				continue
			}
			r = access.Range{First: uint16(first), Last: uint16(last)}
		default:
			c.errorf(item, ip, "want a unit id 0..255 or a range such as \"1-5\", got %s", kindName(item))
			continue
		}
		if j := slices.IndexFunc(rs, func(q access.Range) bool { return r.First <= q.Last && q.First <= r.Last }); j >= 0 {
			c.errorf(item, ip, "unit range %s overlaps %s, given before", r, rs[j])
			continue
		}
		rs = append(rs, r)
		c.unitRefs = append(c.unitRefs, unitRef{item, ip, r})
	}
	if rs == nil {
		rs = []access.Range{} // given, so never every unit, even when all items were wrong
	}
	return rs
}

// unitRef is one item of a grant's units:, where it is in the file.
type unitRef struct {
	node *yaml.Node
	path string
	r    access.Range
}

// checkGrantUnits reports grant units that no device under the grant
// serves, which would never apply: a device's own access: is checked
// against its units, the plant's against those of every device without
// its own (a plant-wide grant may name a unit only some devices have).
func (c *parseCtx) checkGrantUnits() {
	p := c.p
	var shared []*Device
	for _, d := range p.Devices {
		if d.Access != nil {
			c.errs = append(c.errs, d.Access.unitErrors([]*Device{d})...)
		} else {
			shared = append(shared, d)
		}
	}
	if p.Access != nil {
		c.errs = append(c.errs, p.Access.unitErrors(shared)...)
	}
	c.errs = c.errs[:min(len(c.errs), maxErrors)]
}

// CheckUnits reports the units the grants of a name that none of devs
// serves, as a plant file's own access: sections are checked: a grant for
// such a unit never applies. It is for rules from an access file (LoadAccess)
// served with a plant: nil, or Errors with the access file's line and key.
func (a *AccessRules) CheckUnits(devs []*Device) error {
	if es := a.unitErrors(devs); len(es) > 0 {
		return Errors(es)
	}
	return nil
}

// CheckUnitIDs is CheckUnits for units served without a plant (plcsim
// --unit-ids): a grant's unit that serves(id) rejects never applies.
// served says which units are served, after "unit 7: " in the message
// ("plcsim serves only units 1, 2"): nil, or Errors as CheckUnits gives.
func (a *AccessRules) CheckUnitIDs(serves func(id uint8) bool, served string) error {
	if a == nil {
		return nil
	}
	if es := a.unitErrorsBy(serves, served); len(es) > 0 {
		return Errors(es)
	}
	return nil
}

// unitErrors is CheckUnits' list: one Error per grant units: item that
// names a unit none of devs serves (none when devs is empty).
func (a *AccessRules) unitErrors(devs []*Device) []*Error {
	if a == nil || len(devs) == 0 {
		return nil
	}
	serves := func(id uint8) bool {
		return slices.ContainsFunc(devs, func(d *Device) bool { return d.Unit(id) != nil })
	}
	return a.unitErrorsBy(serves, unitsServed(devs))
}

// unitErrorsBy is one Error per grant units: item that names a unit
// serves rejects, the first such unit of the item said with served.
func (a *AccessRules) unitErrorsBy(serves func(id uint8) bool, served string) []*Error {
	var es []*Error
	for _, ref := range a.units {
		for id := int(ref.r.First); id <= int(ref.r.Last); id++ {
			if !serves(uint8(id)) {
				es = append(es, &Error{File: a.file, Line: ref.node.Line, Column: ref.node.Column, Key: ref.path,
					Msg: fmt.Sprintf("unit %d: %s, so a grant for it never applies", id, served)})
				break
			}
		}
	}
	return es
}

// unitsServed says which units devs serve: "device pumps serves only unit
// 1" or "no device under these rules serves it (pumps: 1; tanks: 1, 2)".
func unitsServed(devs []*Device) string {
	ids := func(d *Device) string {
		s := make([]string, len(d.Units))
		for i, u := range d.Units {
			s[i] = strconv.Itoa(int(u.ID))
		}
		return strings.Join(s, ", ")
	}
	if len(devs) == 1 {
		d := devs[0]
		if len(d.Units) == 1 {
			return fmt.Sprintf("device %s serves only unit %s", d.Name, ids(d))
		}
		return fmt.Sprintf("device %s serves only units %s", d.Name, ids(d))
	}
	s := make([]string, len(devs))
	for i, d := range devs {
		s[i] = d.Name + ": " + ids(d)
	}
	return "no device under these rules serves it (" + strings.Join(s, "; ") + ")"
}

// function reads one entry of a functions list: a code or a name.
func (c *parseCtx) function(n *yaml.Node, path string) []modbus.FunctionCode {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		v, ok := c.integer(n, path, 1, 127)
		if !ok {
			return nil
		}
		return []modbus.FunctionCode{modbus.FunctionCode(v)}
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		c.errorf(n, path, "want a function code or name, got %s", kindName(n))
		return nil
	}
	fcs, err := access.ParseFunction(n.Value)
	if err != nil { // say it as a plant error, with a hint
		if hint := suggest.DidYouMean(n.Value, access.FunctionNames()); hint != "" {
			c.errorf(n, path, "unknown function %q%s", n.Value, hint)
		} else {
			c.errorf(n, path, "unknown function %q: want a code 1..127, a name such as read-holding-registers, or all, reads or writes", n.Value)
		}
		return nil
	}
	return fcs
}
