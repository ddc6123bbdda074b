package simulator_test

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// TestUnitIDsSeparateMemories is the regression for "-u 1 write-register 0
// 111 then -u 5 read-holding-registers 0 gives 111": in UnitIDs mode each
// unit has its own memory; 0 and 255 address the first unit listed.
func TestUnitIDsSeparateMemories(t *testing.T) {
	s := simtest.Start(t, simulator.Config{UnitIDs: []uint8{1, 5}})
	c := dialRaw(t, s.Addr)
	if got := c.roundTrip(adu(1, 1, &modbus.WriteSingleRegister{Address: 0, Value: 111})); got[7] != 0x06 {
		t.Fatalf("write to unit 1: % X", got)
	}
	for _, tc := range []struct {
		unit uint8
		want uint16
	}{{5, 0}, {1, 111}, {0, 111}, {255, 111}} {
		got := c.roundTrip(adu(2, tc.unit, modbus.NewReadHoldingRegisters(0, 1)))
		if v := uint16(got[9])<<8 | uint16(got[10]); got[7] != 0x03 || v != tc.want {
			t.Errorf("unit %d register 0: % X, want value %d", tc.unit, got[7:], tc.want)
		}
	}
	if s.Unit(1) == s.Unit(5) || s.Unit(1) != s.Unit(0) || s.Unit(9) != nil {
		t.Errorf("Unit(1)=%p Unit(5)=%p Unit(0)=%p Unit(9)=%v: want 1 and 0 shared, 5 separate, 9 nil",
			s.Unit(1), s.Unit(5), s.Unit(0), s.Unit(9))
	}
	if got := s.Unit(5).HoldingRegisters(0, 1); got[0] != 0 {
		t.Errorf("Unit(5) register 0 = %d, want 0", got[0])
	}
	if got := s.HoldingRegisters(0, 1); got[0] != 111 {
		t.Errorf("default memory register 0 = %d, want 111 (unit 1 is the default)", got[0])
	}
	if s.Unit(42) != nil || simtest.Start(t, simulator.Config{}).Unit(42) == nil {
		t.Error("Unit(42): want nil in gateway mode, the shared memory otherwise")
	}
}

// rangedUnits is a gateway whose units have sparse tables, tables starting
// above 0, FIFOs, files, identification and a server id.
func rangedUnits() simulator.Config {
	return simulator.Config{Units: map[uint8]simulator.UnitConfig{
		1: {
			Coils:            simulator.Table{Ranges: []simulator.Range{{First: 100, Last: 115}}},
			DiscreteInputs:   simulator.Table{Ranges: []simulator.Range{}},
			HoldingRegisters: simulator.Table{Ranges: []simulator.Range{{First: 1, Last: 9}, {First: 20, Last: 29}, {First: 10, Last: 12}}},
			InputRegisters:   simulator.Table{Size: 4},
			Identity:         simulator.Identity{Objects: map[uint8]string{0: "ACME", 1: "PUMP-7", 2: "3.1"}},
			FIFOs:            map[uint16][]uint16{5: {7, 8, 9}},
			Files:            map[uint16][]uint16{3: {0x1111, 0x2222}},
			ServerID:         &simulator.ServerID{ID: []byte{0x2A}, Run: true, Additional: []byte("v1")},
		},
		2: {HoldingRegisters: simulator.Table{Size: 10}},
	}}
}

// TestUnitRanges: a request wholly inside a range is served; one naming any
// item outside every range, or straddling a gap, is answered 02.
func TestUnitRanges(t *testing.T) {
	s := simtest.Start(t, rangedUnits())
	c := dialRaw(t, s.Addr)
	s.Unit(1).SetHoldingRegisters(20, 0xBEEF)
	cases := []struct {
		name string
		unit uint8
		req  modbus.PDU
		want []byte // response PDU
	}{
		{"coil table above 0: first", 1, modbus.NewReadCoils(100, 16), []byte{0x01, 2, 0, 0}},
		{"coil below the range", 1, modbus.NewReadCoils(99, 1), []byte{0x81, 0x02}},
		{"coil past the range", 1, modbus.NewReadCoils(110, 7), []byte{0x81, 0x02}},
		{"coil 0 does not exist", 1, &modbus.WriteSingleCoil{Address: 0, Value: 0xFF00}, []byte{0x85, 0x02}},
		{"no discrete inputs", 1, modbus.NewReadDiscreteInputs(0, 1), []byte{0x82, 0x02}},
		{"holding 0 illegal", 1, modbus.NewReadHoldingRegisters(0, 1), []byte{0x83, 0x02}},
		{"holding joined 1..12", 1, modbus.NewReadHoldingRegisters(9, 4), []byte{0x03, 8, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"holding across the gap", 1, modbus.NewReadHoldingRegisters(12, 9), []byte{0x83, 0x02}},
		{"holding in the gap", 1, &modbus.WriteSingleRegister{Address: 15, Value: 1}, []byte{0x86, 0x02}},
		{"holding second range", 1, modbus.NewReadHoldingRegisters(20, 1), []byte{0x03, 2, 0xBE, 0xEF}},
		{"fc23 write in gap", 1, modbus.NewReadWriteRegisters(20, 1, 13, []uint16{1}), []byte{0x97, 0x02}},
		{"input size 4", 1, modbus.NewReadInputRegisters(3, 2), []byte{0x84, 0x02}},
		{"fifo configured", 1, &modbus.ReadFIFOQueue{Address: 5}, []byte{0x18, 0, 8, 0, 3, 0, 7, 0, 8, 0, 9}},
		{"fifo pointer outside holding", 1, &modbus.ReadFIFOQueue{Address: 0}, []byte{0x98, 0x02}},
		{"file configured", 1, &modbus.ReadFileRecord{SubRequests: []modbus.FileSubRequest{{RefType: 6, File: 3, Record: 0, Length: 3}}},
			[]byte{0x14, 8, 7, 6, 0x11, 0x11, 0x22, 0x22, 0, 0}},
		{"server id", 1, &modbus.ReportServerID{}, []byte{0x11, 4, 0x2A, 0xFF, 'v', '1'}},
		{"server id not configured", 2, &modbus.ReportServerID{}, []byte{0x91, 0x01}},
		{"identity per unit", 1, &modbus.ReadDeviceID{Code: 4, ObjectID: 1}, append([]byte{0x2B, 0x0E, 4, 0x81, 0, 0, 1, 1, 6}, "PUMP-7"...)},
		{"unit 2 own table", 2, modbus.NewReadHoldingRegisters(0, 10), append([]byte{0x03, 20}, make([]byte, 20)...)},
		{"unit 2 past its table", 2, modbus.NewReadHoldingRegisters(0, 11), []byte{0x83, 0x02}},
		{"unit 0 not listed", 0, modbus.NewReadHoldingRegisters(1, 1), []byte{0x83, 0x0B}},
		{"unit 255 not listed", 255, modbus.NewReadHoldingRegisters(1, 1), []byte{0x83, 0x0B}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := c.roundTrip(adu(uint16(i), tc.unit, tc.req))
			if !bytes.Equal(got[7:], tc.want) {
				t.Fatalf("answer % X, want % X", got[7:], tc.want)
			}
		})
	}
	if got := s.Unit(1).Coils(99, 3); len(got) != 0 {
		t.Errorf("Coils(99, 3) = %v, want nothing: 99 does not exist", got)
	}
	if got := s.Unit(1).HoldingRegisters(11, 5); len(got) != 2 {
		t.Errorf("HoldingRegisters(11, 5) = %v, want 2 items clipped at the end of 1..12", got)
	}
	if s.Unit(2).SetHoldingRegisters(8, 1, 2, 3); s.Unit(2).HoldingRegisters(8, 2)[1] != 2 {
		t.Error("SetHoldingRegisters past the end did not clip")
	}
}

// TestUnitRangeReason: the logged reason names the ranges.
func TestUnitRangeReason(t *testing.T) {
	log, buf := captureLogger(t)
	cfg := rangedUnits()
	cfg.Logger = log
	s := simtest.Start(t, cfg)
	c := dialRaw(t, s.Addr)
	c.roundTrip(adu(1, 1, modbus.NewReadHoldingRegisters(12, 9)))
	if want := "items 12..20 outside the table's ranges 1..12, 20..29"; !strings.Contains(buf.String(), want) {
		t.Fatalf("log does not say %q:\n%s", want, buf.String())
	}
}

// TestUnknownUnitSilent: an unknown unit gets no answer, and the connection
// goes on serving the next request.
func TestUnknownUnitSilent(t *testing.T) {
	cfg := rangedUnits()
	cfg.UnknownUnit = simulator.UnknownUnitSilent
	s := simtest.Start(t, cfg)
	c := dialRaw(t, s.Addr)
	c.write(adu(1, 9, modbus.NewReadHoldingRegisters(1, 1)))
	if got, err := c.readADU(100 * time.Millisecond); err == nil {
		t.Fatalf("unknown unit answered % X", got)
	}
	if got := c.roundTrip(adu(2, 1, modbus.NewReadHoldingRegisters(1, 1))); got[1] != 2 || got[7] != 0x03 {
		t.Fatalf("next answer % X, want tid 2 fc 03", got)
	}
}

// TestReportServerIDStrict: FC 17 where it is configured is a typed PDU, so
// extra bytes are a malformed PDU (reset); where it is not, 01 whatever the
// bytes (the function code is checked first).
func TestReportServerIDStrict(t *testing.T) {
	s := simtest.Start(t, rangedUnits())
	c := dialRaw(t, s.Addr)
	if got := c.roundTrip(adu(1, 2, &modbus.Raw{FC: 0x11, Data: []byte{0}})); !bytes.Equal(got[7:], []byte{0x91, 0x01}) {
		t.Fatalf("unit 2 malformed fc17: % X, want 91 01", got[7:])
	}
	c.write(adu(2, 1, &modbus.Raw{FC: 0x11, Data: []byte{0}}))
	if err := c.readUntilError(2 * time.Second); !isReset(err) {
		t.Fatalf("unit 1 malformed fc17: %v, want a reset", err)
	}
}

func TestUnitConfigErrors(t *testing.T) {
	tr := func(rs ...simulator.Range) simulator.Table { return simulator.Table{Ranges: rs} }
	cases := []struct {
		name string
		cfg  simulator.Config
		want string
	}{
		{"overlap", simulator.Config{Units: map[uint8]simulator.UnitConfig{1: {Coils: tr(simulator.Range{First: 0, Last: 9}, simulator.Range{First: 9, Last: 12})}}},
			"unit 1: coils: ranges 0..9 and 9..12 overlap"},
		{"reversed", simulator.Config{Units: map[uint8]simulator.UnitConfig{3: {InputRegisters: tr(simulator.Range{First: 5, Last: 4})}}},
			"unit 3: input registers: range 5..4: first address above last"},
		{"size", simulator.Config{Units: map[uint8]simulator.UnitConfig{1: {HoldingRegisters: simulator.Table{Size: 70000}}}},
			"holding registers: table size 70000 outside 1..65536"},
		{"file 0", simulator.Config{Units: map[uint8]simulator.UnitConfig{1: {Files: map[uint16][]uint16{0: {1}}}}}, "file 0"},
		{"fifo", simulator.Config{Units: map[uint8]simulator.UnitConfig{1: {FIFOs: map[uint16][]uint16{4: make([]uint16, 32)}}}}, "fifo at 4: 32 values"},
		{"server id", simulator.Config{ServerID: &simulator.ServerID{ID: make([]byte, 251)}}, "server id: 252 bytes"},
		{"both", simulator.Config{UnitIDs: []uint8{1}, Units: map[uint8]simulator.UnitConfig{1: {}}}, "Units and UnitIDs"},
		{"flat size", simulator.Config{Coils: -1}, "coils: table size -1"},
		{"fault rule without action", simulator.Config{Faults: []simulator.FaultRule{{Count: 1}}},
			"fault rule 1 (action=none,count=1): action is required"},
		{"fault rule exception without code", simulator.Config{Faults: []simulator.FaultRule{
			{Action: simulator.FaultDrop}, {Action: simulator.FaultException}}},
			"fault rule 2 (action=exception): action=exception needs exception=CODE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := simulator.New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// TestFileRecordMemoryBounded is the regression for issue 8 defect 5: FC 21
// requests naming a new file number in every group used to allocate a whole
// 10,000-record file each (186 requests of 245 bytes grew the heap by 97
// MB). Files are stored sparsely within MaxFileRegisters; a write past the
// bound is answered 04 and stores nothing.
func TestFileRecordMemoryBounded(t *testing.T) {
	s := simtest.Start(t, simulator.Config{})
	c := dialRaw(t, s.Addr)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const requests = 2000
	file, full := 1, 0
	for i := range requests {
		var w modbus.WriteFileRecord
		for range 26 { // 26 groups of 1 register, 236 bytes of PDU
			w.Records = append(w.Records, modbus.FileRecord{RefType: 6, File: uint16(file), Record: uint16(i % 10000), Data: []byte{0xFF, 0xFF}})
			file = file%65535 + 1
		}
		got := c.roundTrip(adu(uint16(i), 1, &w))
		switch {
		case got[7] == 0x15:
		case bytes.Equal(got[7:], []byte{0x95, 0x04}):
			full++
		default:
			t.Fatalf("request %d: % X", i, got[7:])
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d hostile FC 21 requests: %d refused with 04, heap %+d bytes", requests, full, growth)
	// 65536 registers in 64-register chunks is 1024 chunks of 128 bytes.
	if growth > 8<<20 {
		t.Errorf("heap grew by %d bytes over %d requests, want under 8 MiB", growth, requests)
	}
	if accepted := requests - full; accepted*26 > simulator.DefaultMaxFileRegisters || full == 0 {
		t.Errorf("%d requests accepted (%d registers, one chunk each), %d refused: want refusals once the bound is reached",
			accepted, accepted*26, full)
	}
	// Zeros need no storage, and what was stored can be read back.
	zero := &modbus.WriteFileRecord{Records: []modbus.FileRecord{{RefType: 6, File: 60000, Record: 0, Data: []byte{0, 0}}}}
	if got := c.roundTrip(adu(1, 1, zero)); got[7] != 0x15 {
		t.Errorf("a write of zeros when full: % X, want the echo", got[7:])
	}
	if got := s.FileRecord(1, 0, 1); got[0] != 0xFFFF {
		t.Errorf("file 1 record 0 = %#x, want 0xffff", got[0])
	}
}

// TestFileRecordBoundConfigured: MaxFileRegisters is the bound; configured
// files do not count against it.
func TestFileRecordBoundConfigured(t *testing.T) {
	s := simtest.Start(t, simulator.Config{MaxFileRegisters: 64, Units: map[uint8]simulator.UnitConfig{
		1: {Files: map[uint16][]uint16{7: make([]uint16, 200)}}}})
	s.Unit(1).SetFileRecord(7, 0, 1, 2, 3)
	c := dialRaw(t, s.Addr)
	w := func(file, rec uint16) []byte {
		return c.roundTrip(adu(1, 1, &modbus.WriteFileRecord{Records: []modbus.FileRecord{{RefType: 6, File: file, Record: rec, Data: []byte{0, 1}}}}))[7:]
	}
	if got := w(9, 0); got[0] != 0x15 {
		t.Fatalf("first chunk: % X", got)
	}
	if got := w(9, 63); got[0] != 0x15 {
		t.Fatalf("same chunk: % X", got)
	}
	if got := w(9, 64); !bytes.Equal(got, []byte{0x95, 0x04}) {
		t.Fatalf("second chunk past a bound of 64: % X, want 95 04", got)
	}
	if got := s.Unit(1).FileRecord(7, 0, 3); got[2] != 3 {
		t.Fatalf("configured file: %v", got)
	}
}
