package plc_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plc"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
	"github.com/plcctl/plcctl/transport"
)

func testLogger(t testing.TB, level zerolog.Level) *zerolog.Logger {
	l := zerolog.New(zerolog.NewTestWriter(t)).Level(level)
	return &l
}

func startSim(t *testing.T, cfg simulator.Config) *simtest.Server {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t, zerolog.WarnLevel)
	}
	return simtest.Start(t, cfg)
}

func dial(t *testing.T, addr string, inFlight int) *plc.Client {
	t.Helper()
	o := plc.Options{}
	o.MaxInFlight = inFlight
	o.Timeout = 2 * time.Second
	o.Backoff = func(int) time.Duration { return time.Millisecond }
	o.Logger = testLogger(t, zerolog.InfoLevel)
	c, err := plc.Dial(t.Context(), addr, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// pattern returns n registers whose values encode their address.
func pattern(addr uint16, n int) []uint16 {
	out := make([]uint16, n)
	for i := range out {
		out[i] = (addr + uint16(i)) ^ 0x5A5A
	}
	return out
}

// TestSplitReads: ranges beyond one request's limit are split into the
// fewest requests, sequentially or pipelined, with every value in place.
func TestSplitReads(t *testing.T) {
	tests := []struct {
		name      string
		addr      uint16
		count     uint16
		wantReqs  uint64
		registers bool
	}{
		{"1 register", 7, 1, 1, true},
		{"125 registers", 0, 125, 1, true},
		{"126 registers", 0, 126, 2, true},
		{"251 registers", 1000, 251, 3, true},
		{"65535 registers to the last address", 1, 65535, 525, true},
		{"2000 coils", 0, 2000, 1, false},
		{"2001 coils", 3, 2001, 2, false},
		{"65536 minus 1 coils", 1, 65535, 33, false},
	}
	for _, inFlight := range []int{1, 8} {
		for _, tt := range tests {
			t.Run(tt.name+"/in flight "+string(rune('0'+inFlight)), func(t *testing.T) {
				sim := startSim(t, simulator.Config{})
				c := dial(t, sim.Addr, inFlight)
				if tt.registers {
					sim.SetHoldingRegisters(tt.addr, pattern(tt.addr, int(tt.count))...)
					got, err := c.ReadHoldingRegisters(t.Context(), tt.addr, tt.count)
					if err != nil || !slices.Equal(got, pattern(tt.addr, int(tt.count))) {
						t.Fatalf("ReadHoldingRegisters(%d, %d) = %d values, %v; want the pattern", tt.addr, tt.count, len(got), err)
					}
				} else {
					want := make([]bool, tt.count)
					for i := range want {
						want[i] = (i*7)%3 == 0
					}
					sim.SetCoils(tt.addr, want...)
					got, err := c.ReadCoils(t.Context(), tt.addr, tt.count)
					if err != nil || !slices.Equal(got, want) {
						t.Fatalf("ReadCoils(%d, %d) = %d values, %v; want the pattern", tt.addr, tt.count, len(got), err)
					}
				}
				if s := c.Conn().Stats(); s.Requests != tt.wantReqs {
					t.Errorf("%d requests, want %d", s.Requests, tt.wantReqs)
				}
			})
		}
	}
}

// TestRangeRefused: what no split can make valid is refused before
// anything is sent.
func TestRangeRefused(t *testing.T) {
	sim := startSim(t, simulator.Config{})
	c := dial(t, sim.Addr, 1)
	tests := []struct {
		name string
		do   func() error
		want error
	}{
		{"read 0 registers", func() error { _, err := c.ReadHoldingRegisters(t.Context(), 0, 0); return err }, modbus.IllegalDataValue},
		{"read past 65535", func() error { _, err := c.ReadInputRegisters(t.Context(), 65535, 2); return err }, modbus.IllegalDataAddress},
		{"read 0 coils", func() error { _, err := c.ReadDiscreteInputs(t.Context(), 5, 0); return err }, modbus.IllegalDataValue},
		{"write no registers", func() error { return c.WriteRegisters(t.Context(), 0, nil) }, modbus.IllegalDataValue},
		{"write coils past 65535", func() error { return c.WriteCoils(t.Context(), 65000, make([]bool, 537)) }, modbus.IllegalDataAddress},
		{"read/write 122 written", func() error {
			_, err := c.ReadWriteRegisters(t.Context(), 0, 1, 0, make([]uint16, 122))
			return err
		}, modbus.IllegalDataValue},
		{"read/write: write past 65535", func() error {
			_, err := c.ReadWriteRegisters(t.Context(), 0, 1, 65535, make([]uint16, 2))
			return err
		}, modbus.IllegalDataAddress},
		{"read/write: read past 65535", func() error {
			_, err := c.ReadWriteRegisters(t.Context(), 65530, 7, 0, make([]uint16, 1))
			return err
		}, modbus.IllegalDataAddress},
		{"Do: coils past 65535", func() error { _, err := c.Do(t.Context(), modbus.NewReadCoils(65535, 2)); return err }, modbus.IllegalDataAddress},
		{"Goburrow: registers past 65535", func() error { _, err := c.Goburrow().ReadHoldingRegisters(65535, 2); return err }, modbus.IllegalDataAddress},
		{"device id code 4 by stream", func() error { _, err := c.ReadDeviceID(t.Context(), 4); return err }, nil},
		{"no file groups", func() error { _, err := c.ReadFileRecords(t.Context(), nil); return err }, modbus.IllegalDataValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "plc: ") && !strings.HasPrefix(err.Error(), "transport: ") {
				t.Errorf("error %q lacks a package prefix", err)
			}
		})
	}
	if s := sim.Stats(); s.Requests != 0 {
		t.Errorf("simulator saw %d requests, want none", s.Requests)
	}
}

// TestEveryFunction: each Client method against plcsim.
func TestEveryFunction(t *testing.T) {
	sim := startSim(t, simulator.Config{})
	c := dial(t, sim.Addr, 1)
	ctx := t.Context()
	check := func(name string, err error, ok bool) {
		t.Helper()
		if err != nil || !ok {
			t.Errorf("%s: err %v, ok %v", name, err, ok)
		}
	}
	err := c.WriteRegisters(ctx, 10, []uint16{1, 2, 3})
	check("WriteRegisters", err, slices.Equal(sim.HoldingRegisters(10, 3), []uint16{1, 2, 3}))
	err = c.WriteRegister(ctx, 11, 0x1234)
	check("WriteRegister", err, sim.HoldingRegisters(11, 1)[0] == 0x1234)
	err = c.MaskWriteRegister(ctx, 11, 0x00F2, 0x0025)
	check("MaskWriteRegister", err, sim.HoldingRegisters(11, 1)[0] == 0x0035)
	regs, err := c.ReadWriteRegisters(ctx, 10, 3, 12, []uint16{9})
	check("ReadWriteRegisters", err, slices.Equal(regs, []uint16{1, 0x35, 9}))
	err = c.WriteCoil(ctx, 4, true)
	check("WriteCoil", err, sim.Coils(4, 1)[0])
	err = c.WriteCoils(ctx, 5, []bool{true, false, true})
	check("WriteCoils", err, slices.Equal(sim.Coils(4, 4), []bool{true, true, false, true}))
	sim.SetDiscreteInputs(0, true, false, true)
	bits, err := c.ReadDiscreteInputs(ctx, 0, 3)
	check("ReadDiscreteInputs", err, slices.Equal(bits, []bool{true, false, true}))
	sim.SetInputRegisters(8, 10)
	regs, err = c.ReadInputRegisters(ctx, 8, 1)
	check("ReadInputRegisters", err, slices.Equal(regs, []uint16{10}))
	sim.SetFIFO(0x04DE, 0x01B8, 0x1284)
	regs, err = c.ReadFIFOQueue(ctx, 0x04DE)
	check("ReadFIFOQueue", err, slices.Equal(regs, []uint16{0x01B8, 0x1284}))
	raw, err := c.Raw(ctx, modbus.FuncReadHoldingRegisters, []byte{0, 10, 0, 1})
	check("Raw", err, slices.Equal(raw, []byte{2, 0, 1}))
	_, err = c.Raw(ctx, 0x41, nil)
	check("Raw user-defined", nil, errors.Is(err, modbus.IllegalFunction))
	_, err = c.ReadHoldingRegisters(ctx, 65530, 6)
	check("no exception for the last registers", err, true)
	sim.SetFaults(simulator.FaultRule{Action: simulator.FaultException, Exception: modbus.ServerDeviceBusy, Count: 1})
	_, err = c.ReadHoldingRegisters(ctx, 0, 1)
	var exc *modbus.ExceptionError
	check("busy", nil, errors.Is(err, modbus.ServerDeviceBusy) && errors.As(err, &exc) && exc.Function == 3)
}

// TestFileRecords: groups are spread over as many requests as they need.
func TestFileRecords(t *testing.T) {
	sim := startSim(t, simulator.Config{})
	c := dial(t, sim.Addr, 1)
	var recs []modbus.FileRecord
	var subs []modbus.FileSubRequest
	for i := range uint16(40) { // 40 groups of 10 registers: several requests each way
		data := modbus.AppendRegisterBytes(nil, pattern(i*100, 10))
		recs = append(recs, modbus.FileRecord{File: 1 + i%3, Record: i * 20, Data: data})
		subs = append(subs, modbus.FileSubRequest{File: 1 + i%3, Record: i * 20, Length: 10})
	}
	if err := c.WriteFileRecords(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	got, err := c.ReadFileRecords(t.Context(), subs)
	if err != nil || len(got) != len(subs) {
		t.Fatalf("ReadFileRecords = %d groups, %v", len(got), err)
	}
	for i, g := range got {
		if !slices.Equal(g, pattern(uint16(i)*100, 10)) {
			t.Errorf("group %d = %v", i, g)
		}
	}
	if n := sim.FunctionRequests(20); n < 2 {
		t.Errorf("%d read file record requests, want the groups split", n)
	}
	if got := sim.FileRecord(2, 20, 10); !slices.Equal(got, pattern(100, 10)) {
		t.Errorf("simulator file 2 record 20 = %v", got)
	}
}

// TestSplitWriteFails: a split write that fails part way says how much was
// written before it, and nothing after it is sent.
func TestSplitWriteFails(t *testing.T) {
	sim := startSim(t, simulator.Config{})
	sim.SetFaults(simulator.FaultRule{Function: modbus.FuncWriteMultipleRegisters, After: 1, Count: 1,
		Action: simulator.FaultException, Exception: modbus.ServerDeviceFailure})
	c := dial(t, sim.Addr, 4)
	err := c.WriteRegisters(t.Context(), 0, pattern(0, 300))
	if !errors.Is(err, modbus.ServerDeviceFailure) || !strings.Contains(err.Error(), "the 123 before it were written") {
		t.Fatalf("WriteRegisters = %v, want exception 04 naming the 123 written", err)
	}
	var se *plc.SpanError
	if !errors.As(err, &se) || se.Written != 123 || se.Total != 300 || se.Address != 123 || se.Count != 123 {
		t.Errorf("SpanError = %+v, want Written 123, Total 300, Address 123, Count 123", se)
	}
	if got := sim.HoldingRegisters(0, 124); !slices.Equal(got[:123], pattern(0, 123)) || got[123] != 0 {
		t.Errorf("simulator holds %v..., want the first 123 written only", got[120:])
	}
	if n := sim.FunctionRequests(16); n != 2 {
		t.Errorf("%d FC 16 requests, want 2 (none after the failure)", n)
	}
}

// TestSplitReadFails: a pipelined split read stops at the first error.
func TestSplitReadFails(t *testing.T) {
	sim := startSim(t, simulator.Config{})
	sim.SetFaults(simulator.FaultRule{Function: modbus.FuncReadInputRegisters, After: 2, Count: 1,
		Action: simulator.FaultException, Exception: modbus.IllegalDataAddress})
	c := dial(t, sim.Addr, 4)
	_, err := c.ReadInputRegisters(t.Context(), 0, 2000)
	var exc *modbus.ExceptionError
	if !errors.As(err, &exc) || exc.Code != modbus.IllegalDataAddress || !strings.HasPrefix(err.Error(), "plc: input registers ") {
		t.Fatalf("ReadInputRegisters = %v, want exception 02 for one part", err)
	}
}

// TestDeviceID: stream access, across several transactions when the
// objects do not fit one response.
func TestDeviceID(t *testing.T) {
	objs := simulator.DefaultIdentity().Objects
	for id := uint8(0x80); id < 0x88; id++ {
		objs[id] = strings.Repeat(string(rune('a'+id-0x80)), 100) // 8 x 102 bytes: four responses
	}
	sim := startSim(t, simulator.Config{Identity: simulator.Identity{Objects: objs}})
	c := dial(t, sim.Addr, 1)
	for _, tt := range []struct {
		code  uint8
		want  int
		pages uint64
	}{
		{modbus.DeviceIDBasic, 3, 1},
		{modbus.DeviceIDRegular, 6, 1},
		{modbus.DeviceIDExtended, 14, 5},
	} {
		before := sim.FunctionRequests(0x2B)
		d, err := c.ReadDeviceID(t.Context(), tt.code)
		if err != nil {
			t.Fatalf("ReadDeviceID(%d) = %v", tt.code, err)
		}
		if len(d.Objects) != tt.want || !slices.IsSortedFunc(d.Objects, func(a, b modbus.DeviceObject) int { return int(a.ID) - int(b.ID) }) {
			t.Errorf("ReadDeviceID(%d) = %d objects, want %d in id order", tt.code, len(d.Objects), tt.want)
		}
		if n := sim.FunctionRequests(0x2B) - before; n != tt.pages {
			t.Errorf("ReadDeviceID(%d) took %d transactions, want %d", tt.code, n, tt.pages)
		}
		if d.VendorName() != "plcctl" || d.ProductCode() != "plcsim" || d.Revision() != "1.0" {
			t.Errorf("basic objects = %q %q %q", d.VendorName(), d.ProductCode(), d.Revision())
		}
		if d.Conformity != 0x83 {
			t.Errorf("conformity = %#x, want 0x83", d.Conformity)
		}
	}
	v, err := c.ReadDeviceObject(t.Context(), 0x85)
	if err != nil || string(v) != strings.Repeat("f", 100) {
		t.Errorf("ReadDeviceObject(0x85) = %q, %v", v, err)
	}
	if _, err := c.ReadDeviceObject(t.Context(), 0x07); !errors.Is(err, modbus.IllegalDataAddress) {
		t.Errorf("ReadDeviceObject(0x07) = %v, want exception 02", err)
	}
}

// TestWithUnit: one connection to a gateway, several units, concurrently.
func TestWithUnit(t *testing.T) {
	sim := startSim(t, simulator.Config{UnitIDs: []uint8{1, 2, 3}})
	c := dial(t, sim.Addr, 4)
	errs := make(chan error, 4)
	for _, unit := range []uint8{1, 2, 3, 9} {
		go func() {
			_, err := c.WithUnit(unit).ReadHoldingRegisters(t.Context(), 0, 1)
			if unit == 9 {
				if !errors.Is(err, modbus.GatewayTargetDeviceFailedToRespond) {
					err = errors.New("unit 9: want exception 0B, got " + errString(err))
				} else {
					err = nil
				}
			}
			errs <- err
		}()
	}
	for range 4 {
		select {
		case err := <-errs:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("timed out")
		}
	}
	if c.UnitID() != 1 || c.WithUnit(0).UnitID() != 0 {
		t.Errorf("unit ids %d, %d; want 1 (default) and 0", c.UnitID(), c.WithUnit(0).UnitID())
	}
	if sim.Stats().Accepted != 1 {
		t.Errorf("%d connections, want 1 shared", sim.Stats().Accepted)
	}
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// TestReconnectTransparent: reads survive a PLC restart with one retry.
func TestReconnectTransparent(t *testing.T) {
	sim := startSim(t, simulator.Config{})
	sim.SetHoldingRegisters(0, 7)
	o := plc.Options{UnitID: 1}
	o.Retries = 1
	o.Backoff = func(int) time.Duration { return time.Millisecond }
	o.Logger = testLogger(t, zerolog.InfoLevel)
	c, err := plc.Dial(t.Context(), sim.Addr, o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 3 {
		regs, err := c.ReadHoldingRegisters(t.Context(), 0, 1)
		if err != nil || regs[0] != 7 {
			t.Fatalf("read %d = %v, %v", i, regs, err)
		}
		sim.Restart(t)
	}
	// A refused range wraps an *OpError too (doc.go), saying nothing was sent.
	var oe *transport.OpError
	var re *modbus.RequestError
	_, err = c.ReadHoldingRegisters(context.Background(), 0, 0)
	if !errors.As(err, &oe) || oe.Sent || !errors.As(err, &re) {
		t.Errorf("refused range: %v, want an *OpError, not sent, wrapping a *modbus.RequestError", err)
	}
}

// TestCloseContext: a graceful CloseContext returns nil and every Client on
// the connection then fails with transport.ErrClosed; one whose ctx ends
// while an answer is still due returns ctx.Err().
func TestCloseContext(t *testing.T) {
	sim := startSim(t, simulator.Config{})
	c := dial(t, sim.Addr, 1)
	if err := c.CloseContext(t.Context()); err != nil {
		t.Fatalf("CloseContext = %v, want nil", err)
	}
	if _, err := c.WithUnit(2).ReadHoldingRegisters(t.Context(), 0, 1); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("read after CloseContext = %v, want ErrClosed", err)
	}

	slow := startSim(t, simulator.Config{Faults: []simulator.FaultRule{{Action: simulator.FaultDelay, Delay: 1500 * time.Millisecond}}})
	c = dial(t, slow.Addr, 1)
	read := make(chan error, 1)
	go func() { _, err := c.ReadHoldingRegisters(t.Context(), 0, 1); read <- err }()
	testutil.WaitFor(t, 5*time.Second, "the read at the server", func() bool { return slow.Stats().Requests == 1 })
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := c.CloseContext(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("CloseContext with an answer due = %v, want DeadlineExceeded", err)
	}
	if err := <-read; !errors.Is(err, transport.ErrClosed) {
		t.Errorf("read in flight = %v, want ErrClosed", err)
	}
}
