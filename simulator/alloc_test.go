package simulator_test

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// allocRoundTrip returns a function that sends one FC 3 or 4 request for
// qty registers to a plcsim in this process and reads its answer, from a
// raw client whose buffers are made once: every allocation it counts is
// the server's (read, decode, handle, encode, write).
func allocRoundTrip(t testing.TB, fc modbus.FunctionCode, qty uint16) func() {
	sim := simtest.Start(t, simulator.Config{Logger: nopLogger()})
	nc, err := net.DialTimeout("tcp", sim.Addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if err := nc.SetDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	req := adu(1, 1, &modbus.ReadRegisters{FC: fc, Address: 0, Quantity: qty})
	rsp := make([]byte, modbus.MBAPHeaderLen+2+2*int(qty))
	return func() {
		if _, err := nc.Write(req); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(nc, rsp); err != nil {
			t.Fatal(err)
		}
		if rsp[modbus.MBAPHeaderLen] != byte(fc) {
			t.Fatalf("answer % x, want function %d", rsp, fc)
		}
	}
}

// TestServeReadAllocs: plcsim answers a register read without allocating.
// An allocation count is deterministic, so it is asserted.
func TestServeReadAllocs(t *testing.T) {
	if testing.CoverMode() != "" || testutil.RaceEnabled {
		t.Skip("instrumented build allocates")
	}
	for _, tc := range []struct {
		name string
		fc   modbus.FunctionCode
		qty  uint16
	}{{"FC3x10", modbus.FuncReadHoldingRegisters, 10}, {"FC3x125", modbus.FuncReadHoldingRegisters, 125},
		{"FC4x10", modbus.FuncReadInputRegisters, 10}} {
		rt := allocRoundTrip(t, tc.fc, tc.qty)
		rt()
		if n := testing.AllocsPerRun(200, rt); n != 0 {
			t.Errorf("%s: %v allocations per request, want 0", tc.name, n)
		}
	}
}

// BenchmarkAllocServeRead: one FC 3 x 10 round trip from a raw client;
// the allocations are plcsim's.
func BenchmarkAllocServeRead(b *testing.B) {
	rt := allocRoundTrip(b, modbus.FuncReadHoldingRegisters, 10)
	b.ReportAllocs()
	for b.Loop() {
		rt()
	}
}
