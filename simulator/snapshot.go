package simulator

import (
	"fmt"
	"maps"
	"slices"
)

// Block is a run of items from Address.
type Block[T any] struct {
	Address uint16 `json:"address"`
	Values  []T    `json:"values"`
}

// FileBlock is a run of file records from Record in File.
type FileBlock struct {
	File   uint16   `json:"file"`
	Record uint16   `json:"record"`
	Values []uint16 `json:"values"`
}

// Snapshot is the contents of one memory, or of a Selection of it: the runs
// of non-zero items (every other item selected is zero), FIFO queues and
// file records. It is plain data, safe to encode as JSON.
type Snapshot struct {
	Coils            []Block[bool]       `json:"coils,omitempty"`
	DiscreteInputs   []Block[bool]       `json:"discrete_inputs,omitempty"`
	HoldingRegisters []Block[uint16]     `json:"holding_registers,omitempty"`
	InputRegisters   []Block[uint16]     `json:"input_registers,omitempty"`
	FIFOs            map[uint16][]uint16 `json:"fifos,omitempty"`
	Files            []FileBlock         `json:"files,omitempty"`
}

// Selection picks parts of a memory: address ranges of each table (nil:
// none of it), and whether FIFOs and files are included. A nil *Selection
// means everything.
type Selection struct {
	Coils, DiscreteInputs, HoldingRegisters, InputRegisters []Range
	FIFOs, Files                                            bool
}

// all returns a selection of every item of m.
func (m *Memory) all() *Selection {
	c, d, h, i := m.Layout()
	return &Selection{Coils: c, DiscreteInputs: d, HoldingRegisters: h, InputRegisters: i, FIFOs: true, Files: true}
}

// Snapshot returns the contents of m within sel (nil: all of it).
func (m *Memory) Snapshot(sel *Selection) Snapshot {
	if sel == nil {
		sel = m.all()
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.snapshotLocked(sel)
}

func (m *Memory) snapshotLocked(sel *Selection) Snapshot {
	s := Snapshot{Coils: runs(&m.coils, sel.Coils), DiscreteInputs: runs(&m.discrete, sel.DiscreteInputs),
		HoldingRegisters: runs(&m.holding, sel.HoldingRegisters), InputRegisters: runs(&m.input, sel.InputRegisters)}
	if sel.FIFOs && len(m.fifo) > 0 {
		s.FIFOs = make(map[uint16][]uint16, len(m.fifo))
		for k, v := range m.fifo {
			s.FIFOs[k] = append([]uint16{}, v...) // an empty queue is [] in JSON, not null
		}
	}
	if sel.Files {
		s.Files = m.files.blocks()
	}
	return s
}

// Restore sets m to snap within sel (nil: all of m): every selected item
// not in snap becomes zero, and, when selected, the FIFOs and files are
// replaced. A block outside the selection or outside m's tables is an error,
// and then nothing changes.
func (m *Memory) Restore(snap Snapshot, sel *Selection) error {
	if sel == nil {
		sel = m.all()
	}
	if err := m.checkSnapshot(snap, sel); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.restoreLocked(snap, sel)
	return nil
}

func (m *Memory) restoreLocked(snap Snapshot, sel *Selection) {
	apply(&m.coils, sel.Coils, snap.Coils)
	apply(&m.discrete, sel.DiscreteInputs, snap.DiscreteInputs)
	apply(&m.holding, sel.HoldingRegisters, snap.HoldingRegisters)
	apply(&m.input, sel.InputRegisters, snap.InputRegisters)
	if sel.FIFOs {
		m.fifo = make(map[uint16][]uint16, len(snap.FIFOs))
		for k, v := range snap.FIFOs {
			m.fifo[k] = slices.Clone(v)
		}
	}
	if sel.Files {
		m.files.reset()
		for _, b := range snap.Files {
			m.files.set(b.File, b.Record, b.Values)
		}
	}
}

func (m *Memory) checkSnapshot(snap Snapshot, sel *Selection) error {
	for _, err := range []error{
		checkBlocks("coils", &m.coils, sel.Coils, snap.Coils),
		checkBlocks("discrete inputs", &m.discrete, sel.DiscreteInputs, snap.DiscreteInputs),
		checkBlocks("holding registers", &m.holding, sel.HoldingRegisters, snap.HoldingRegisters),
		checkBlocks("input registers", &m.input, sel.InputRegisters, snap.InputRegisters),
	} {
		if err != nil {
			return err
		}
	}
	if len(snap.FIFOs) > 0 && !sel.FIFOs {
		return fmt.Errorf("simulator: snapshot has fifos, which are not selected")
	}
	if len(snap.Files) > 0 && !sel.Files {
		return fmt.Errorf("simulator: snapshot has files, which are not selected")
	}
	for _, b := range snap.Files {
		if b.File == 0 || int(b.Record)+len(b.Values) > 10000 {
			return fmt.Errorf("simulator: snapshot file %d records %d..%d: file numbers are 1..65535, records 0..9999",
				b.File, b.Record, int(b.Record)+len(b.Values)-1)
		}
	}
	return nil
}

func checkBlocks[T any](name string, t *table[T], sel []Range, bs []Block[T]) error {
	for _, b := range bs {
		n := len(b.Values)
		if n == 0 {
			continue
		}
		if int(b.Address)+n > DefaultTableSize || t.span(b.Address, n) == nil || !within(sel, b.Address, n) {
			return fmt.Errorf("simulator: snapshot %s %d..%d: outside %s or the selection", name,
				b.Address, int(b.Address)+n-1, t.describe())
		}
	}
	return nil
}

// within reports whether items addr..addr+n-1 are all in one of rs.
func within(rs []Range, addr uint16, n int) bool {
	for _, r := range rs {
		if int(addr) >= int(r.First) && int(addr)+n-1 <= int(r.Last) {
			return true
		}
	}
	return false
}

// maxZeroGap is the longest run of zeros kept inside a block rather than
// splitting it: fewer, longer blocks.
const maxZeroGap = 8

// runs returns the non-zero runs of t within the ranges sel.
func runs[T comparable](t *table[T], sel []Range) []Block[T] {
	var zero T
	var out []Block[T]
	for _, r := range sel {
		for a := int(r.First); a <= int(r.Last); {
			v := t.clip(uint16(a), int(r.Last)-a+1)
			if len(v) == 0 {
				a++ // not in the table: skip
				continue
			}
			start, gap := -1, 0
			flush := func(end int) {
				if start >= 0 {
					out = append(out, Block[T]{Address: uint16(a + start), Values: slices.Clone(v[start:end])})
				}
				start = -1
			}
			for i, x := range v {
				switch {
				case x != zero:
					if start < 0 {
						start = i
					}
					gap = 0
				case start >= 0:
					if gap++; gap > maxZeroGap {
						flush(i - gap + 1)
						gap = 0
					}
				}
			}
			if start >= 0 {
				flush(len(v) - gap)
			}
			a += len(v)
		}
	}
	return out
}

// apply zeroes the ranges sel of t, then writes the blocks.
func apply[T any](t *table[T], sel []Range, bs []Block[T]) {
	for _, r := range sel {
		for a := int(r.First); a <= int(r.Last); {
			v := t.clip(uint16(a), int(r.Last)-a+1)
			if len(v) == 0 {
				a++
				continue
			}
			clear(v)
			a += len(v)
		}
	}
	for _, b := range bs {
		copy(t.clip(b.Address, len(b.Values)), b.Values)
	}
}

// blocks returns the stored file records as runs, by file and record.
func (f *fileStore) blocks() []FileBlock {
	var out []FileBlock
	for _, k := range slices.Sorted(maps.Keys(f.chunks)) {
		c := f.chunks[k]
		file, rec := uint16(k>>16), uint16(k&0xFFFF)*fileChunk
		if n := len(out); n > 0 && out[n-1].File == file && int(out[n-1].Record)+len(out[n-1].Values) == int(rec) {
			out[n-1].Values = append(out[n-1].Values, c[:]...)
			continue
		}
		out = append(out, FileBlock{File: file, Record: rec, Values: slices.Clone(c[:])})
	}
	return out
}

// ServerSnapshot is the contents of every memory of a server, by unit id
// (the key "default" when every unit id shares one memory).
type ServerSnapshot struct {
	Units map[string]Snapshot `json:"units"`
}

// memories returns each distinct memory with the name ServerSnapshot uses:
// "default" for the shared memory, else the lowest unit id configured for
// it. 0 and 255 name a memory only when no other id addresses it: with
// UnitIDs 1,5 unit 1's memory is "1", though 0 and 255 address it too (it
// was "0", and a snapshot naming "1" was refused).
func (s *Server) memories() (names []string, mems []*Memory) {
	return s.memoriesNamed(false)
}

// memoriesNamed is memories; lowest names each memory by the lowest unit id
// addressing it, 0 and 255 included, as memories did before: Fingerprint
// keeps that name, so that state files saved before still load.
func (s *Server) memoriesNamed(lowest bool) (names []string, mems []*Memory) {
	if s.units == nil {
		return []string{"default"}, []*Memory{s.m}
	}
	index := map[*Memory]int{}
	for _, id := range s.UnitIDs() { // ascending: 0 first, 255 last
		m := s.units[id]
		i, ok := index[m]
		if !ok {
			index[m] = len(mems)
			names, mems = append(names, itoa(int(id))), append(mems, m)
		} else if !lowest && names[i] == "0" && id != 0xFF {
			names[i] = itoa(int(id)) // a configured id, not the alias 0
		}
	}
	return names, mems
}

// memoryByName maps the names a snapshot may give a memory to it: its name,
// and every other unit id addressing it (a state file or snapshot made
// when the memory was named by its alias 0 still restores).
func (s *Server) memoryByName() (map[string]*Memory, []string) {
	names, mems := s.memories()
	byName := make(map[string]*Memory, len(names))
	for i, n := range names {
		byName[n] = mems[i]
	}
	for id, m := range s.units {
		if _, ok := byName[itoa(int(id))]; !ok {
			byName[itoa(int(id))] = m
		}
	}
	return byName, names
}

// Snapshot returns the contents of every memory.
func (s *Server) Snapshot() ServerSnapshot {
	names, mems := s.memories()
	out := ServerSnapshot{Units: make(map[string]Snapshot, len(names))}
	for i, m := range mems {
		out.Units[names[i]] = m.Snapshot(nil)
	}
	return out
}

// Restore sets every memory named in snap to its contents (memories not
// named are left alone). A name that is not one of the server's memories, or
// a block outside a memory's tables, is an error, and then nothing changes.
func (s *Server) Restore(snap ServerSnapshot) error {
	byName, names := s.memoryByName()
	for n, ms := range snap.Units {
		m, ok := byName[n]
		if !ok {
			return fmt.Errorf("simulator: snapshot names memory %q; this server has %v", n, names)
		}
		if err := m.checkSnapshot(ms, m.all()); err != nil {
			return fmt.Errorf("unit %s: %w", n, err)
		}
	}
	for n, ms := range snap.Units {
		m := byName[n]
		m.mu.Lock()
		m.restoreLocked(ms, m.all())
		m.mu.Unlock()
	}
	return nil
}

// Memories returns each distinct memory of the server once, in unit id
// order (the shared memory alone when every unit id shares one).
func (s *Server) Memories() []*Memory {
	_, mems := s.memories()
	return mems
}
