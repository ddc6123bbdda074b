package plant

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"time"
)

// LiveMemory is a unit memory that living values read and write: Memory
// plus the table readers. *simulator.Memory offers it; it is declared here
// so that neither package imports the other.
type LiveMemory interface {
	Memory
	Coils(addr, n uint16) []bool
	DiscreteInputs(addr, n uint16) []bool
	HoldingRegisters(addr, n uint16) []uint16
	InputRegisters(addr, n uint16) []uint16
}

// maxPending bounds the changes a follow tag remembers while their delay
// runs (a source toggled every scan under a long delay): past it the oldest
// are dropped.
const maxPending = 4096

// Animator computes a plant's living values (Tag.Sim) once per scan and
// writes them into the units' memories. Step is driven by the caller's
// clock, so a test gets the same values from the same times and seed.
type Animator struct {
	start time.Time
	scans uint64
	tags  []*live
	// OnError, when set, hears a tag's value that cannot be written (it
	// does not fit, or the memory lacks its address), once per tag.
	OnError func(t *Tag, err error)
}

// live is the state of one living tag.
type live struct {
	t, src   *Tag
	m, srcM  LiveMemory
	rng      *rand.Rand
	walk     float64 // random-walk: the value; uptime: the count at the first scan
	started  bool
	last     any
	pending  []change
	reported bool
}

type change struct {
	due time.Time
	v   any
}

// NewAnimator prepares the living values among tags (p.Tags, or one
// device's Tags) from start, the time uptime and the waveforms count from.
// memory returns the memory of a tag's unit (nil when it is not served,
// which is an error for a living tag or a followed one).
func NewAnimator(p *Plant, tags []*Tag, start time.Time, memory func(*Tag) LiveMemory) (*Animator, error) {
	a := &Animator{start: start}
	var errs []error
	for _, t := range tags {
		if t.Sim == nil {
			continue
		}
		l := &live{t: t, m: memory(t)}
		if l.m == nil {
			errs = append(errs, fmt.Errorf("plant: tag %s (line %d): no memory for unit %d of device %s", t.Name, t.Line, t.UnitID, t.Device.Name))
			continue
		}
		switch t.Sim.Kind {
		case SimFollow:
			l.src = t.Sim.Follow
			if l.srcM = memory(l.src); l.srcM == nil {
				if l.src.Device != t.Device {
					errs = append(errs, fmt.Errorf("plant: tag %s follows %s of device %s, which is not served with %s", t.Name, l.src.Name, l.src.Device.Name, t.Device.Name))
				} else {
					errs = append(errs, fmt.Errorf("plant: tag %s follows %s, whose unit %d is not served", t.Name, l.src.Name, l.src.UnitID))
				}
				continue
			}
		case SimRandomWalk:
			l.rng = walkRand(p.Seed, t)
			l.walk = (t.Sim.Min + t.Sim.Max) / 2
			if f, ok := toFloat(t.Initial); ok {
				l.walk = max(t.Sim.Min, min(t.Sim.Max, f))
			}
		}
		a.tags = append(a.tags, l)
	}
	return a, errors.Join(errs...)
}

// walkRand seeds a random walk from the tag's own seed, or the plant's and
// the tag's name, so that tags walk independently and reproducibly.
func walkRand(seed uint64, t *Tag) *rand.Rand {
	if t.Sim.HasSeed {
		return rand.New(rand.NewPCG(t.Sim.Seed, 0))
	}
	h := fnv.New64a()
	h.Write([]byte(t.Name))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// Run calls Step for every time received from ticks until ctx ends or
// ticks is closed (cmd/plcsim passes a time.Ticker's channel: the scan
// cycle).
func (a *Animator) Run(ctx context.Context, ticks <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case now, ok := <-ticks:
			if !ok {
				return
			}
			a.Step(now)
		}
	}
}

// Step runs one scan at time now: every living tag, in file order, is
// computed and written (a follow tag reads its source as it is now).
func (a *Animator) Step(now time.Time) {
	for _, l := range a.tags {
		if err := a.stepTag(l, now); err != nil && !l.reported {
			l.reported = true
			if a.OnError != nil {
				a.OnError(l.t, err)
			}
		}
	}
	a.scans++
}

func (a *Animator) stepTag(l *live, now time.Time) error {
	if l.t.Sim.Kind == SimFollow {
		return l.follow(now)
	}
	return write(l.t, l.m, a.numeric(l, now))
}

// numeric returns a numeric living value in engineering units at now.
func (a *Animator) numeric(l *live, now time.Time) float64 {
	s, t := l.t.Sim, l.t
	elapsed := now.Sub(a.start)
	if elapsed < 0 {
		elapsed = 0
	}
	switch s.Kind {
	case SimCounter:
		n := float64(a.scans)
		if s.Every > 0 {
			n = float64(elapsed / s.Every)
		}
		span := s.Max - s.Min + math.Abs(s.Step)
		if s.Step < 0 {
			return s.Max - math.Mod(n*-s.Step, span)
		}
		return s.Min + math.Mod(n*s.Step, span)
	case SimRamp:
		return s.Min + (s.Max-s.Min)*float64(elapsed%s.Period)/float64(s.Period)
	case SimSine:
		return (s.Min+s.Max)/2 + (s.Max-s.Min)/2*math.Sin(2*math.Pi*float64(elapsed%s.Period)/float64(s.Period))
	case SimRandomWalk:
		if l.started {
			l.walk = max(s.Min, min(s.Max, l.walk+(2*l.rng.Float64()-1)*s.Step))
		}
		l.started = true
		return l.walk
	case SimUptime:
		if !l.started {
			// Count on from what the memory holds at the first scan: the
			// initial value, or what --state kept (operating hours).
			l.started = true
			if v, err := read(t, l.m); err == nil {
				l.walk, _ = toFloat(v)
			}
		}
		return l.walk + whole(t, elapsed.Seconds())
	case SimClock:
		return whole(t, float64(now.UnixNano())/1e9)
	}
	return 0
}

// whole drops the fraction of a count of seconds for an unscaled integer
// tag, which would otherwise be rounded up half a second early.
func whole(t *Tag, secs float64) float64 {
	if t.isInt() && !t.Scaled {
		return math.Floor(secs)
	}
	return secs
}

// follow takes the source's value Delay after each change of it; at the
// first scan it takes the source's value at once.
func (l *live) follow(now time.Time) error {
	v, err := read(l.src, l.srcM)
	if err != nil {
		return err
	}
	if !l.started {
		// Power-on: the follower starts in step with its source.
		l.started, l.last = true, v
		l.pending = append(l.pending, change{due: now, v: v})
	} else if v != l.last {
		l.last = v
		if len(l.pending) == maxPending {
			l.pending = l.pending[1:]
		}
		l.pending = append(l.pending, change{due: now.Add(l.t.Sim.Delay), v: v})
	}
	var out any
	n := 0
	for _, c := range l.pending {
		if c.due.After(now) {
			break
		}
		out, n = c.v, n+1
	}
	if n == 0 {
		return nil
	}
	l.pending = l.pending[n:]
	if b, ok := out.(bool); ok && l.t.Sim.Invert {
		out = !b
	}
	return write(l.t, l.m, out)
}

// read returns tag t's engineering value from m.
func read(t *Tag, m LiveMemory) (any, error) {
	n := uint16(t.Registers())
	var regs []uint16
	switch t.Table {
	case Coils, DiscreteInputs:
		bits := m.Coils(t.Address, 1)
		if t.Table == DiscreteInputs {
			bits = m.DiscreteInputs(t.Address, 1)
		}
		if len(bits) != 1 {
			return nil, fmt.Errorf("plant: tag %s: %s %d is not in the memory", t.Name, t.Table, t.Address)
		}
		return bits[0], nil
	case HoldingRegisters:
		regs = m.HoldingRegisters(t.Address, n)
	default:
		regs = m.InputRegisters(t.Address, n)
	}
	if len(regs) != int(n) {
		return nil, fmt.Errorf("plant: tag %s: %s %d..%d are not all in the memory", t.Name, t.Table, t.Address, t.End())
	}
	return t.DecodeValue(regs)
}

// write stores engineering value v of tag t in m.
func write(t *Tag, m LiveMemory, v any) error {
	if t.Bool {
		b, ok := v.(bool)
		if !ok {
			return &TagError{Tag: t.Name, Err: fmt.Errorf("value %v is not a bool", v)}
		}
		switch t.Table {
		case Coils:
			m.SetCoils(t.Address, b)
			return nil
		case DiscreteInputs:
			m.SetDiscreteInputs(t.Address, b)
			return nil
		}
		return writeBit(t, m, b)
	}
	regs, err := t.EncodeValue(v)
	if err != nil {
		return err
	}
	switch t.Table {
	case HoldingRegisters:
		m.SetHoldingRegisters(t.Address, regs...)
	case InputRegisters:
		m.SetInputRegisters(t.Address, regs...)
	default:
		return &TagError{Tag: t.Name, Err: fmt.Errorf("a number tag cannot live in %s", t.Table)}
	}
	return nil
}

// writeBit sets a bit tag's bit in its register, leaving the other bits.
// (Read, modify, write: a client write to the same register between the two
// can be lost, as in a PLC program that does the same.)
func writeBit(t *Tag, m LiveMemory, b bool) error {
	get, set := m.HoldingRegisters, m.SetHoldingRegisters
	if t.Table == InputRegisters {
		get, set = m.InputRegisters, m.SetInputRegisters
	}
	cur := get(t.Address, 1)
	if len(cur) != 1 {
		return fmt.Errorf("plant: tag %s: %s %d is not in the memory", t.Name, t.Table, t.Address)
	}
	and, or := t.Mask(b)
	set(t.Address, cur[0]&and|or&^and)
	return nil
}
