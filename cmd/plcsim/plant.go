package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/pflag"

	"github.com/plcctl/plcctl/plant"
	"github.com/plcctl/plcctl/simulator"
)

// device is one device of a plant served by its own simulator.
type device struct {
	dev *plant.Device
	srv *simulator.Server
}

// plantConfig returns the simulator configuration of one device: base (the
// command line's) with the device's address, units and unknown-unit policy;
// and the plant's fault rules, parsed.
func plantConfig(p *plant.Plant, d *plant.Device, base simulator.Config) (simulator.Config, []simulator.FaultRule, error) {
	cfg := base
	if d.Address != "" {
		cfg.Listen = d.Address
	}
	cfg.Units = make(map[uint8]simulator.UnitConfig, len(d.Units))
	for _, u := range d.Units {
		cfg.Units[u.ID] = unitConfig(u)
	}
	cfg.UnknownUnit = simulator.UnknownUnitException
	if d.UnknownUnit == plant.UnknownSilence {
		cfg.UnknownUnit = simulator.UnknownUnitSilent
	}
	var rules []simulator.FaultRule
	for _, f := range p.Faults {
		r, err := simulator.ParseFaultRule(f.Rule)
		if err != nil {
			return cfg, nil, fmt.Errorf("%s:%d: %w", p.File, f.Line, err)
		}
		rules = append(rules, r)
	}
	return cfg, rules, nil
}

// unitConfig lays out one unit; its contents are written by Preload.
func unitConfig(u *plant.Unit) simulator.UnitConfig {
	table := func(k plant.TableKind) simulator.Table {
		rs := make([]simulator.Range, 0, len(u.Tables[k].Ranges)) // empty, not nil: no address at all
		for _, r := range u.Tables[k].Ranges {
			rs = append(rs, simulator.Range{First: r.Start, Last: r.End})
		}
		return simulator.Table{Ranges: rs}
	}
	uc := simulator.UnitConfig{Coils: table(plant.Coils), DiscreteInputs: table(plant.DiscreteInputs),
		HoldingRegisters: table(plant.HoldingRegisters), InputRegisters: table(plant.InputRegisters)}
	if u.Identity != nil {
		uc.Identity = simulator.Identity{Objects: u.Identity.Objects, Conformity: u.Identity.Conformity}
	}
	if id := u.ServerID; id != nil {
		uc.ServerID = &simulator.ServerID{ID: id.ID, Run: id.Run, Additional: id.Additional}
	}
	return uc
}

// preload writes every unit's initial contents (table values, tags'
// initial values, FIFOs, file records), records them as the power-on state
// a reboot returns to, and marks the retentive tags.
func preload(d device) error {
	for _, u := range d.dev.Units {
		m := d.srv.Unit(u.ID)
		if err := u.Preload(m); err != nil {
			return err
		}
		m.SetPowerOn()
		m.SetRetentive(retentive(d.dev, u.ID))
	}
	return nil
}

// retentive selects the addresses of unit id's tags marked retentive (an
// empty selection when there are none: with a plant, only those are kept).
func retentive(d *plant.Device, id uint8) *simulator.Selection {
	var rs [4][]simulator.Range
	for _, t := range d.Tags {
		if t.UnitID == id && t.Retentive {
			rs[t.Table] = append(rs[t.Table], simulator.Range{First: t.Address, Last: t.End()})
		}
	}
	return &simulator.Selection{Coils: merge(rs[plant.Coils]), DiscreteInputs: merge(rs[plant.DiscreteInputs]),
		HoldingRegisters: merge(rs[plant.HoldingRegisters]), InputRegisters: merge(rs[plant.InputRegisters])}
}

// merge sorts ranges and joins those that overlap or touch (bits of one
// register, alias tags).
func merge(rs []simulator.Range) []simulator.Range {
	slices.SortFunc(rs, func(a, b simulator.Range) int { return int(a.First) - int(b.First) })
	var out []simulator.Range
	for _, r := range rs {
		if n := len(out); n > 0 && int(r.First) <= int(out[n-1].Last)+1 {
			out[n-1].Last = max(out[n-1].Last, r.Last)
			continue
		}
		out = append(out, r)
	}
	return out
}

// plantFingerprint names what a state file of this plant depends on: the
// plant's name and its retentive tags' places and types (editing a
// description keeps the state; moving a retentive tag does not).
func plantFingerprint(p *plant.Plant, d *plant.Device) string {
	var b strings.Builder
	fmt.Fprintf(&b, "plant %q device %q\n", p.Name, d.Name)
	for _, t := range d.Tags {
		if t.Retentive {
			fmt.Fprintf(&b, "%s u%d %s %d %s %s %d %d\n", t.Name, t.UnitID, t.Table, t.Address, t.TypeName(), t.Order, t.Bit, t.Chars)
		}
	}
	return b.String()
}

// memoryOf returns the memory serving a tag, for the animator.
func memoryOf(devs []device) func(*plant.Tag) plant.LiveMemory {
	return func(t *plant.Tag) plant.LiveMemory {
		for _, d := range devs {
			if d.dev == t.Device {
				if m := d.srv.Unit(t.UnitID); m != nil {
					return m
				}
			}
		}
		return nil
	}
}

// plantRun is one device of a plant file that plcsim serves.
type plantRun struct {
	p      *plant.Plant
	dev    *plant.Device
	cfg    simulator.Config // the device's configuration
	scan   time.Duration
	faults []simulator.FaultRule // the plant's fault rules
}

// runsOf is the one device served, pl, as a list: none without a plant.
func runsOf(pl *plantRun) []*plantRun {
	if pl == nil {
		return nil
	}
	return []*plantRun{pl}
}

// loadPlant loads the plant file and returns the devices to serve, each
// with its configuration made from base: the one named, the only one, or
// every device of the file, each on its own address:. Flags that lay out
// memory do not go with a plant; --listen given explicitly overrides the
// address of a device served alone, and cannot apply to several.
func loadPlant(fs *pflag.FlagSet, path, name string, scan time.Duration, base simulator.Config) ([]*plantRun, error) {
	for _, f := range []string{"unit-ids", "unknown-unit", "coils", "discrete-inputs", "holding-registers", "input-registers"} {
		if fs.Changed(f) {
			return nil, fmt.Errorf("--%s does not go with --plant: the plant file lays out the units", f)
		}
	}
	if scan != 0 && (scan < time.Millisecond || scan > time.Hour) {
		return nil, fmt.Errorf("--scan %v: want a duration from 1ms to 1h", scan)
	}
	p, err := plant.Load(path)
	if err != nil {
		return nil, err
	}
	devs := p.Devices
	if name != "" {
		d := p.Device(name)
		if d == nil {
			return nil, fmt.Errorf("--device %q: %s has no such device (it has %s)", name, path, deviceNames(p))
		}
		devs = []*plant.Device{d}
	}
	if scan == 0 {
		scan = p.Scan
	}
	several := len(devs) > 1
	if several {
		if err := checkSeveral(fs, p); err != nil {
			return nil, err
		}
	}
	runs := make([]*plantRun, 0, len(devs))
	for _, d := range devs {
		c, rules, err := plantConfig(p, d, base)
		if err != nil {
			return nil, err
		}
		if several {
			l := base.Logger.With().Str("device", d.Name).Logger()
			c.Logger = &l
		} else if fs.Changed("listen") || c.Listen == "" {
			c.Listen = base.Listen
		}
		runs = append(runs, &plantRun{p: p, dev: d, cfg: c, scan: scan, faults: rules})
	}
	return runs, nil
}

// checkSeveral refuses what cannot apply when every device of p is served:
// a device without an address or two on one, and --listen, which holds
// one device's address.
func checkSeveral(fs *pflag.FlagSet, p *plant.Plant) error {
	n := len(p.Devices)
	if fs.Changed("listen") {
		return fmt.Errorf("--listen with %d devices (%s): each device listens on its address: from the file; give --device NAME to serve one device on --listen",
			n, deviceNames(p))
	}
	seen := map[string]*plant.Device{}
	for _, d := range p.Devices {
		if d.Address == "" {
			return fmt.Errorf("%s: device %s (line %d) has no address: give every device an address: HOST:PORT to serve them all, or serve it alone with --device %s",
				p.File, d.Name, d.Line, d.Name)
		}
		if o := seen[d.Address]; o != nil {
			return fmt.Errorf("%s: devices %s (line %d) and %s (line %d) both have address %s: one plcsim cannot serve two devices on one address",
				p.File, o.Name, o.Line, d.Name, d.Line, d.Address)
		}
		seen[d.Address] = d
	}
	return nil
}

func deviceNames(p *plant.Plant) string {
	names := make([]string, len(p.Devices))
	for i, d := range p.Devices {
		names[i] = d.Name
	}
	return strings.Join(names, ", ")
}

func (r *plantRun) preload(srv *simulator.Server) error { return preload(device{r.dev, srv}) }

// fingerprint is the state file's fingerprint extra; "" without a plant.
func (r *plantRun) fingerprint() string {
	if r == nil {
		return ""
	}
	return plantFingerprint(r.p, r.dev)
}

// animate runs one scan now, so the first request sees living values, and
// then one per scan cycle until ctx ends: the living tags of every device
// in devs, in one animator (a tag may follow one of another device).
func animate(ctx context.Context, p *plant.Plant, devs []device, scan time.Duration, log *zerolog.Logger) error {
	var tags []*plant.Tag
	names := make([]string, len(devs))
	for i, d := range devs {
		tags = append(tags, d.dev.Tags...)
		names[i] = d.dev.Name
	}
	a, err := plant.NewAnimator(p, tags, time.Now(), memoryOf(devs))
	if err != nil {
		return err
	}
	a.OnError = func(t *plant.Tag, err error) {
		log.Warn().Str("tag", t.Name).Int("line", t.Line).Err(err).Msg("living value not written (reported once per tag)")
	}
	a.Step(time.Now())
	t := time.NewTicker(scan)
	go func() {
		defer t.Stop()
		a.Run(ctx, t.C)
	}()
	log.Info().Str("plant", p.File).Str("device", strings.Join(names, ",")).Int("tags", len(tags)).Dur("scan", scan).Msg("plant loaded")
	return nil
}
