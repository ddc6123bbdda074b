package simulator

import (
	"fmt"
	"maps"
	"slices"

	"github.com/plcctl/plcctl/modbus"
)

// UnitConfig lays out and fills one unit's memory (Config.Units).
type UnitConfig struct {
	// Each table as a size or as address ranges; the zero Table is
	// DefaultTableSize items from address 0.
	Coils, DiscreteInputs, HoldingRegisters, InputRegisters Table
	Identity                                                Identity            // zero value = DefaultIdentity
	FIFOs                                                   map[uint16][]uint16 // FC 24 queues by pointer address
	Files                                                   map[uint16][]uint16 // file number -> records from record 0
	ServerID                                                *ServerID           // FC 17 answer; nil: FC 17 gets 01
}

func (u UnitConfig) validate(where string) []error {
	var errs []error
	for name, t := range map[string]Table{"coils": u.Coils, "discrete inputs": u.DiscreteInputs,
		"holding registers": u.HoldingRegisters, "input registers": u.InputRegisters} {
		if _, err := t.ranges(); err != nil {
			errs = append(errs, fmt.Errorf("simulator: %s%s: %w", where, name, err))
		}
	}
	for addr, q := range u.FIFOs {
		if len(q) > modbus.MaxFIFOCount {
			// Served as configured (FC 24 answers 03, as the spec says),
			// but a configuration asking for it is more likely a mistake.
			errs = append(errs, fmt.Errorf("simulator: %sfifo at %d: %d values, more than %d", where, addr, len(q), modbus.MaxFIFOCount))
		}
	}
	for file, recs := range u.Files {
		if file == 0 {
			errs = append(errs, fmt.Errorf("simulator: %sfile 0: file numbers are 1..65535", where))
		}
		if len(recs) > modbus.MaxFileRecord+1 {
			errs = append(errs, fmt.Errorf("simulator: %sfile %d: %d records, more than 10000", where, file, len(recs)))
		}
	}
	if id := u.ServerID; id != nil && len(id.ID)+1+len(id.Additional) > modbus.MaxServerIDLen {
		errs = append(errs, fmt.Errorf("simulator: %sserver id: %d bytes with the run indicator, more than %d",
			where, len(id.ID)+1+len(id.Additional), modbus.MaxServerIDLen))
	}
	return errs
}

// defaultUnit is the unit the flat Config fields describe.
func (c Config) defaultUnit() UnitConfig {
	return UnitConfig{Coils: Table{Size: c.Coils}, DiscreteInputs: Table{Size: c.DiscreteInputs},
		HoldingRegisters: Table{Size: c.HoldingRegisters}, InputRegisters: Table{Size: c.InputRegisters},
		Identity: c.Identity, ServerID: c.ServerID}
}

// newMemories builds the default memory and, in gateway mode, the memory of
// each unit served (nil map: every unit id shares the default memory).
func newMemories(c Config) (*Memory, map[uint8]*Memory) {
	switch {
	case len(c.Units) > 0:
		units := make(map[uint8]*Memory, len(c.Units))
		for id, u := range c.Units {
			units[id] = newMemory(u, c.MaxFileRegisters)
		}
		ids := slices.Sorted(maps.Keys(units))
		return units[ids[0]], units
	case len(c.UnitIDs) > 0:
		// The first unit listed is the default memory; the direct-TCP ids
		// 0 and 255 address it too [IG §4.4.1.2].
		def := newMemory(c.defaultUnit(), c.MaxFileRegisters)
		units := map[uint8]*Memory{c.UnitIDs[0]: def, 0: def, modbus.UnitIDNotUsed: def}
		for _, id := range c.UnitIDs[1:] {
			if units[id] == nil {
				units[id] = newMemory(c.defaultUnit(), c.MaxFileRegisters)
			}
		}
		return def, units
	}
	return newMemory(c.defaultUnit(), c.MaxFileRegisters), nil
}

// UnknownUnitPolicy is what a request for a unit id without a memory gets.
type UnknownUnitPolicy int

const (
	// UnknownUnitException answers 0B, gateway target device failed to
	// respond [AP §7], as a gateway with nothing behind that id does. The
	// default.
	UnknownUnitException UnknownUnitPolicy = iota
	// UnknownUnitSilent sends nothing, as a device on a serial line that is
	// not there; the client times out.
	UnknownUnitSilent
)

// String returns "exception" or "silent", as ParseUnknownUnit takes them.
func (p UnknownUnitPolicy) String() string {
	if p == UnknownUnitSilent {
		return "silent"
	}
	return "exception"
}

// ParseUnknownUnit parses "exception" (or "0b") and "silent".
func ParseUnknownUnit(s string) (UnknownUnitPolicy, error) {
	switch s {
	case "exception", "0b", "0B":
		return UnknownUnitException, nil
	case "silent", "ignore":
		return UnknownUnitSilent, nil
	}
	return 0, fmt.Errorf("simulator: unknown-unit policy %q: want exception or silent", s)
}

// unknownUnit is the answer to a request for a unit id without a memory:
// exception 0B, or none (rsp nil) under UnknownUnitSilent.
func (s *Server) unknownUnit(fc modbus.FunctionCode, id uint8) outcome {
	if s.cfg.UnknownUnit == UnknownUnitSilent {
		return outcome{}
	}
	return exception(fc, modbus.GatewayTargetDeviceFailedToRespond, "no device at unit id "+itoa(int(id)))
}
