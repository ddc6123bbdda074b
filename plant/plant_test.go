package plant

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plcctl/plcctl/values"
)

func load(t *testing.T, name string) *Plant {
	t.Helper()
	p, err := Load("../testdata/plants/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPumpStation(t *testing.T) {
	p := load(t, "pump-station")
	if p.Seed != 42 || p.Scan != 100*time.Millisecond || len(p.Devices) != 1 || p.Devices[0].Address != "127.0.0.1:5020" {
		t.Fatalf("plant = seed %d scan %v devices %d", p.Seed, p.Scan, len(p.Devices))
	}
	run := p.Tag("pump1.run")
	if run == nil || run.Sim == nil || run.Sim.Kind != SimFollow || run.Sim.Follow != p.Tag("pump1.cmd") || run.Sim.Delay != 500*time.Millisecond {
		t.Fatalf("pump1.run = %+v, want a follow of pump1.cmd after 500ms", run)
	}
	lvl := p.Tag("tank1.level")
	if lvl.Table != InputRegisters || lvl.Access != ReadOnly || !lvl.Scaled || lvl.Scale != 0.01 || lvl.EngUnit != "m" ||
		lvl.Sim.Kind != SimSine || lvl.Sim.Min != 1 || lvl.Sim.Max != 4 || lvl.Sim.Period != time.Minute {
		t.Fatalf("tank1.level = %+v sim %+v", lvl, lvl.Sim)
	}
	if s := p.Tag("strokes").Sim; s.Kind != SimCounter || s.Step != 1 || s.Every != time.Second || s.Min != 0 || s.Max != 9999 {
		t.Fatalf("strokes sim = %+v", s)
	}
	u := p.Devices[0].Units[0]
	if u.ID != 1 || u.Tables[Coils].Size() != 16 || u.Tables[HoldingRegisters].Size() != 100 {
		t.Fatalf("unit = %+v", u)
	}
	img, err := u.Image(HoldingRegisters)
	if err != nil {
		t.Fatal(err)
	}
	want := []Block{
		// setpoint 2.5 float32 = 4020 0000; pressure.limit 6.5 bar / 0.1 = 65; mode.auto bit 0
		{Start: 0, Regs: []uint16{0x4020, 0x0000, 65, 0x0001}},
		{Start: 10, Regs: []uint16{0x5053, 0x2D30, 0x3100, 0, 0, 0, 0, 0}}, // "PS-01" in 16 chars
	}
	if !reflect.DeepEqual(img, want) {
		t.Fatalf("holding image = %v, want %v", img, want)
	}
	if names := tagNames(p.Devices[0].Tags); len(names) != len(p.Tags) || names[0] != "pump1.cmd" {
		t.Fatalf("device tags = %v", names)
	}
}

func tagNames(ts []*Tag) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

// TestAllTypesImage: every typed tag's initial value lands in the image as
// package values encodes it, and decodes back to the same value.
func TestAllTypesImage(t *testing.T) {
	p := load(t, "all-types")
	u := p.Devices[0].Units[0]
	regs := map[TableKind]map[uint16]uint16{}
	for _, k := range []TableKind{HoldingRegisters, InputRegisters} {
		img, err := u.Image(k)
		if err != nil {
			t.Fatal(err)
		}
		regs[k] = map[uint16]uint16{}
		for _, b := range img {
			for i, r := range b.Regs {
				regs[k][b.Start+uint16(i)] = r
			}
		}
	}
	orders := map[values.Type]map[values.WordOrder]bool{}
	for _, tag := range p.Tags {
		if tag.Table.IsBits() || tag.Initial == nil {
			continue
		}
		got := make([]uint16, tag.Registers())
		for i := range got {
			got[i] = regs[tag.Table][tag.Address+uint16(i)]
		}
		v, err := tag.DecodeValue(got)
		if err != nil || !reflect.DeepEqual(v, tag.Initial) && !(tag.Scaled && closeTo(v, tag.Initial)) {
			t.Errorf("%s: registers %04X decode to %v (%v), want %v", tag.Name, got, v, err, tag.Initial)
		}
		if !tag.Bool && !tag.Scaled && tag.Type != values.String {
			want, err := values.Encode(tag.Type, tag.Order, tag.Initial)
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("%s: registers %04X, values.Encode gives %04X (%v)", tag.Name, got, want, err)
			}
			if orders[tag.Type] == nil {
				orders[tag.Type] = map[values.WordOrder]bool{}
			}
			orders[tag.Type][tag.Order] = true
		}
	}
	for _, typ := range []values.Type{values.Uint16, values.Int16, values.Uint32, values.Int32, values.Uint64, values.Int64, values.Float32, values.Float64} {
		if len(orders[typ]) != 4 {
			t.Errorf("all-types.yaml has %s in %d word orders, want all 4", typ, len(orders[typ]))
		}
	}
	// A few layouts by hand (MODBUS-NOTES §7): float32 123.456 in CDAB, the
	// string, the bits of register 96.
	for name, want := range map[string][]uint16{
		"hr.float32.cdab": {0xE979, 0x42F6}, "hr.float32.dcba": {0x79E9, 0xF642},
		"hr.string": {0x504C, 0x432D, 0x3031}, "hr.string.odd": {0x4142, 0x4300, 0},
		"hr.string.swapped": {0x4C50, 0x3143},
	} {
		tag := p.Tag(name)
		got := []uint16{}
		for i := range want {
			got = append(got, regs[tag.Table][tag.Address+uint16(i)])
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s = %04X, want %04X", name, got, want)
		}
	}
	if r := regs[HoldingRegisters][p.Tag("hr.bit0").Address]; r != 0x8001 {
		t.Errorf("bits register = %04X, want 8001 (bit 0 and bit 15 set)", r)
	}
}

func closeTo(a, b any) bool {
	x, _ := toFloat(a)
	y, _ := toFloat(b)
	d := x - y
	return d < 1e-6*max(1, abs(y)) && -d < 1e-6*max(1, abs(y))
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// fakeMemory records what Preload writes.
type fakeMemory struct {
	bits  map[TableKind]map[uint16]bool
	regs  map[TableKind]map[uint16]uint16
	fifos map[uint16][]uint16
	files map[[2]uint16][]uint16
}

func newFake() *fakeMemory {
	return &fakeMemory{bits: map[TableKind]map[uint16]bool{Coils: {}, DiscreteInputs: {}},
		regs: map[TableKind]map[uint16]uint16{HoldingRegisters: {}, InputRegisters: {}}, fifos: map[uint16][]uint16{}, files: map[[2]uint16][]uint16{}}
}

func (m *fakeMemory) setBits(k TableKind, a uint16, v []bool) {
	for i, b := range v {
		m.bits[k][a+uint16(i)] = b
	}
}
func (m *fakeMemory) setRegs(k TableKind, a uint16, v []uint16) {
	for i, r := range v {
		m.regs[k][a+uint16(i)] = r
	}
}
func (m *fakeMemory) SetCoils(a uint16, v ...bool)              { m.setBits(Coils, a, v) }
func (m *fakeMemory) SetDiscreteInputs(a uint16, v ...bool)     { m.setBits(DiscreteInputs, a, v) }
func (m *fakeMemory) SetHoldingRegisters(a uint16, v ...uint16) { m.setRegs(HoldingRegisters, a, v) }
func (m *fakeMemory) SetInputRegisters(a uint16, v ...uint16)   { m.setRegs(InputRegisters, a, v) }
func (m *fakeMemory) SetFIFO(a uint16, v ...uint16)             { m.fifos[a] = v }
func (m *fakeMemory) SetFileRecord(f, r uint16, v ...uint16)    { m.files[[2]uint16{f, r}] = v }

func TestSparse(t *testing.T) {
	p := load(t, "sparse")
	d := p.Devices[0]
	if d.UnknownUnit != UnknownSilence || len(d.Units) != 2 {
		t.Fatalf("device = %+v", d)
	}
	u := d.Unit(1)
	hr := u.Tables[HoldingRegisters]
	if want := []Range{{39, 39}, {1000, 1099}, {2000, 2009}}; !reflect.DeepEqual(hr.Ranges, want) {
		t.Fatalf("holding ranges = %v, want %v (one-based numbering converted)", hr.Ranges, want)
	}
	for _, c := range []struct {
		addr uint16
		n    int
		ok   bool
	}{{39, 1, true}, {38, 1, false}, {40, 1, false}, {1000, 100, true}, {1000, 101, false}, {0, 1, false}, {2009, 1, true}, {2009, 2, false}} {
		if got := hr.Contains(c.addr, c.n); got != c.ok {
			t.Errorf("holding Contains(%d, %d) = %v, want %v", c.addr, c.n, got, c.ok)
		}
	}
	if u.Tables[DiscreteInputs].Size() != 0 || u.Tables[Coils].Ranges[0] != (Range{100, 115}) {
		t.Errorf("coils %v, discrete inputs %v", u.Tables[Coils].Ranges, u.Tables[DiscreteInputs].Ranges)
	}
	if u.ServerID == nil || !reflect.DeepEqual(u.ServerID.Bytes(), append([]byte{0x2A, 0xFF}, "AM-200"...)) {
		t.Errorf("server id = %+v", u.ServerID)
	}
	if s := d.Unit(2).ServerID; s == nil || !reflect.DeepEqual(s.Bytes(), append([]byte("meter-2"), 0x00)) {
		t.Errorf("unit 2 server id = %+v", s)
	}
	if id := u.Identity; id == nil || id.Objects[0] != "ACME Meters" || id.Objects[2] != "2.11" || id.Objects[6] != "feeder 3" || id.Objects[0x81] != "calibrated 2026-01-01" {
		t.Errorf("identity = %+v", u.Identity)
	}
	m := newFake()
	if err := u.Preload(m); err != nil {
		t.Fatal(err)
	}
	if got := m.regs[HoldingRegisters]; got[1000] != 1 || got[1003] != 4 || got[2002] != 300 || got[39] != 7 || len(got) != 8 {
		t.Errorf("holding registers preloaded = %v", got)
	}
	if got := m.regs[InputRegisters]; got[100] != 0x1234 || got[101] != 0xABCD || len(got) != 2 {
		t.Errorf("input registers preloaded = %v", got)
	}
	if !reflect.DeepEqual(m.fifos, map[uint16][]uint16{1050: {0x01B8, 0x1284}, 2004: nil}) {
		t.Errorf("fifos = %v", m.fifos)
	}
	if !reflect.DeepEqual(m.files, map[[2]uint16][]uint16{{3, 9}: {0x33CD, 0x0040}, {4, 1}: {0x0DFE, 0x0020}}) {
		t.Errorf("files = %v", m.files)
	}
	m2 := newFake()
	if err := d.Unit(2).Preload(m2); err != nil || m2.regs[HoldingRegisters][0] != 42 || len(m2.regs[HoldingRegisters]) != 1 {
		t.Errorf("unit 2 preload = %v, %v", m2.regs, err)
	}
	if tags, err := p.Lookup("energy", "relay1"); err != nil || len(tags) != 2 || tags[0].Address != 100 {
		t.Errorf("Lookup = %v, %v", tags, err)
	}
	if _, err := p.Lookup("relay", "nope"); err == nil {
		t.Error("Lookup(relay, nope) = nil error")
	}
}

// TestReadmeExample: the plant file shown in the README parses.
func TestReadmeExample(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "## Plant file")
	_, blk, ok2 := strings.Cut(sec, "```yaml\n")
	blk, _, ok3 := strings.Cut(blk, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README has no yaml example under \"## Plant file\"")
	}
	p, err := Parse([]byte(blk), "README.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Tags) < 5 || p.Tag("pump1.run").Sim.Follow != p.Tag("pump1.cmd") {
		t.Errorf("README example parsed to %d tags", len(p.Tags))
	}
}
