package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plant"
	"github.com/plcctl/plcctl/plc"
)

// probeRequests bounds --probe: one request at address 0, one at 65535,
// then a binary search over the 65534 addresses between (16 requests).
const probeRequests = 18

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
	probe := c.flags.Bool("probe", false, "find the extent of each table not given a range (exception 02 marks its end)")
	name := c.flags.String("name", "snapshot", "device `NAME` in the plant file")
	c.long = fmt.Sprintf(`Reads the given ranges of each table from the device (-a, -u) and writes a plant file
to stdout that plcsim --plant serves with exactly those addresses and values: record a
real PLC, replay it in CI. A table without a range is written as having no address
(every request for it is answered with exception 02), unless --probe finds its extent:
it reads one item at address 0, then at 65535, then bisects between the last address
that answered and the first that answered exception 02, at most %d requests per table.
The probe assumes a table that starts at address 0 and has no holes; a table whose
address 0 answers 02 is recorded as empty. Only reads are sent.`, probeRequests)
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
		if !given && !*probe {
			return usagef("nothing to record: give ranges (--coils 0-99, --holding-registers 0-199, ...) or --probe")
		}
		cl, err := a.connect(ctx)
		if err != nil {
			return &opError{cmd: c.name, err: err}
		}
		snap := &plant.Snapshot{Device: *name, UnitID: a.opts.unit}
		var notes []string
		for k := range spans {
			kind := plant.TableKind(k)
			if len(spans[k]) == 0 && *probe {
				r, n, err := a.probeTable(ctx, cl, kind)
				if err != nil {
					return &opError{cmd: c.name, span: tableWords(kind) + " probe", err: err}
				}
				notes = append(notes, fmt.Sprintf("%s: probed in %d requests: %s", kind, n, extentText(r)))
				if r != nil {
					spans[k] = []plant.Range{*r}
				}
			}
			for _, r := range spans[k] {
				b, err := readBlock(ctx, cl, kind, r)
				if err != nil {
					return &opError{cmd: c.name, span: tableWords(kind) + " " + a.span(r.Start, r.Len()), err: err}
				}
				snap.Tables[k] = append(snap.Tables[k], b)
			}
		}
		snap.Comment = fmt.Sprintf("Recorded by plcctl snapshot from %s unit %d at %s.\nServe it with: plcsim --plant FILE\n%s",
			a.clientAddrOr(), a.opts.unit, now().UTC().Format(timeLayout), strings.Join(notes, "\n"))
		return plant.WriteSnapshot(a.stdout, snap)
	}
	return c
}

func extentText(r *plant.Range) string {
	if r == nil {
		return "address 0 answered exception 02, recorded as no address"
	}
	return fmt.Sprintf("addresses %d..%d", r.Start, r.End)
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

// probeTable finds the extent of table k: the addresses 0..N-1 that answer,
// where N is the first address answered with exception 02. It returns nil
// when address 0 itself answers 02, and the requests it sent.
func (a *app) probeTable(ctx context.Context, c *plc.Client, k plant.TableKind) (*plant.Range, int, error) {
	sent := 0
	exists := func(addr uint16) (bool, error) {
		sent++
		_, _, err := readSpan(ctx, c, k, addr, 1)
		if errors.Is(err, modbus.IllegalDataAddress) {
			return false, nil
		}
		return err == nil, err
	}
	ok, err := exists(0)
	if err != nil || !ok {
		return nil, sent, err
	}
	if ok, err = exists(65535); err != nil || ok {
		return &plant.Range{Start: 0, End: 65535}, sent, err
	}
	lo, hi := 0, 65535 // lo answers, hi does not
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		ok, err := exists(uint16(mid))
		if err != nil {
			return nil, sent, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return &plant.Range{Start: 0, End: uint16(lo)}, sent, nil
}
