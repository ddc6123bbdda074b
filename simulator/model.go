package simulator

import (
	"slices"
	"sort"
	"sync"

	"github.com/plcctl/plcctl/modbus"
)

// Identity holds the FC 43/14 device identification objects [AP §6.21].
type Identity struct {
	Objects map[uint8]string
	// Conformity overrides the conformity level byte; 0 derives it from the
	// objects present, with individual access (0x80) always supported.
	Conformity uint8
}

// DefaultIdentity is plcsim's own identification: basic and regular objects.
func DefaultIdentity() Identity {
	return Identity{Objects: map[uint8]string{
		modbus.ObjectVendorName:         "plcctl",
		modbus.ObjectProductCode:        "plcsim",
		modbus.ObjectMajorMinorRevision: "1.0",
		modbus.ObjectVendorURL:          "https://github.com/plcctl/plcctl",
		modbus.ObjectProductName:        "plcsim strict Modbus TCP simulator",
		modbus.ObjectModelName:          "plcsim",
	}}
}

func (id Identity) conformity() uint8 {
	if id.Conformity != 0 {
		return id.Conformity
	}
	level := uint8(0x01)
	for k := range id.Objects {
		switch {
		case k >= 0x80:
			level = max(level, 0x03)
		case k >= 0x03:
			level = max(level, 0x02)
		}
	}
	return level | 0x80
}

// ids returns the object ids of a stream category in order.
func (id Identity) ids(code uint8) []uint8 {
	var out []uint8
	for k := range id.Objects {
		if k <= 0x02 || (code >= modbus.DeviceIDRegular && k <= 0x06) || (code >= modbus.DeviceIDExtended && k >= 0x80) {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// ServerID is what a unit answers to FC 17, Report Server ID [AP §6.13]:
// the device-specific server id, the run indicator and optional additional
// data, in that order.
type ServerID struct {
	ID         []byte
	Run        bool // run indicator ON (0xFF) or OFF (0x00)
	Additional []byte
}

// data returns the response data after the byte count.
func (id ServerID) data() []byte {
	run := modbus.RunIndicatorOff
	if id.Run {
		run = modbus.RunIndicatorOn
	}
	return append(append(slices.Clip(id.ID), run), id.Additional...)
}

// Memory is one unit's simulated memory: its four tables, FIFO queues, file
// records, identification and server id. One mutex guards it all: requests
// are short and a PLC scan is atomic too. It is safe for concurrent use.
//
// The accessors are for tests, tools and living values. They clip silently
// at the end of an address range, and ignore addresses that do not exist.
type Memory struct {
	mu       sync.RWMutex
	coils    table[bool]
	discrete table[bool]
	holding  table[uint16]
	input    table[uint16]
	fifo     map[uint16][]uint16
	files    *fileStore
	identity Identity
	serverID []byte     // FC 17 response data; nil: FC 17 not supported (01)
	retain   *Selection // survives a reboot; nil: nothing
	powerOn  *Snapshot  // what a reboot restores the rest to
}

// newMemory builds a unit's memory from a checked configuration.
func newMemory(u UnitConfig, maxFileRegisters int) *Memory {
	m := &Memory{fifo: make(map[uint16][]uint16), files: newFileStore(maxFileRegisters), identity: u.Identity}
	if m.identity.Objects == nil {
		m.identity = DefaultIdentity()
	}
	rs, _ := u.Coils.ranges()
	m.coils = newTable[bool](rs)
	rs, _ = u.DiscreteInputs.ranges()
	m.discrete = newTable[bool](rs)
	rs, _ = u.HoldingRegisters.ranges()
	m.holding = newTable[uint16](rs)
	rs, _ = u.InputRegisters.ranges()
	m.input = newTable[uint16](rs)
	for addr, v := range u.FIFOs {
		m.fifo[addr] = slices.Clone(v)
	}
	for file, v := range u.Files {
		m.files.set(file, 0, v)
	}
	if u.ServerID != nil {
		m.serverID = u.ServerID.data()
	}
	p := m.snapshotLocked(m.all())
	m.powerOn = &p
	return m
}

// Coils returns n coils from addr.
func (m *Memory) Coils(addr, n uint16) []bool { return get(m, &m.coils, addr, n) }

// DiscreteInputs returns n discrete inputs from addr.
func (m *Memory) DiscreteInputs(addr, n uint16) []bool { return get(m, &m.discrete, addr, n) }

// HoldingRegisters returns n holding registers from addr.
func (m *Memory) HoldingRegisters(addr, n uint16) []uint16 { return get(m, &m.holding, addr, n) }

// InputRegisters returns n input registers from addr.
func (m *Memory) InputRegisters(addr, n uint16) []uint16 { return get(m, &m.input, addr, n) }

// SetCoils sets coils from addr.
func (m *Memory) SetCoils(addr uint16, v ...bool) { set(m, &m.coils, addr, v) }

// SetDiscreteInputs sets discrete inputs from addr.
func (m *Memory) SetDiscreteInputs(addr uint16, v ...bool) { set(m, &m.discrete, addr, v) }

// SetHoldingRegisters sets holding registers from addr.
func (m *Memory) SetHoldingRegisters(addr uint16, v ...uint16) { set(m, &m.holding, addr, v) }

// SetInputRegisters sets input registers from addr.
func (m *Memory) SetInputRegisters(addr uint16, v ...uint16) { set(m, &m.input, addr, v) }

// SetFIFO sets the FIFO queue read by FC 24 at pointer address addr. More
// than 31 values make FC 24 answer exception 03 [AP §6.18].
func (m *Memory) SetFIFO(addr uint16, v ...uint16) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fifo[addr] = slices.Clone(v)
}

// SetFileRecord sets registers of file (1..65535) from record (0..9999).
// Values past record 9999 are ignored.
func (m *Memory) SetFileRecord(file, record uint16, v ...uint16) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files.set(file, record, v)
}

// FileRecord returns n registers of file from record.
func (m *Memory) FileRecord(file, record, n uint16) []uint16 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]uint16, n)
	m.files.read(file, record, out)
	return out
}

// Layout returns the address ranges of each table, in the order coils,
// discrete inputs, holding registers, input registers.
func (m *Memory) Layout() (coils, discrete, holding, input []Range) {
	return m.coils.layout(), m.discrete.layout(), m.holding.layout(), m.input.layout()
}

func get[T any](m *Memory, t *table[T], addr, n uint16) []T {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(t.clip(addr, int(n)))
}

func set[T any](m *Memory, t *table[T], addr uint16, v []T) {
	m.mu.Lock()
	defer m.mu.Unlock()
	copy(t.clip(addr, len(v)), v)
}

// copyFrom copies every table, FIFO and file of src into m (items m does
// not have are skipped). Lock order: src, then m.
func (m *Memory) copyFrom(src *Memory) {
	if m == src {
		return
	}
	src.mu.RLock()
	defer src.mu.RUnlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.coils.copyFrom(&src.coils)
	m.discrete.copyFrom(&src.discrete)
	m.holding.copyFrom(&src.holding)
	m.input.copyFrom(&src.input)
	for k, v := range src.fifo {
		m.fifo[k] = slices.Clone(v)
	}
	for _, b := range src.files.blocks() {
		m.files.set(b.File, b.Record, b.Values)
	}
}

// Unit returns the memory that serves unit id, or nil when the unit is not
// served (it gets Config.UnknownUnit). Without Units or UnitIDs every unit id
// shares the default memory.
func (s *Server) Unit(id uint8) *Memory {
	if s.units == nil {
		return s.m
	}
	return s.units[id]
}

// UnitIDs returns the unit ids served by a memory of their own (plus 0 and
// 255 in UnitIDs mode), in order; nil when every unit id shares one memory.
func (s *Server) UnitIDs() []uint8 {
	if s.units == nil {
		return nil
	}
	ids := make([]uint8, 0, len(s.units))
	for id := range s.units {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// The Server's accessors act on the default memory: the one every unit id
// shares, or in UnitIDs mode the first listed unit's (which 0 and 255 also
// address), or with Units the lowest unit id's.

// Coils returns n coils from addr of the default memory.
func (s *Server) Coils(addr, n uint16) []bool { return s.m.Coils(addr, n) }

// DiscreteInputs returns n discrete inputs from addr of the default memory.
func (s *Server) DiscreteInputs(addr, n uint16) []bool { return s.m.DiscreteInputs(addr, n) }

// HoldingRegisters returns n holding registers from addr of the default memory.
func (s *Server) HoldingRegisters(addr, n uint16) []uint16 { return s.m.HoldingRegisters(addr, n) }

// InputRegisters returns n input registers from addr of the default memory.
func (s *Server) InputRegisters(addr, n uint16) []uint16 { return s.m.InputRegisters(addr, n) }

// SetCoils sets coils from addr of the default memory.
func (s *Server) SetCoils(addr uint16, v ...bool) { s.m.SetCoils(addr, v...) }

// SetDiscreteInputs sets discrete inputs from addr of the default memory.
func (s *Server) SetDiscreteInputs(addr uint16, v ...bool) { s.m.SetDiscreteInputs(addr, v...) }

// SetHoldingRegisters sets holding registers from addr of the default memory.
func (s *Server) SetHoldingRegisters(addr uint16, v ...uint16) { s.m.SetHoldingRegisters(addr, v...) }

// SetInputRegisters sets input registers from addr of the default memory.
func (s *Server) SetInputRegisters(addr uint16, v ...uint16) { s.m.SetInputRegisters(addr, v...) }

// SetFIFO sets a FIFO queue of the default memory; see Memory.SetFIFO.
func (s *Server) SetFIFO(addr uint16, v ...uint16) { s.m.SetFIFO(addr, v...) }

// SetFileRecord sets file records of the default memory; see Memory.SetFileRecord.
func (s *Server) SetFileRecord(file, record uint16, v ...uint16) {
	s.m.SetFileRecord(file, record, v...)
}

// FileRecord returns n registers of file from record of the default memory.
func (s *Server) FileRecord(file, record, n uint16) []uint16 { return s.m.FileRecord(file, record, n) }

// CopyData copies every table, FIFO and file of src into s, memory by
// memory (the default memory into the default memory, each unit into the
// same unit), clipped to s's tables.
func (s *Server) CopyData(src *Server) {
	s.m.copyFrom(src.m)
	for id, m := range s.units {
		if sm := src.Unit(id); sm != nil {
			m.copyFrom(sm)
		}
	}
}
