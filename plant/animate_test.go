package plant_test

import (
	"context"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/plcctl/plcctl/plant"
	"github.com/plcctl/plcctl/simulator"
)

var _ plant.LiveMemory = (*simulator.Memory)(nil) // what cmd/plcsim passes

const livePlant = `version: 1
seed: %SEED%
scan: 100ms
devices:
  - name: d
    units: [{id: 1}]
    tags:
      - {name: count, table: holding_register, address: 0, type: uint16, sim: {kind: counter, max: 4}}
      - {name: strokes, table: holding_register, address: 1, type: uint16, sim: {kind: counter, step: 10, every: 1s, max: 100}}
      - {name: ramp, table: input_register, address: 0, type: float32, order: CDAB, sim: {kind: ramp, min: 0, max: 100, period: 10s}}
      - {name: sine, table: input_register, address: 2, type: int16, scale: 0.1, sim: {kind: sine, min: -5, max: 5, period: 4s}}
      - {name: walk, table: input_register, address: 3, type: uint16, scale: 0.01, initial: 2.0, sim: {kind: random-walk, min: 0.5, max: 3.5, step: 0.05}}
      - {name: up, table: input_register, address: 4, type: uint32, sim: {kind: uptime}}
      - {name: hours, table: holding_register, address: 4, type: uint32, initial: 100, sim: {kind: uptime}}
      - {name: clock, table: input_register, address: 6, type: uint64, order: DCBA, sim: {kind: clock}}
      - {name: cmd, table: coil, address: 0}
      - {name: run, table: discrete_input, address: 0, sim: {kind: follow, tag: cmd, delay: 500ms}}
      - {name: fault, table: holding_register, address: 9, bit: 3, sim: {kind: follow, tag: cmd, delay: 200ms, invert: true}}
`

func animated(t *testing.T, seed string) (*plant.Plant, *simulator.Memory, *plant.Animator, time.Time) {
	t.Helper()
	p, err := plant.Parse([]byte(replace(livePlant, "%SEED%", seed)), "live.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := simulator.New(simulator.Config{Units: map[uint8]simulator.UnitConfig{1: {}}})
	if err != nil {
		t.Fatal(err)
	}
	m := srv.Unit(1)
	if err := p.Devices[0].Units[0].Preload(m); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	a, err := plant.NewAnimator(p, p.Tags, start, func(*plant.Tag) plant.LiveMemory { return m })
	if err != nil {
		t.Fatal(err)
	}
	a.OnError = func(tag *plant.Tag, err error) { t.Errorf("tag %s: %v", tag.Name, err) }
	return p, m, a, start
}

func replace(s, old, new string) string {
	for i := 0; i+len(old) <= len(s); i++ {
		if s[i:i+len(old)] == old {
			return s[:i] + new + s[i+len(old):]
		}
	}
	return s
}

func value(t *testing.T, p *plant.Plant, m *simulator.Memory, name string) any {
	t.Helper()
	tag := p.Tag(name)
	var regs []uint16
	switch tag.Table {
	case plant.Coils:
		return m.Coils(tag.Address, 1)[0]
	case plant.DiscreteInputs:
		return m.DiscreteInputs(tag.Address, 1)[0]
	case plant.HoldingRegisters:
		regs = m.HoldingRegisters(tag.Address, uint16(tag.Registers()))
	default:
		regs = m.InputRegisters(tag.Address, uint16(tag.Registers()))
	}
	v, err := tag.DecodeValue(regs)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestAnimatorScans: each living kind at known scan times of an injected
// clock (100 ms scans).
func TestAnimatorScans(t *testing.T) {
	p, m, a, start := animated(t, "42")
	at := func(ms int) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }
	type want struct {
		tag string
		v   any
	}
	check := func(scan int, ws ...want) {
		t.Helper()
		for _, w := range ws {
			got := value(t, p, m, w.tag)
			if f, ok := w.v.(float64); ok {
				if g, ok := got.(float64); ok && math.Abs(g-f) < 1e-9 {
					continue
				}
				if g, ok := got.(float32); ok && math.Abs(float64(g)-f) < 1e-3 {
					continue
				}
			}
			if got != w.v {
				t.Errorf("scan %d: %s = %v (%T), want %v (%T)", scan, w.tag, got, got, w.v, w.v)
			}
		}
	}
	clock := uint64(start.Unix())
	for scan := 0; scan <= 40; scan++ {
		if scan == 12 {
			m.SetCoils(0, true) // the command at 1.2 s
		}
		a.Step(at(100 * scan))
		switch scan {
		case 0:
			check(scan, want{"count", uint16(0)}, want{"strokes", uint16(0)}, want{"ramp", 0.0}, want{"sine", 0.0},
				want{"walk", 2.0}, want{"up", uint32(0)}, want{"clock", clock}, want{"run", false}, want{"fault", true})
		case 3:
			check(scan, want{"count", uint16(3)})
		case 5:
			check(scan, want{"count", uint16(0)}) // 0..4, then wraps
		case 10:
			check(scan, want{"strokes", uint16(10)}, want{"ramp", 10.0}, want{"sine", 5.0}, want{"up", uint32(1)}, want{"hours", uint32(101)},
				want{"clock", clock + 1})
		case 13:
			check(scan, want{"fault", true}, want{"run", false})
		case 14:
			check(scan, want{"fault", false}, want{"run", false}) // 200 ms after the command
		case 16:
			check(scan, want{"run", false})
		case 17:
			check(scan, want{"run", true}) // 500 ms after the command
		case 19:
			check(scan, want{"up", uint32(1)}) // 1.9 s: whole seconds, not rounded up
		case 30:
			check(scan, want{"sine", -5.0}, want{"ramp", 30.0}, want{"strokes", uint16(30)})
		}
		w := value(t, p, m, "walk").(float64)
		if w < 0.5 || w > 3.5 {
			t.Fatalf("scan %d: walk %v outside 0.5..3.5", scan, w)
		}
	}
}

// TestAnimatorSeed: the same seed and times give the same values; another
// seed another walk.
func TestAnimatorSeed(t *testing.T) {
	walk := func(seed string) []any {
		p, m, a, start := animated(t, seed)
		var out []any
		for scan := range 50 {
			a.Step(start.Add(time.Duration(scan) * 100 * time.Millisecond))
			out = append(out, value(t, p, m, "walk"))
		}
		return out
	}
	a, b, c := walk("7"), walk("7"), walk("8")
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("seed 7 twice:\n%v\n%v", a, b)
	}
	if reflect.DeepEqual(a, c) {
		t.Fatal("seeds 7 and 8 walked the same")
	}
	moved := 0
	for i := 1; i < len(a); i++ {
		d := math.Abs(a[i].(float64) - a[i-1].(float64))
		if d > 0.05+1e-9 {
			t.Fatalf("scan %d: moved %v, more than the step 0.05", i, d)
		}
		if d > 0 {
			moved++
		}
	}
	if moved < 25 {
		t.Fatalf("the walk moved in %d of 49 scans", moved)
	}
}

// TestAnimatorRun: Run steps once per tick until its context ends.
func TestAnimatorRun(t *testing.T) {
	p, m, a, start := animated(t, "1")
	ticks := make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx, ticks); close(done) }()
	for i := range 3 {
		select {
		case ticks <- start.Add(time.Duration(i) * 100 * time.Millisecond):
		case <-time.After(5 * time.Second):
			t.Fatal("Run does not take ticks")
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if got := value(t, p, m, "count"); got != uint16(2) {
		t.Fatalf("count after 3 ticks = %v, want 2", got)
	}
}
