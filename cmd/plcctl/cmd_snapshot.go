package main

import (
	"context"
	"fmt"
	"strings"

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
finds them short of trying each. Only reads are sent.`, probeBound(defaultProbeStep, modbus.MaxReadRegisters))
	c.example = []string{"snapshot -a plc-3 --coils 0-99 --holding-registers 0-199 > plc-3.yaml",
		"snapshot -a plc-3 -u 2 --probe > plc-3-unit2.yaml"}
	c.notes = []string{addressHelp}
	c.run = func(ctx context.Context, args []string) error {
		if len(args) != 0 {
			return usagef("snapshot takes no arguments, got %q (ranges go in --coils, --holding-registers, ...)", args[0])
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
		if !given && !*probe {
			return usagef("nothing to record: give ranges (--coils 0-99, --holding-registers 0-199, ...) or --probe")
		}
		cl, err := a.connect(ctx)
		if err != nil {
			return &opError{cmd: c.name, err: err}
		}
		// The address read from is the device's address: in the file, so
		// that plcctl --plant FILE talks to it and plcsim --plant FILE
		// listens on it (or on --listen).
		snap := &plant.Snapshot{Device: *name, Address: a.clientAddrOr(), UnitID: a.opts.unit}
		var notes []string
		for k := range spans {
			kind := plant.TableKind(k)
			if len(spans[k]) == 0 && *probe {
				found, n, err := probeTable(ctx, cl, kind, *step)
				if err != nil {
					return &opError{cmd: c.name, span: tableWords(kind) + " probe", err: err}
				}
				note := fmt.Sprintf("%s: %s in %d requests (at most %d with --probe-step %d)",
					tableWords(kind), a.runsText(found), n, probeBound(*step, maxQty(kind)), *step)
				fmt.Fprintf(a.stderr, "snapshot: probe %s\n", note)
				notes = append(notes, "probed "+note)
				spans[k] = found
			}
			for _, r := range spans[k] {
				b, err := readBlock(ctx, cl, kind, r)
				if err != nil {
					return &opError{cmd: c.name, span: tableWords(kind) + " " + a.span(r.Start, r.Len()), err: err}
				}
				snap.Tables[k] = append(snap.Tables[k], b)
			}
		}
		if !*tablesOnly {
			more, err := a.snapshotIdentity(ctx, cl, snap)
			if err != nil {
				return &opError{cmd: c.name, err: err}
			}
			notes = append(notes, more...)
		}
		snap.Comment = fmt.Sprintf("Recorded by plcctl snapshot from %s unit %d at %s.\n"+
			"Serve it with: plcsim --plant FILE (on %s, its address; --listen HOST:PORT serves it elsewhere)\n%s",
			snap.Address, a.opts.unit, now().UTC().Format(timeLayout), snap.Address, strings.Join(notes, "\n"))
		return plant.WriteSnapshot(a.stdout, snap)
	}
	return c
}

// snapshotIdentity records the device identification and the server id
// into snap, reports each on stderr and returns the notes for the file.
func (a *app) snapshotIdentity(ctx context.Context, cl *plc.Client, snap *plant.Snapshot) ([]string, error) {
	id, notes, err := recordIdentity(ctx, cl)
	if err != nil {
		return nil, err
	}
	sid, note, err := recordServerID(ctx, cl)
	if err != nil {
		return nil, err
	}
	snap.Identity, snap.ServerID = id, sid
	notes = append(notes, note)
	for _, n := range notes {
		fmt.Fprintf(a.stderr, "snapshot: %s\n", n)
	}
	return notes, nil
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
