package plc_test

import (
	"context"
	"slices"
	"testing"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/plc"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

func allocClient(t testing.TB) (*plc.Client, *simtest.Server) {
	nop := zerolog.Nop()
	sim := simtest.Start(t, simulator.Config{Logger: &nop})
	c, err := plc.Dial(t.Context(), sim.Addr, plc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, sim
}

// TestReadIntoValues: the Into reads fill the caller's slice with the
// registers' values, across a split too, and refuse an empty one.
func TestReadIntoValues(t *testing.T) {
	c, sim := allocClient(t)
	want := make([]uint16, 300)
	for i := range want {
		want[i] = uint16(7*i + 1)
	}
	sim.SetHoldingRegisters(1000, want...)
	sim.SetInputRegisters(2000, want[:10]...)
	dst := make([]uint16, 300)
	got, err := c.ReadHoldingRegistersInto(t.Context(), 1000, dst)
	if err != nil || !slices.Equal(got, want) || &got[0] != &dst[0] {
		t.Errorf("holding x300: got %v, %v", got, err)
	}
	got, err = c.ReadInputRegistersInto(t.Context(), 2000, dst[:10])
	if err != nil || !slices.Equal(got, want[:10]) {
		t.Errorf("input x10: got %v, %v", got, err)
	}
	if _, err := c.ReadHoldingRegistersInto(t.Context(), 0, nil); err == nil {
		t.Error("an empty dst was not refused")
	}
	if _, err := c.ReadHoldingRegistersInto(t.Context(), 65535, dst[:2]); err == nil {
		t.Error("a range past 65535 was not refused")
	}
}

// TestReadIntoAllocs: a read of up to 125 registers into a caller's slice
// allocates nothing in steady state, client and plcsim in this process
// counted together (an allocation count is deterministic).
func TestReadIntoAllocs(t *testing.T) {
	if testing.CoverMode() != "" || testutil.RaceEnabled {
		t.Skip("instrumented build allocates")
	}
	c, _ := allocClient(t)
	ctx, cancel := context.WithCancel(t.Context()) // as a program's signal ctx
	defer cancel()
	for _, n := range []int{1, 10, 125} {
		dst := make([]uint16, n)
		read := func() {
			if _, err := c.ReadHoldingRegistersInto(ctx, 0, dst); err != nil {
				t.Fatal(err)
			}
		}
		read()
		if a := testing.AllocsPerRun(200, read); a != 0 {
			t.Errorf("x%d: %v allocations per read, want 0", n, a)
		}
	}
}

// BenchmarkAllocReadHoldingRegistersInto: FC 3 x 10 into a caller's slice.
func BenchmarkAllocReadHoldingRegistersInto(b *testing.B) {
	c, _ := allocClient(b)
	dst := make([]uint16, 10)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.ReadHoldingRegistersInto(b.Context(), 0, dst); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAllocReadHoldingRegisters: the same read returning a new slice.
func BenchmarkAllocReadHoldingRegisters(b *testing.B) {
	c, _ := allocClient(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.ReadHoldingRegisters(b.Context(), 0, 10); err != nil {
			b.Fatal(err)
		}
	}
}
