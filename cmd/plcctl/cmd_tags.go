package main

import (
	"context"
	"fmt"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plant"
	"github.com/plcctl/plcctl/plc"
)

// plantEnv names the plant file when --plant is not given.
const plantEnv = "PLCCTL_PLANT"

const plantHelp = `Plant file: --plant FILE (or $PLCCTL_PLANT) is a plant file (see README, "Plant
file"): devices, their units and named tags. The device's address and the tag's unit
come from the file; -a/--address and -u/--unit, when given, override them.`

// addPlantFlag adds --plant to a tag command's flags.
func addPlantFlag(fs *pflag.FlagSet) *string {
	return fs.String("plant", "", "plant `FILE` naming the tags (env "+plantEnv+")")
}

// gapHelp is --gap's help, the same for get and watch TAG...
const gapHelp = "read up to `N` unused addresses between two tags to fetch them in one request, only where the plant file's ranges (of the unit read: -u UNIT's when given) say those addresses exist (0: only touching tags share one)"

// addGapFlag adds --gap (PlanOptions.MaxGap) to a tag command's flags.
func addGapFlag(fs *pflag.FlagSet) *int {
	p := new(int)
	fs.Var(numFlag[int]{p, 0xFFFF}, "gap", gapHelp)
	return p
}

// loadPlant loads the plant file named by --plant or $PLCCTL_PLANT. A file
// that cannot be read or is wrong is a usage error: nothing is sent.
func (a *app) loadPlant(file string) (*plant.Plant, error) {
	file = a.plantFile(file)
	if file == "" {
		return nil, usagef("no plant file: give --plant FILE or set %s", plantEnv)
	}
	p, err := plant.Load(file)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return p, nil
}

// plantFile is the plant file a tag command uses: its --plant, else the
// shell's --plant (for every line), else $PLCCTL_PLANT.
func (a *app) plantFile(file string) string {
	switch {
	case file != "":
		return file
	case a.inShell && a.shellPlant != "":
		return a.shellPlant
	}
	return os.Getenv(plantEnv)
}

// tagConn opens one connection per device address for tag commands and
// points the shared options (address, unit) at the device being talked to,
// so that errors name it. -a and -u, when given, win over the file.
type tagConn struct {
	a         *app
	unitGiven bool
	gap       int                    // --gap: PlanOptions.MaxGap
	first     string                 // address of a.client, the first device dialled
	extra     map[string]*plc.Client // devices other than the first
}

func (a *app) newTagConn(fs *pflag.FlagSet) *tagConn {
	return &tagConn{a: a, unitGiven: fs.Changed("unit"), extra: map[string]*plc.Client{}}
}

// target points a.opts at dev and unit as the file and the flags say.
func (tc *tagConn) target(dev *plant.Device, unit uint8) string {
	a := tc.a
	if !tc.unitGiven {
		a.opts.unit = unit
	}
	addr := a.opts.address
	a.plantDev = ""
	if !a.addrGiven && dev.Address != "" && !a.inShell {
		addr, a.plantDev = dev.Address, dev.Name
	}
	return normalizeAddress(addr)
}

// client returns the connection to dev for unit, dialling it once.
func (tc *tagConn) client(ctx context.Context, dev *plant.Device, unit uint8) (*plc.Client, error) {
	a := tc.a
	addr := tc.target(dev, unit)
	if a.inShell || a.client == nil || addr == tc.first {
		a.opts.address = addr
		c, err := a.connect(ctx)
		if err == nil && !a.inShell {
			tc.first, a.clientAddr = addr, addr
		}
		return c, err
	}
	a.clientAddr = addr // errors name the device talked to
	if c := tc.extra[addr]; c != nil {
		return c.WithUnit(a.opts.unit), nil
	}
	saved := a.opts.address
	a.opts.address = addr
	c, err := a.dial(ctx, 1, a.log)
	a.opts.address = saved
	if err != nil {
		return nil, err
	}
	tc.extra[addr] = c
	return c.WithUnit(a.opts.unit), nil
}

// checkAddress refuses tags that would be read or written at an address
// that is not their device's, before anything is sent. -a, PLCCTL_ADDRESS
// and the shell's one connection replace every device's address:, so with
// tags of two devices one of them gets the other device's values, as does a
// tag sent to the address another device of the file has: silently wrong
// values (tank1.level read 164.35 m from the pump station's flow).
func (tc *tagConn) checkAddress(p *plant.Plant, tags []*plant.Tag) error {
	a := tc.a
	if !a.addrGiven && !a.inShell {
		return nil // each tag goes to its own device's address
	}
	addr := normalizeAddress(a.opts.address)
	dev := tags[0].Device
	for _, t := range tags[1:] {
		if t.Device != dev {
			return usagef("tags %s (device %s) and %s (device %s) would both be sent to %s, one address for two devices "+
				"(-a and the shell's connection replace each device's address:): name tags of one device at a time",
				tags[0].Name, dev.Name, t.Name, t.Device.Name, addr)
		}
	}
	for _, d := range p.Devices {
		if d != dev && d.Address != "" && normalizeAddress(d.Address) == addr {
			return usagef("tag %s is of device %s, but %s is the address of device %s in the plant file", tags[0].Name, dev.Name, addr, d.Name)
		}
	}
	return nil
}

func (tc *tagConn) close() {
	for _, c := range tc.extra {
		_ = c.Close()
	}
}

// tagValue is one tag read: its engineering value.
type tagValue struct {
	tag   *plant.Tag
	value any
}

// tableWords names a plant table as the CLI's messages do.
func tableWords(k plant.TableKind) string { return strings.ReplaceAll(k.String(), "_", " ") }

// readTags reads tags in as few requests as PlanReads allows, one request
// per planned read, and returns their values in the order of tags.
func (a *app) readTags(ctx context.Context, cmd string, tc *tagConn, tags []*plant.Tag) ([]tagValue, error) {
	got := map[*plant.Tag]any{}
	opt := plant.PlanOptions{MaxGap: tc.gap}
	if tc.unitGiven { // -u wins over the tags' units: plan by the ranges of the unit read
		u := a.opts.unit
		opt.Unit = &u
	}
	for _, r := range plant.PlanReads(tags, opt) {
		cl, err := tc.client(ctx, r.Device, r.UnitID)
		span := tagNames(r.Tags) + " (" + tableWords(r.Table) + " " + a.span(r.Start, r.Count) + ")"
		if err != nil {
			return nil, &opError{cmd: cmd, span: span, err: err}
		}
		if e := a.log.Debug(); e.Enabled() {
			names := make([]string, len(r.Tags))
			for i, t := range r.Tags {
				names[i] = t.Name
			}
			e.Str("device", r.Device.Name).Uint8("unit_id", r.UnitID).Str("table", r.Table.String()).
				Uint16("addr", r.Start).Int("qty", r.Count).Strs("tags", names).Msg("tag read")
		}
		bits, regs, err := readSpan(ctx, cl, r.Table, r.Start, uint16(r.Count))
		if err != nil {
			return nil, &opError{cmd: cmd, span: span, err: err}
		}
		for _, t := range r.Tags {
			off := int(t.Address - r.Start)
			if r.Table.IsBits() {
				got[t] = bits[off]
				continue
			}
			v, err := t.DecodeValue(regs[off : off+t.Registers()])
			if err != nil {
				return nil, err
			}
			got[t] = v
		}
	}
	out := make([]tagValue, len(tags))
	for i, t := range tags {
		out[i] = tagValue{t, got[t]}
	}
	return out, nil
}

// tagNames names the tags of one request in an error, which speaks of the
// tags the user asked for, then of the registers: "tank1.level, flow", or
// the first three and how many more.
func tagNames(tags []*plant.Tag) string {
	const most = 3
	names := make([]string, 0, most)
	for _, t := range tags[:min(len(tags), most)] {
		names = append(names, t.Name)
	}
	s := strings.Join(names, ", ")
	if len(tags) > most {
		s += fmt.Sprintf(" and %d more", len(tags)-most)
	}
	return s
}

// readSpan reads count items of table k from addr.
func readSpan(ctx context.Context, c *plc.Client, k plant.TableKind, addr, count uint16) ([]bool, []uint16, error) {
	switch k {
	case plant.Coils:
		b, err := c.ReadCoils(ctx, addr, count)
		return b, nil, err
	case plant.DiscreteInputs:
		b, err := c.ReadDiscreteInputs(ctx, addr, count)
		return b, nil, err
	case plant.HoldingRegisters:
		r, err := c.ReadHoldingRegisters(ctx, addr, count)
		return nil, r, err
	}
	r, err := c.ReadInputRegisters(ctx, addr, count)
	return nil, r, err
}

// tagRecord is one tag's value in JSON: one object per line.
type tagRecord struct {
	Tag     string `json:"tag"`
	Value   any    `json:"value"`
	EngUnit string `json:"eng_unit,omitempty"`
	Device  string `json:"device"`
	Unit    uint8  `json:"unit"`
	Table   string `json:"table"`
	Address uint16 `json:"address"`
	Type    string `json:"type"`
}

func newTagRecord(v tagValue) tagRecord {
	t := v.tag
	return tagRecord{Tag: t.Name, Value: jsonValue(t.Type, v.value), EngUnit: t.EngUnit, Device: t.Device.Name,
		Unit: t.UnitID, Table: t.Table.String(), Address: t.Address, Type: t.TypeName()}
}

// tagWhereColumns name the CSV columns of tagWhere, as JSON's keys.
var tagWhereColumns = []string{"device", "unit", "table", "address", "type"}

// tagWhere is where a tag is, as JSON's tagRecord has it: the 0-based
// protocol address whatever --one-based says, as every CSV.
func tagWhere(t *plant.Tag) []string {
	return []string{t.Device.Name, strconv.Itoa(int(t.UnitID)), t.Table.String(), strconv.Itoa(int(t.Address)), t.TypeName()}
}

// tagText is a value as text output shows it (strings as textString
// shows them).
func tagText(v tagValue) string {
	s := v.tag.Format(v.value)
	if _, ok := v.value.(string); ok {
		s = textString(s)
	}
	return s
}

// printTagValues writes tag values in the --output format.
func (a *app) printTagValues(vs []tagValue) error {
	switch a.opts.output {
	case "json":
		for _, v := range vs {
			if err := writeJSON(a.stdout, newTagRecord(v)); err != nil {
				return err
			}
		}
		return nil
	case "csv":
		// JSON's fields, those CSV lacked at first last (it had tag,
		// value, eng_unit alone: not which device or unit a row came from).
		rows := [][]string{append([]string{"tag", "value", "eng_unit"}, tagWhereColumns...)}
		for _, v := range vs {
			rows = append(rows, append([]string{v.tag.Name, v.tag.Format(v.value), v.tag.EngUnit}, tagWhere(v.tag)...))
		}
		return writeCSV(a.stdout, rows)
	}
	rows := make([][]string, len(vs))
	for i, v := range vs {
		rows[i] = []string{v.tag.Name, tagText(v), v.tag.EngUnit}
	}
	return writeColumns(a.stdout, rows)
}

func (a *app) getCommand() *command {
	c := &command{name: "get", args: "TAG...", flags: a.opts.newFlagSet("get"), quickRead: true}
	file := addPlantFlag(c.flags)
	gap := addGapFlag(c.flags)
	c.long = `Reads every TAG named in the plant file and prints "TAG VALUE UNIT" lines (json: one
object per tag; csv: tag,value,eng_unit,device,unit,table,address,type, the 0-based
address). Tags of the same device, unit and table whose addresses touch share one
request (at most 125 registers or 2000 bits), and no value is split between two
requests; --gap N also joins two tags at most N unused addresses apart, if the plant
file says those addresses exist (a hole would be answered with exception 02).
--log-level debug shows the plan, --trace every frame.`
	c.example = []string{"--plant station.yaml get tank1.level flow pump1.run", "get -o json tank1.level", "get --gap 10 tank1.level tank2.level"}
	c.notes = []string{plantHelp}
	c.run = func(ctx context.Context, args []string) error {
		if len(args) == 0 {
			return usagef("want at least one TAG")
		}
		p, err := a.loadPlant(*file)
		if err != nil {
			return err
		}
		tags, err := p.Lookup(args...)
		if err != nil {
			return usagef("%v", err)
		}
		tc := a.newTagConn(c.flags)
		if err := tc.checkAddress(p, tags); err != nil {
			return err
		}
		tc.gap = *gap
		defer tc.close()
		vs, err := a.readTags(ctx, c.name, tc, tags)
		if err != nil {
			return err
		}
		return a.printTagValues(vs)
	}
	return c
}

func (a *app) tagsCommand() *command {
	c := &command{name: "tags", args: "[PATTERN...]", flags: a.opts.newFlagSet("tags"), quickRead: true}
	file := addPlantFlag(c.flags)
	c.long = `Lists every tag (or those whose name matches a PATTERN, * and ? as in file names):
name, device, unit, table, address (0-based, or 1-based with --one-based), type,
access, engineering unit and description. Sends nothing.`
	c.example = []string{"--plant station.yaml tags", "tags 'pump*' -o csv"}
	c.notes = []string{plantHelp}
	c.run = func(ctx context.Context, args []string) error {
		p, err := a.loadPlant(*file)
		if err != nil {
			return err
		}
		for _, pat := range args {
			if _, err := path.Match(pat, ""); err != nil {
				return usagef("pattern %q: %v", pat, err)
			}
		}
		var tags []*plant.Tag
		for _, t := range p.Tags {
			if matchAny(args, t.Name) {
				tags = append(tags, t)
			}
		}
		// A pattern that matches nothing is most likely mistyped: said,
		// as get says an unknown name, not an empty table and exit 0.
		for _, pat := range args {
			if !slices.ContainsFunc(p.Tags, func(t *plant.Tag) bool { return matchAny([]string{pat}, t.Name) }) {
				return usagef("%s: no tag matches %q (plcctl tags lists them all)", p.File, pat)
			}
		}
		return a.printTags(tags)
	}
	return c
}

func matchAny(patterns []string, name string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// tagTypeText is the type column: "bool bit 3" for a bit in a register,
// "string 16" for a string of 16 characters, "float32 CDAB" or "uint16
// BADC" when the word order changes the value.
func tagTypeText(t *plant.Tag) string {
	s := t.Type.String()
	switch {
	case t.Bool && t.Bit >= 0:
		return "bool bit " + strconv.Itoa(t.Bit)
	case t.Bool:
		return "bool"
	case t.Type == plc.String:
		s = "string " + strconv.Itoa(t.Chars)
	}
	if o := tagOrder(t); o != "" && t.Order != plc.ABCD {
		s += " " + o
	}
	return s
}

// tagOrder is JSON's and CSV's word_order: the order of a value of two
// or more registers (ABCD too), and of one register or a string only a
// byte swap (BADC, DCBA), the one order that changes them; else "". A
// byte-swapped uint16 was listed without it, as if ABCD.
func tagOrder(t *plant.Tag) string {
	switch {
	case t.Bool || t.Type == plc.Hex || t.Type == plc.Bits:
		return ""
	case t.Registers() > 1 && t.Type != plc.String, t.Order.ByteSwap():
		return t.Order.String()
	}
	return ""
}

func (a *app) printTags(tags []*plant.Tag) error {
	switch a.opts.output {
	case "json":
		for _, t := range tags {
			rec := struct {
				Tag         string   `json:"tag"`
				Device      string   `json:"device"`
				Unit        uint8    `json:"unit"`
				Table       string   `json:"table"`
				Address     uint16   `json:"address"`
				Registers   int      `json:"registers"`
				Type        string   `json:"type"`
				Bit         *int     `json:"bit,omitempty"`
				WordOrder   string   `json:"word_order,omitempty"`
				Scale       *float64 `json:"scale,omitempty"`
				Offset      *float64 `json:"offset,omitempty"`
				Access      string   `json:"access"`
				EngUnit     string   `json:"eng_unit,omitempty"`
				Description string   `json:"description,omitempty"`
			}{Tag: t.Name, Device: t.Device.Name, Unit: t.UnitID, Table: t.Table.String(), Address: t.Address,
				Registers: t.Registers(), Type: t.TypeName(), Access: t.Access.String(), EngUnit: t.EngUnit, Description: t.Description}
			if t.Bit >= 0 {
				rec.Bit = &t.Bit
			}
			rec.WordOrder = tagOrder(t)
			if t.Scaled {
				rec.Scale, rec.Offset = &t.Scale, &t.Offset
			}
			if err := writeJSON(a.stdout, rec); err != nil {
				return err
			}
		}
		return nil
	case "csv":
		// JSON's fields, the 0-based protocol address whatever --one-based
		// says (as every CSV); type as JSON has it, the bit in its own
		// column. The columns CSV lacked at first go last.
		rows := [][]string{{"tag", "device", "unit", "table", "address", "type", "access", "eng_unit", "description",
			"registers", "bit", "word_order", "scale", "offset"}}
		for _, t := range tags {
			var bit, order, scale, offset string
			if t.Bit >= 0 {
				bit = strconv.Itoa(t.Bit)
			}
			order = tagOrder(t)
			if t.Scaled {
				scale, offset = strconv.FormatFloat(t.Scale, 'g', -1, 64), strconv.FormatFloat(t.Offset, 'g', -1, 64)
			}
			rows = append(rows, []string{t.Name, t.Device.Name, strconv.Itoa(int(t.UnitID)), t.Table.String(),
				strconv.Itoa(int(t.Address)), t.TypeName(), t.Access.String(), t.EngUnit, t.Description,
				strconv.Itoa(t.Registers()), bit, order, scale, offset})
		}
		return writeCSV(a.stdout, rows)
	}
	rows := [][]string{{"TAG", "DEVICE", "UNIT", "TABLE", "ADDRESS", "TYPE", "ACCESS", "ENG_UNIT", "DESCRIPTION"}}
	for _, t := range tags {
		rows = append(rows, []string{t.Name, t.Device.Name, strconv.Itoa(int(t.UnitID)), t.Table.String(),
			a.span(t.Address, t.Registers()), tagTypeText(t), t.Access.String(), t.EngUnit, t.Description})
	}
	return writeColumns(a.stdout, rows)
}

func (a *app) setCommand() *command {
	c := &command{name: "set", args: "TAG VALUE", flags: a.opts.newFlagSet("set")}
	file := addPlantFlag(c.flags)
	dry := addDryRun(c.flags)
	c.long = `Writes VALUE, in the tag's engineering unit, to TAG: a coil with function 5, a bit
inside a holding register with function 22 (mask write: the register's other bits are
kept), one register with function 6, a wider value with function 16 in one request.
VALUE is checked against the tag's type, range and scale, and read-only tags are
refused, before anything is sent: a mistake is a usage error (exit 2). Bool tags take
on, off, true, false, 1 or 0.

` + dryRunHelp
	c.example = []string{"--plant station.yaml set setpoint 2.75", "set pump1.cmd on", "set --dry-run pressure.limit 7.5"}
	c.notes = []string{plantHelp}
	c.run = func(ctx context.Context, args []string) error {
		if len(args) != 2 {
			return usagef("want TAG VALUE, got %s", arguments(len(args)))
		}
		p, err := a.loadPlant(*file)
		if err != nil {
			return err
		}
		tags, err := p.Lookup(args[0])
		if err != nil {
			return usagef("%v", err)
		}
		t := tags[0]
		if t.Access == plant.ReadOnly {
			// Why, so the fix is clear: the file's access: (change it
			// there), or a table no function writes.
			why := fmt.Sprintf("the plant file says access: read-only (%s, line %d)", p.File, t.Line)
			if !t.Table.Writable() {
				why = "Modbus writes only coils and holding registers"
			}
			return usagef("tag %s is read-only (%s %s): %s", t.Name, tableWords(t.Table), a.span(t.Address, t.Registers()), why)
		}
		v, err := t.ParseValue(args[1])
		if err != nil {
			return tagValueUsage(t.Name, err)
		}
		w, err := a.tagWrite(c.name, t, v)
		if err != nil {
			return err
		}
		tc := a.newTagConn(c.flags)
		if err := tc.checkAddress(p, tags); err != nil {
			return err
		}
		a.opts.address = tc.target(t.Device, t.UnitID)
		if err := a.runWrite(ctx, w, *dry); err != nil || *dry {
			return err
		}
		return a.printSet(t, v, w)
	}
	return c
}

// tagWrite builds the one request that writes v to t.
func (a *app) tagWrite(cmd string, t *plant.Tag, v any) (*writeSpec, error) {
	addr := t.Address
	w := &writeSpec{cmd: cmd, span: tableWords(t.Table) + " " + a.span(addr, t.Registers()), tag: t.Name, quiet: true, count: t.Registers()}
	switch {
	case t.Table == plant.Coils:
		on := v.(bool)
		w.req = modbus.NewWriteSingleCoil(addr, on)
		w.send = func(ctx context.Context, c *plc.Client) error { return c.WriteCoil(ctx, addr, on) }
	case t.Bool:
		and, or := t.Mask(v.(bool))
		w.req = &modbus.MaskWriteRegister{Address: addr, AndMask: and, OrMask: or}
		w.send = func(ctx context.Context, c *plc.Client) error { return c.MaskWriteRegister(ctx, addr, and, or) }
	default:
		regs, err := t.EncodeValue(v)
		if err != nil {
			return nil, usagef("%v", err)
		}
		if len(regs) == 1 {
			w.req = &modbus.WriteSingleRegister{Address: addr, Value: regs[0]}
			w.send = func(ctx context.Context, c *plc.Client) error { return c.WriteRegister(ctx, addr, regs[0]) }
			break
		}
		if len(regs) > modbus.MaxWriteRegisters {
			return nil, usagef("tag %s is %d registers, more than one write request carries (%d): it would be written in two parts",
				t.Name, len(regs), modbus.MaxWriteRegisters)
		}
		w.req = modbus.NewWriteMultipleRegisters(addr, regs)
		w.send = func(ctx context.Context, c *plc.Client) error { return c.WriteRegisters(ctx, addr, regs) }
	}
	return w, nil
}

func (a *app) printSet(t *plant.Tag, v any, w *writeSpec) error {
	fc := int(w.req.Function())
	switch a.opts.output {
	case "json":
		return writeJSON(a.stdout, struct {
			tagRecord
			Function int `json:"function"`
		}{newTagRecord(tagValue{t, v}), fc})
	case "csv":
		return writeCSV(a.stdout, [][]string{append([]string{"tag", "value", "eng_unit", "function"}, tagWhereColumns...),
			append([]string{t.Name, t.Format(v), t.EngUnit, strconv.Itoa(fc)}, tagWhere(t)...)})
	}
	val := tagText(tagValue{t, v})
	if t.EngUnit != "" {
		val += " " + t.EngUnit
	}
	_, err := fmt.Fprintf(a.stdout, "%s = %s (function %d, %s)\n", t.Name, val, fc, w.span)
	return err
}
