package transport

import (
	"testing"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// Benchmarks run against plcsim in the same process, over loopback TCP:
// round trips per second for one caller and for many callers with and
// without pipelining.
func BenchmarkSend(b *testing.B) {
	for _, bc := range []struct {
		name     string
		inFlight int
		parallel bool
	}{
		{"sequential", 1, false},
		{"parallel/MaxInFlight=1", 1, true},
		{"parallel/MaxInFlight=16", 16, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			nop := zerolog.Nop()
			sim := simtest.Start(b, simulator.Config{Logger: &nop})
			c, err := Dial(b.Context(), sim.Addr, Options{MaxInFlight: bc.inFlight})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			req := modbus.NewReadHoldingRegisters(0, 10)
			b.ReportAllocs()
			if !bc.parallel {
				for b.Loop() {
					if _, err := c.Send(b.Context(), 1, req); err != nil {
						b.Fatal(err)
					}
				}
				return
			}
			b.SetParallelism(4) // 4 x GOMAXPROCS callers
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.Send(b.Context(), 1, req); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
