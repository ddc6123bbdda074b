package transport

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// TestReadRegistersIntoValues: the values read into a caller's slice are
// the registers' values, from both tables, and a refused read says why.
func TestReadRegistersIntoValues(t *testing.T) {
	nop := zerolog.Nop()
	sim := simtest.Start(t, simulator.Config{Logger: &nop, HoldingRegisters: 200})
	for i := range 10 {
		sim.SetHoldingRegisters(uint16(100+i), uint16(1000+i))
		sim.SetInputRegisters(uint16(100+i), uint16(2000+i))
	}
	c, err := Dial(t.Context(), sim.Addr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dst := make([]uint16, 10)
	for _, tc := range []struct {
		fc   modbus.FunctionCode
		base uint16
	}{{modbus.FuncReadHoldingRegisters, 1000}, {modbus.FuncReadInputRegisters, 2000}} {
		got, err := c.ReadRegistersInto(t.Context(), 1, tc.fc, 100, dst)
		if err != nil {
			t.Fatalf("%v: %v", tc.fc, err)
		}
		if &got[0] != &dst[0] {
			t.Errorf("%v: result does not alias dst", tc.fc)
		}
		want := make([]uint16, 10)
		for i := range want {
			want[i] = tc.base + uint16(i)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%v: got %v, want %v", tc.fc, got, want)
		}
	}
	for _, tc := range []struct {
		name string
		fc   modbus.FunctionCode
		n    int
	}{{"empty", modbus.FuncReadHoldingRegisters, 0}, {"126", modbus.FuncReadHoldingRegisters, 126},
		{"not a register read", modbus.FuncReadCoils, 1}} {
		_, err := c.ReadRegistersInto(t.Context(), 1, tc.fc, 0, make([]uint16, tc.n))
		var oe *OpError
		if !errors.As(err, &oe) || oe.Sent {
			t.Errorf("%s: got %v, want an *OpError for a request never sent", tc.name, err)
		}
	}
	// An exception answer (address past the table) is an error wrapping
	// *modbus.ExceptionError.
	_, err = c.ReadRegistersInto(t.Context(), 1, modbus.FuncReadHoldingRegisters, 195, dst)
	var exc *modbus.ExceptionError
	if !errors.As(err, &exc) || exc.Code != modbus.IllegalDataAddress {
		t.Errorf("past the end: got %v, want exception 02", err)
	}
}

// TestReadRegistersIntoAllocs: a read into a caller's slice allocates
// nothing in steady state, with a ctx that can be cancelled (as a program's
// signal ctx) and without. An allocation count is deterministic.
func TestReadRegistersIntoAllocs(t *testing.T) {
	if testing.CoverMode() != "" || testutil.RaceEnabled {
		t.Skip("instrumented build allocates")
	}
	nop := zerolog.Nop()
	sim := simtest.Start(t, simulator.Config{Logger: &nop})
	c, err := Dial(t.Context(), sim.Addr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dst := make([]uint16, 10)
	for _, tc := range []struct {
		name string
		ctx  context.Context
	}{{"background", context.Background()}, {"cancellable", t.Context()}} {
		read := func() {
			if _, err := c.ReadRegistersInto(tc.ctx, 1, modbus.FuncReadHoldingRegisters, 0, dst); err != nil {
				t.Fatal(err)
			}
		}
		read()
		if n := testing.AllocsPerRun(200, read); n != 0 {
			t.Errorf("%s: %v allocations per read, want 0", tc.name, n)
		}
	}
}

// BenchmarkAllocReadInto is a read of 10 registers into a caller's slice
// against plcsim in the same process (client and server allocations both
// count).
func BenchmarkAllocReadInto(b *testing.B) {
	nop := zerolog.Nop()
	sim := simtest.Start(b, simulator.Config{Logger: &nop})
	c, err := Dial(b.Context(), sim.Addr, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	dst := make([]uint16, 10)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.ReadRegistersInto(b.Context(), 1, modbus.FuncReadHoldingRegisters, 0, dst); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAllocSend is the same read through Send, which returns a new PDU.
func BenchmarkAllocSend(b *testing.B) {
	nop := zerolog.Nop()
	sim := simtest.Start(b, simulator.Config{Logger: &nop})
	c, err := Dial(b.Context(), sim.Addr, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req := modbus.NewReadHoldingRegisters(0, 10)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Send(b.Context(), 1, req); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCachedRegistrationCancels: a ctx that served many requests (its
// registration kept on the free list) still wakes a request blocked on a
// silent server when it is cancelled, and a Conn closed afterwards leaves
// no registration behind: cancelling the ctx then touches nothing.
func TestCachedRegistrationCancels(t *testing.T) {
	nop := zerolog.Nop()
	sim := simtest.Start(t, simulator.Config{Logger: &nop})
	c, err := Dial(t.Context(), sim.Addr, Options{Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	dst := make([]uint16, 2)
	for range 20 {
		if _, err := c.ReadRegistersInto(ctx, 1, modbus.FuncReadHoldingRegisters, 0, dst); err != nil {
			t.Fatal(err)
		}
	}
	sim.SetFaults(simulator.FaultRule{Action: simulator.FaultDrop})
	errc := make(chan error, 1)
	go func() {
		_, err := c.ReadRegistersInto(ctx, 1, modbus.FuncReadHoldingRegisters, 0, dst)
		errc <- err
	}()
	waitFor(t, "the 21st request at the server", func() bool { return sim.Stats().Requests >= 21 })
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled request stayed blocked: its cached registration did not wake it")
	}
	sim.SetFaults()
	// The link stays usable, and a ctx used again registers again.
	ctx2, cancel2 := context.WithCancel(t.Context())
	defer cancel2()
	for range 3 {
		if _, err := c.ReadRegistersInto(ctx2, 1, modbus.FuncReadHoldingRegisters, 0, dst); err != nil {
			t.Fatal(err)
		}
	}
	if freeCalls(c) == 0 {
		t.Fatal("no call with a cached registration on the free list: the test tests nothing")
	}
	c.Close()
	if n := freeCalls(c); n != 0 {
		t.Errorf("%d calls with a ctx registration left after Close", n)
	}
}

// freeCalls counts the calls on c's free list: the spare slot and the
// channel.
func freeCalls(c *Conn) int {
	n := len(c.calls)
	if c.spare.Load() != nil {
		n++
	}
	return n
}
