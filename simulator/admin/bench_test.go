package admin

import (
	"testing"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// BenchmarkObserved measures what the admin's observer (metrics and, for
// writes, the journal) adds to a loopback round trip.
func BenchmarkObserved(b *testing.B) {
	for _, bc := range []struct {
		name string
		obs  bool
		req  modbus.PDU
	}{
		{"read/none", false, modbus.NewReadHoldingRegisters(0, 10)},
		{"read/admin", true, modbus.NewReadHoldingRegisters(0, 10)},
		{"write/none", false, modbus.NewWriteMultipleRegisters(0, []uint16{1, 2, 3, 4})},
		{"write/admin", true, modbus.NewWriteMultipleRegisters(0, []uint16{1, 2, 3, 4})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := simulator.Config{}
			if bc.obs {
				a, _ := New(Options{})
				cfg.Observer = a
			}
			sim := simtest.Start(b, cfg)
			c := dialMB(b, sim.Addr)
			b.ReportAllocs()
			for b.Loop() {
				c.call(1, bc.req)
			}
		})
	}
}
