package plant

import (
	"fmt"
	"sort"
	"strings"
)

// Tag returns the tag called name, or nil.
func (p *Plant) Tag(name string) *Tag { return p.byName[name] }

// Device returns the device called name, or nil.
func (p *Plant) Device(name string) *Device {
	for _, d := range p.Devices {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// Lookup returns the tags called names, in that order, or an error naming
// every unknown name (with the closest known names as a hint).
func (p *Plant) Lookup(names ...string) ([]*Tag, error) {
	out := make([]*Tag, 0, len(names))
	var unknown []string
	for _, n := range names {
		if t := p.byName[n]; t != nil {
			out = append(out, t)
		} else {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) == 0 {
		return out, nil
	}
	msg := fmt.Sprintf("plant: %s: no tag %s", p.File, strings.Join(quoteAll(unknown), ", "))
	if hint := p.similar(unknown[0]); len(hint) > 0 {
		msg += " (did you mean " + strings.Join(hint, ", ") + "?)"
	}
	return nil, fmt.Errorf("%s", msg)
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = fmt.Sprintf("%q", x)
	}
	return out
}

// similar returns up to three tag names close to name: within two edits,
// or containing it.
func (p *Plant) similar(name string) []string {
	var out []string
	lname := strings.ToLower(name)
	for _, t := range p.Tags {
		ln := strings.ToLower(t.Name)
		if editDistance(ln, lname) <= 2 || len(lname) >= 3 && strings.Contains(ln, lname) {
			out = append(out, t.Name)
			if len(out) == 3 {
				break
			}
		}
	}
	return out
}

// Memory is what Preload writes a unit's initial contents into: one unit's
// memory of the simulator (*simulator.Server offers these methods). Declared
// here so that neither package imports the other.
type Memory interface {
	SetCoils(addr uint16, v ...bool)
	SetDiscreteInputs(addr uint16, v ...bool)
	SetHoldingRegisters(addr uint16, v ...uint16)
	SetInputRegisters(addr uint16, v ...uint16)
}

// FIFOMemory and FileMemory are the optional parts of a Memory that Preload
// uses when present.
type (
	FIFOMemory interface {
		SetFIFO(addr uint16, v ...uint16)
	}
	FileMemory interface {
		SetFileRecord(file, record uint16, v ...uint16)
	}
)

// Preload writes the unit's initial contents into m: the tables' values,
// then the tags' initial values over them, then FIFOs and file records when
// m can hold them. Addresses without a value are not written (a new memory
// is zero).
func (u *Unit) Preload(m Memory) error {
	for k := Coils; k <= InputRegisters; k++ {
		img, err := u.Image(k)
		if err != nil {
			return err
		}
		for _, b := range img {
			switch k {
			case Coils:
				m.SetCoils(b.Start, b.Bits...)
			case DiscreteInputs:
				m.SetDiscreteInputs(b.Start, b.Bits...)
			case HoldingRegisters:
				m.SetHoldingRegisters(b.Start, b.Regs...)
			case InputRegisters:
				m.SetInputRegisters(b.Start, b.Regs...)
			}
		}
	}
	if fm, ok := m.(FIFOMemory); ok {
		for _, f := range u.FIFOs {
			fm.SetFIFO(f.Address, f.Values...)
		}
	}
	if fm, ok := m.(FileMemory); ok {
		for _, r := range u.Records {
			fm.SetFileRecord(r.File, r.Record, r.Values...)
		}
	}
	return nil
}

// Image returns the initial contents of table k: the table's values with
// the unit's tags' initial values written over them, as sorted runs of
// consecutive addresses. A bit tag inside a register changes only its bit.
func (u *Unit) Image(k TableKind) ([]Block, error) {
	t := &u.Tables[k]
	bits, regs := map[uint16]bool{}, map[uint16]uint16{}
	for _, b := range t.Blocks {
		for i, v := range b.Bits {
			bits[b.Start+uint16(i)] = v
		}
		for i, v := range b.Regs {
			regs[b.Start+uint16(i)] = v
		}
	}
	for _, tag := range u.Device.Tags {
		if tag.UnitID != u.ID || tag.Table != k || tag.Initial == nil {
			continue
		}
		switch {
		case k.IsBits():
			bits[tag.Address] = tag.Initial.(bool)
		case tag.Bool:
			and, or := tag.Mask(tag.Initial.(bool))
			regs[tag.Address] = regs[tag.Address]&and | or&^and
		default:
			rs, err := tag.EncodeValue(tag.Initial)
			if err != nil {
				return nil, err
			}
			for i, r := range rs {
				regs[tag.Address+uint16(i)] = r
			}
		}
	}
	if k.IsBits() {
		return runs(bits, func(b *Block, v bool) { b.Bits = append(b.Bits, v) }), nil
	}
	return runs(regs, func(b *Block, v uint16) { b.Regs = append(b.Regs, v) }), nil
}

// runs groups a sparse map into blocks of consecutive addresses.
func runs[V any](m map[uint16]V, add func(*Block, V)) []Block {
	addrs := make([]int, 0, len(m))
	for a := range m {
		addrs = append(addrs, int(a))
	}
	sort.Ints(addrs)
	var out []Block
	for i, a := range addrs {
		if i == 0 || a != addrs[i-1]+1 {
			out = append(out, Block{Start: uint16(a)})
		}
		add(&out[len(out)-1], m[uint16(a)])
	}
	return out
}

// editDistance is the Levenshtein distance of a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
