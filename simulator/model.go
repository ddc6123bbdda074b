package simulator

import (
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

// model is the simulated device memory. One mutex guards it all: requests are
// short and a PLC scan is atomic too.
type model struct {
	mu       sync.RWMutex
	coils    []bool
	discrete []bool
	holding  []uint16
	input    []uint16
	fifo     map[uint16][]uint16
	files    map[uint16][]uint16 // file number -> 10000 records, allocated on first write
	identity Identity
}

func newModel(c Config) *model {
	return &model{
		coils:    make([]bool, c.Coils),
		discrete: make([]bool, c.DiscreteInputs),
		holding:  make([]uint16, c.HoldingRegisters),
		input:    make([]uint16, c.InputRegisters),
		fifo:     make(map[uint16][]uint16),
		files:    make(map[uint16][]uint16),
		identity: c.Identity,
	}
}

// Accessors for tests and tools. They clip silently at the end of a table.

// Coils returns n coils from addr.
func (s *Server) Coils(addr, n uint16) []bool { return getBits(s, s.m.coils, addr, n) }

// DiscreteInputs returns n discrete inputs from addr.
func (s *Server) DiscreteInputs(addr, n uint16) []bool { return getBits(s, s.m.discrete, addr, n) }

// HoldingRegisters returns n holding registers from addr.
func (s *Server) HoldingRegisters(addr, n uint16) []uint16 { return getRegs(s, s.m.holding, addr, n) }

// InputRegisters returns n input registers from addr.
func (s *Server) InputRegisters(addr, n uint16) []uint16 { return getRegs(s, s.m.input, addr, n) }

// SetCoils sets coils from addr.
func (s *Server) SetCoils(addr uint16, v ...bool) { setItems(s, s.m.coils, addr, v) }

// SetDiscreteInputs sets discrete inputs from addr.
func (s *Server) SetDiscreteInputs(addr uint16, v ...bool) { setItems(s, s.m.discrete, addr, v) }

// SetHoldingRegisters sets holding registers from addr.
func (s *Server) SetHoldingRegisters(addr uint16, v ...uint16) { setItems(s, s.m.holding, addr, v) }

// SetInputRegisters sets input registers from addr.
func (s *Server) SetInputRegisters(addr uint16, v ...uint16) { setItems(s, s.m.input, addr, v) }

// SetFIFO sets the FIFO queue read by FC 24 at pointer address addr. More
// than 31 values make FC 24 answer exception 03 [AP §6.18].
func (s *Server) SetFIFO(addr uint16, v ...uint16) {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.m.fifo[addr] = append([]uint16(nil), v...)
}

// SetFileRecord sets registers of file (1..65535) from record (0..9999).
func (s *Server) SetFileRecord(file, record uint16, v ...uint16) {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	f := s.m.file(file)
	copy(f[min(int(record), len(f)):], v)
}

// FileRecord returns n registers of file from record.
func (s *Server) FileRecord(file, record, n uint16) []uint16 {
	s.m.mu.RLock()
	defer s.m.mu.RUnlock()
	out := make([]uint16, n)
	if f, ok := s.m.files[file]; ok {
		copy(out, f[min(int(record), len(f)):])
	}
	return out
}

// file returns the records of a file, allocating it. Caller holds mu.
func (m *model) file(n uint16) []uint16 {
	f, ok := m.files[n]
	if !ok {
		f = make([]uint16, modbus.MaxFileRecord+1)
		m.files[n] = f
	}
	return f
}

func getBits(s *Server, t []bool, addr, n uint16) []bool {
	s.m.mu.RLock()
	defer s.m.mu.RUnlock()
	return append([]bool(nil), t[min(int(addr), len(t)):min(int(addr)+int(n), len(t))]...)
}

func getRegs(s *Server, t []uint16, addr, n uint16) []uint16 {
	s.m.mu.RLock()
	defer s.m.mu.RUnlock()
	return append([]uint16(nil), t[min(int(addr), len(t)):min(int(addr)+int(n), len(t))]...)
}

func setItems[T any](s *Server, t []T, addr uint16, v []T) {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	copy(t[min(int(addr), len(t)):], v)
}

// CopyData copies every table, FIFO and file of src into s (tables are
// clipped to s's sizes).
func (s *Server) CopyData(src *Server) {
	src.m.mu.RLock()
	defer src.m.mu.RUnlock()
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	copy(s.m.coils, src.m.coils)
	copy(s.m.discrete, src.m.discrete)
	copy(s.m.holding, src.m.holding)
	copy(s.m.input, src.m.input)
	for k, v := range src.m.fifo {
		s.m.fifo[k] = append([]uint16(nil), v...)
	}
	for k, v := range src.m.files {
		s.m.files[k] = append([]uint16(nil), v...)
	}
}
