package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plant"
	"github.com/plcctl/plcctl/plc"
)

// snapshotTables pairs plant tables with the CLI's names for them.
var snapshotTables = [4]struct {
	flag string
	tbl  table
}{
	plant.Coils:            {"coils", coils},
	plant.DiscreteInputs:   {"discrete-inputs", discreteInputs},
	plant.HoldingRegisters: {"holding-registers", holdingRegisters},
	plant.InputRegisters:   {"input-registers", inputRegisters},
}

func (a *app) snapshotCommand() *command {
	c := &command{name: "snapshot", flags: a.opts.newFlagSet("snapshot")}
	var ranges [4]*[]string
	for k, t := range snapshotTables {
		ranges[k] = c.flags.StringArray(t.flag, nil, "read `RANGE` (A-B or A) of the "+strings.ReplaceAll(t.flag, "-", " ")+"; repeatable")
	}
	probe := c.flags.Bool("probe", false, "find the served addresses of each table not given a range (exception 02 marks a hole)")
	step := intFlag(c.flags, "probe-step", defaultProbeStep, "with --probe, sample every `N`th address (1 finds every run)")
	name := c.flags.String("name", "snapshot", "device `NAME` in the plant file")
	tablesOnly := c.flags.Bool("tables-only", false, "record only the four tables: do not ask for device identification (FC 43/14) or the server id (FC 17)")
	unitList := c.flags.String("units", "", "record each unit of `LIST` (1,2 or 1-3) into one file, each with its own tables, instead of -u's one")
	file := c.flags.String("plant", "", "copy the tags of this plant `FILE`'s device (the one named --name, or at the address read, or its only one) that lie in what was recorded")
	c.long = fmt.Sprintf(`Reads the given ranges of each table from the device (-a, -u) and writes a plant file
to stdout that plcsim --plant serves with exactly those addresses and values: record a
real PLC, replay it in CI. The device's address (host:port, as read from) is the file's
address:, where plcsim listens unless --listen says otherwise. A table without a range
is written as having no address (every request for it is answered with exception 02),
unless --probe finds what it serves, in runs that may start anywhere and have holes
between them:
  1. one read of one item at every --probe-step'th address (0, 100, ..., 65500, 65535);
  2. for two neighbouring samples that answered, one read of all addresses between
     them (an exception 02 means a hole: the two are in different runs);
  3. a binary search for each edge of each run.
It finds every run that holds a sampled address, exactly, and may miss a run shorter
than the step that holds none. With the default step a table takes 657 requests plus
about 8 per run edge, and never more than %d; stderr says what each probe found and
how many requests it took.

Unless --tables-only, it then asks for the device identification objects (FC 43/14,
stream access at the basic, regular and extended categories) and the server id (FC 17)
and records what it gets; an exception or no answer within --timeout means the device
does not offer it, which stderr says (a plant file cannot say "no identification":
plcsim then serves its own; without server_id it answers FC 17 with exception 01).
FIFO queues (FC 24) and file records (FC 20) are not recorded: a queue lives at one
address and a record at one of 65535 x 10000 file and record numbers, and no read
finds them short of trying each. Only reads are sent.

--units LIST records several units of the device (a gateway's) into one file, each
unit its own ranges (the same --coils ... for each, or each probed) and identification.
--plant FILE copies the tags of the file's device (named --name, else the one whose
address: is the address read, else the file's only device; without -a it is read at
its address:, and its name is the file's device name unless --name is given): name, unit, table, address, type, word order,
scale, unit of measure, access, description; not their initial or living values,
since the values are those recorded. A tag of a unit not
recorded, or outside what was read, is left out, which stderr and the file's comment say.
With --plant and neither ranges nor --probe, each unit of the file's device (or of -u,
--units) is read in the ranges the file gives it, which finds what a probe may miss.`, probeBound(defaultProbeStep, modbus.MaxReadRegisters))
	c.example = []string{"snapshot -a plc-3 --coils 0-99 --holding-registers 0-199 > plc-3.yaml",
		"snapshot -a plc-3 -u 2 --probe > plc-3-unit2.yaml",
		"snapshot -a gw-1 --units 1,2 --coils 0-15 --holding-registers 0-99 --plant station.yaml > gw-1.yaml",
		"snapshot -a 127.0.0.1:5020 --plant station.yaml > station-now.yaml"}
	c.notes = []string{addressHelp}
	c.run = func(ctx context.Context, args []string) error {
		if len(args) != 0 {
			return usagef("snapshot takes no arguments, got %q (ranges go in --coils, --holding-registers, ...)", args[0])
		}
		if err := onlyText(c, "writes a plant file (YAML)"); err != nil {
			return err
		}
		var spans [4][]plant.Range
		given := false
		for k, t := range snapshotTables {
			for _, s := range *ranges[k] {
				r, err := a.parseRange(s, t.tbl)
				if err != nil {
					return usagef("--%s %q: %v", t.flag, s, err)
				}
				spans[k] = append(spans[k], r)
				given = true
			}
		}
		if *step < 1 || *step > 0xFFFF {
			return usagef("--probe-step %d: want 1..65535", *step)
		}
		if !given && !*probe && *file == "" {
			return usagef("nothing to record: give ranges (--coils 0-99, --holding-registers 0-199, ...), --probe, or --plant FILE")
		}
		ids, err := snapshotIDs(c.flags, *unitList, a.opts.unit)
		if err != nil {
			return err
		}
		var tagDev *plant.Device // whose tags --plant copies
		if *file != "" {
			tp, err := plant.Load(*file)
			if err != nil {
				return usagef("%v", err)
			}
			if tagDev, err = snapshotDevice(tp, a.deviceAddress(), *name, c.flags.Changed("name")); err != nil {
				return err
			}
			if !a.addrGiven && !a.inShell && tagDev.Address != "" {
				// as the tag commands do: the file's address:, unless -a
				a.opts.address, a.plantDev = tagDev.Address, tagDev.Name
			}
		}
		// --plant alone: each unit's ranges as the file gives them (which
		// finds what a probe misses, a lone register), its units unless
		// -u or --units say.
		fromFile := !given && !*probe
		if fromFile {
			if ids, err = fileUnits(tagDev, ids, c.flags.Changed("unit") || *unitList != ""); err != nil {
				return err
			}
		}
		if _, err := a.connect(ctx); err != nil {
			return &opError{cmd: c.name, err: err}
		}
		// The address read from is the device's address: in the file, so
		// that plcctl --plant FILE talks to it and plcsim --plant FILE
		// listens on it (or on --listen).
		snap := &plant.Snapshot{Device: *name, Address: a.clientAddrOr()}
		if tagDev != nil && !c.flags.Changed("name") {
			snap.Device = tagDev.Name // the tags' device keeps its name
		}
		notes, err := a.recordUnits(ctx, c.name, snap, snapshotJob{ids: ids, spans: spans, probe: *probe, step: *step,
			tablesOnly: *tablesOnly, fromFile: fromFile, file: *file, dev: tagDev})
		if err != nil {
			return err
		}
		if tagDev != nil {
			tags, more := a.snapshotTags(tagDev, snap, *file)
			snap.Tags = tags
			for _, n := range more {
				fmt.Fprintf(a.stderr, "snapshot: %s\n", n)
			}
			notes = append(notes, more...)
		}
		unitWords := "unit " + unitsText(ids)
		if len(ids) > 1 {
			unitWords = "units " + unitsText(ids)
		}
		snap.Comment = fmt.Sprintf("Recorded by plcctl snapshot from %s %s at %s.\n"+
			"Serve it with: plcsim --plant FILE (on %s, its address; --listen HOST:PORT serves it elsewhere)\n%s",
			snap.Address, unitWords, now().UTC().Format(timeLayout), snap.Address, strings.Join(notes, "\n"))
		return plant.WriteSnapshot(a.stdout, snap)
	}
	return c
}

// snapshotJob is what snapshot records of each unit.
type snapshotJob struct {
	ids        []uint8
	spans      [4][]plant.Range // the ranges given, for every unit
	probe      bool             // probe the tables without a range
	step       int              // --probe-step
	tablesOnly bool
	fromFile   bool          // read each unit in dev's ranges, not spans
	file       string        // --plant
	dev        *plant.Device // its device, or nil
}

// recordUnits records each unit of j into snap, saying on stderr what it
// found as it goes; it returns the notes for the file's comment.
func (a *app) recordUnits(ctx context.Context, cmd string, snap *plant.Snapshot, j snapshotJob) ([]string, error) {
	var notes []string
	for _, id := range j.ids {
		a.opts.unit = id
		cl, err := a.connect(ctx)
		if err != nil {
			return nil, &opError{cmd: cmd, err: err}
		}
		note := func(n string) {
			if len(j.ids) > 1 {
				n = fmt.Sprintf("unit %d: %s", id, n)
			}
			fmt.Fprintf(a.stderr, "snapshot: %s\n", n)
			if rest, ok := strings.CutPrefix(n, "probe "); ok { // in the file, after the fact
				n = "probed " + rest
			} else if rest, ok := strings.CutPrefix(n, fmt.Sprintf("unit %d: probe ", id)); ok {
				n = fmt.Sprintf("unit %d: probed %s", id, rest)
			}
			notes = append(notes, n)
		}
		read := j.spans
		if j.fromFile {
			read = unitRanges(j.dev.Unit(id))
			note("ranges from " + j.file)
		}
		u, err := a.snapshotUnit(ctx, cmd, cl, read, j.probe, j.step, j.tablesOnly, note)
		if err != nil {
			return nil, err
		}
		u.ID = id
		snap.Units = append(snap.Units, u)
	}
	return notes, nil
}

// snapshotUnit records the tables of the unit cl talks to (the ranges
// given, or each table without one probed) and, unless tablesOnly, its
// identification and server id; it tells note what each probe found and
// what identification it got, as they come.
func (a *app) snapshotUnit(ctx context.Context, cmd string, cl *plc.Client, given [4][]plant.Range, probe bool, step int, tablesOnly bool, note func(string)) (plant.SnapshotUnit, error) {
	var u plant.SnapshotUnit
	for k := range given {
		kind := plant.TableKind(k)
		spans := given[k]
		if len(spans) == 0 && probe {
			found, n, err := probeTable(ctx, cl, kind, step)
			if err != nil {
				return u, &opError{cmd: cmd, span: tableWords(kind) + " probe", err: err}
			}
			note(fmt.Sprintf("probe %s: %s in %d requests (at most %d with --probe-step %d)",
				tableWords(kind), a.runsText(found), n, probeBound(step, maxQty(kind)), step))
			spans = found
		}
		for _, r := range spans {
			b, err := readBlock(ctx, cl, kind, r)
			if err != nil {
				return u, &opError{cmd: cmd, span: tableWords(kind) + " " + a.span(r.Start, r.Len()), err: err}
			}
			u.Tables[k] = append(u.Tables[k], b)
		}
	}
	if tablesOnly {
		return u, nil
	}
	id, notes, err := recordIdentity(ctx, cl)
	if err != nil {
		return u, &opError{cmd: cmd, err: err}
	}
	sid, sidNote, err := recordServerID(ctx, cl)
	if err != nil {
		return u, &opError{cmd: cmd, err: err}
	}
	u.Identity, u.ServerID = id, sid
	for _, n := range append(notes, sidNote) {
		note(n)
	}
	return u, nil
}

// snapshotIDs returns the units to record: --units LIST (unitList), or
// -u's one.
func snapshotIDs(fs *pflag.FlagSet, unitList string, unit uint8) ([]uint8, error) {
	if unitList == "" {
		return []uint8{unit}, nil
	}
	if fs.Changed("unit") {
		return nil, usagef("-u and --units both name the units to record: give one")
	}
	ids, err := parseUnitList(unitList)
	if err != nil {
		return nil, err
	}
	if ids[0] == 0 {
		return nil, usagef("--units %q: unit 0 cannot be recorded: a plant file's units are 1..255 (0 is the broadcast address behind a gateway)", unitList)
	}
	return ids, nil
}

// fileUnits returns the units of dev to record by its file's ranges: ids
// when given (each must be a unit of dev), else every unit of dev.
func fileUnits(dev *plant.Device, ids []uint8, given bool) ([]uint8, error) {
	if !given {
		ids = ids[:0]
		for _, u := range dev.Units {
			ids = append(ids, u.ID)
		}
		return ids, nil
	}
	for _, id := range ids {
		if dev.Unit(id) == nil {
			return nil, usagef("unit %d is not a unit of device %s in the plant file, so it has no ranges to read: give ranges or --probe", id, dev.Name)
		}
	}
	return ids, nil
}

// unitRanges are the ranges of each table of u, for readBlock.
func unitRanges(u *plant.Unit) [4][]plant.Range {
	var rs [4][]plant.Range
	for k := range rs {
		rs[k] = u.Tables[k].Ranges
	}
	return rs
}

// snapshotDevice returns the device of p whose tags snapshot --plant
// copies: the one named name (when named is true, it must exist), else the
// one whose address: is addr, else p's only one.
func snapshotDevice(p *plant.Plant, addr, name string, named bool) (*plant.Device, error) {
	if dev := p.Device(name); dev != nil {
		return dev, nil
	}
	if named {
		return nil, usagef("--plant %s has no device %q (--name): it has %s", p.File, name, deviceList(p))
	}
	for _, d := range p.Devices {
		if d.Address != "" && normalizeAddress(d.Address) == addr {
			return d, nil
		}
	}
	if len(p.Devices) == 1 {
		return p.Devices[0], nil
	}
	return nil, usagef("--plant %s: which device's tags? none is at %s and none is named %q: name one with --name (it has %s)",
		p.File, addr, name, deviceList(p))
}

// snapshotTags returns the tags of dev that snap can hold: those of a unit
// it recorded, inside what it read of their table; and a note for each
// left out, and one for all (file is where they came from).
func (a *app) snapshotTags(dev *plant.Device, snap *plant.Snapshot, file string) ([]*plant.Tag, []string) {
	var tags []*plant.Tag
	var notes []string
	for _, t := range dev.Tags {
		i := slices.IndexFunc(snap.Units, func(u plant.SnapshotUnit) bool { return u.ID == t.UnitID })
		switch {
		case i < 0:
			notes = append(notes, fmt.Sprintf("tag %s left out: unit %d was not recorded", t.Name, t.UnitID))
		case !snap.Units[i].Covers(t):
			notes = append(notes, fmt.Sprintf("tag %s left out: %s %s of unit %d not recorded", t.Name, tableWords(t.Table), a.span(t.Address, t.Registers()), t.UnitID))
		default:
			tags = append(tags, t)
		}
	}
	return tags, append(notes, fmt.Sprintf("%s of device %s in %s", plural(len(tags), "tag"), dev.Name, file))
}

// deviceList names the devices of p: "station, tanks".
func deviceList(p *plant.Plant) string {
	names := make([]string, len(p.Devices))
	for i, d := range p.Devices {
		names[i] = d.Name
	}
	return strings.Join(names, ", ")
}

// unitsText lists unit ids: "1", "1, 2, 5".
func unitsText(ids []uint8) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	return strings.Join(s, ", ")
}

// runsText lists probed runs: "no address" or "2 runs: 1000..1099, 2000..2009".
func (a *app) runsText(rs []plant.Range) string {
	if len(rs) == 0 {
		return "no address"
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = a.span(r.Start, r.Len())
	}
	return plural(len(rs), "run") + ": " + strings.Join(parts, ", ")
}

// parseRange parses "A-B" or "A" with the CLI's address rules.
func (a *app) parseRange(s string, tbl table) (plant.Range, error) {
	lo, hi, found := strings.Cut(s, "-")
	if !found {
		hi = lo
	}
	start, err := a.parseAddress(strings.TrimSpace(lo), tbl)
	if err != nil {
		return plant.Range{}, err
	}
	end, err := a.parseAddress(strings.TrimSpace(hi), tbl)
	if err != nil {
		return plant.Range{}, err
	}
	if end < start {
		return plant.Range{}, fmt.Errorf("ends before it starts")
	}
	return plant.Range{Start: start, End: end}, nil
}

// readBlock reads every item of r (the client splits it into requests).
func readBlock(ctx context.Context, c *plc.Client, k plant.TableKind, r plant.Range) (plant.Block, error) {
	b := plant.Block{Start: r.Start}
	for at := int(r.Start); at <= int(r.End); {
		n := min(int(r.End)-at+1, 60000)
		bits, regs, err := readSpan(ctx, c, k, uint16(at), uint16(n))
		if err != nil {
			return b, err
		}
		b.Bits, b.Regs = append(b.Bits, bits...), append(b.Regs, regs...)
		at += n
	}
	return b, nil
}
