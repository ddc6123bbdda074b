package plc_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plc"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/transport"
)

// startPLC runs an in-process plcsim on a free loopback port for the
// examples and returns its address and a function that stops it.
func startPLC(cfg simulator.Config) (*simulator.Server, string, func()) {
	cfg.Listen = "127.0.0.1:0"
	sim, err := simulator.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := sim.Listen()
	if err != nil {
		log.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- sim.Serve(ln) }()
	return sim, ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		sim.Shutdown(ctx)
		<-done
	}
}

func Example() {
	_, addr, stop := startPLC(simulator.Config{})
	defer stop()

	ctx := context.Background()
	c, err := plc.Dial(ctx, addr, plc.Options{UnitID: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	if err := c.WriteRegisters(ctx, 100, []uint16{555, 0, 100}); err != nil {
		log.Fatal(err)
	}
	regs, err := c.ReadHoldingRegisters(ctx, 100, 3)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(regs)
	// Output: [555 0 100]
}

// Ranges beyond what one request allows are split transparently: 300
// registers take three requests (125 + 125 + 50).
func ExampleClient_ReadHoldingRegisters() {
	sim, addr, stop := startPLC(simulator.Config{})
	defer stop()
	for i := range uint16(300) {
		sim.SetHoldingRegisters(1000+i, i)
	}

	ctx := context.Background()
	c, err := plc.Dial(ctx, addr, plc.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	regs, err := c.ReadHoldingRegisters(ctx, 1000, 300)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(regs), regs[0], regs[299], c.Conn().Stats().Requests)
	// Output: 300 0 299 3
}

// A float32 stored word-swapped (CDAB), as mbpoll and modpoll expect by
// default; plc.Encode and plc.Decode handle every word order.
func ExampleClient_WriteRegisters_float32() {
	sim, addr, stop := startPLC(simulator.Config{})
	defer stop()

	ctx := context.Background()
	c, err := plc.Dial(ctx, addr, plc.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	regs, err := plc.Encode(plc.Float32, plc.CDAB, 123.456)
	if err != nil {
		log.Fatal(err)
	}
	if err := c.WriteRegisters(ctx, 0, regs); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("on the device: %04X\n", sim.HoldingRegisters(0, 2))
	back, err := c.ReadHoldingRegisters(ctx, 0, 2)
	if err != nil {
		log.Fatal(err)
	}
	vals, err := plc.Decode(plc.Float32, plc.CDAB, back)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(vals[0])
	// Output:
	// on the device: [E979 42F6]
	// 123.456
}

// The device's refusals are errors that unwrap to the exception code.
func ExampleClient_ReadHoldingRegisters_exception() {
	_, addr, stop := startPLC(simulator.Config{HoldingRegisters: 100})
	defer stop()

	ctx := context.Background()
	c, err := plc.Dial(ctx, addr, plc.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	_, err = c.ReadHoldingRegisters(ctx, 99, 2)
	var exc *modbus.ExceptionError
	if errors.As(err, &exc) {
		fmt.Println("refused:", exc.Code.String())
	}
	fmt.Println(errors.Is(err, modbus.IllegalDataAddress))
	// Output:
	// refused: 02 illegal data address
	// true
}

// WithUnit addresses another unit id on the same connection, e.g. serial
// devices behind a gateway. Each unit has its own memory.
func ExampleClient_WithUnit() {
	sim, addr, stop := startPLC(simulator.Config{UnitIDs: []uint8{1, 2}})
	defer stop()
	sim.Unit(2).SetCoils(0, true, false, true)

	ctx := context.Background()
	c, err := plc.Dial(ctx, addr, plc.Options{UnitID: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	bits, err := c.WithUnit(2).ReadCoils(ctx, 0, 3)
	fmt.Println(bits, err)
	_, err = c.WithUnit(7).ReadCoils(ctx, 0, 3)
	fmt.Println(errors.Is(err, modbus.GatewayTargetDeviceFailedToRespond))
	// Output:
	// [true false true] <nil>
	// true
}

func ExampleClient_ReadDeviceID() {
	_, addr, stop := startPLC(simulator.Config{})
	defer stop()

	ctx := context.Background()
	c, err := plc.Dial(ctx, addr, plc.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	id, err := c.ReadDeviceID(ctx, modbus.DeviceIDRegular)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(id.VendorName(), id.ProductCode(), id.Revision(), len(id.Objects))
	// Output: plcctl plcsim 1.0 6
}

// Code written for github.com/goburrow/modbus keeps working through
// Client.Goburrow, which satisfies goburrow's Client interface.
func ExampleClient_Goburrow() {
	sim, addr, stop := startPLC(simulator.Config{})
	defer stop()
	sim.SetHoldingRegisters(0, 0x1234, 0x5678)

	c, err := plc.Dial(context.Background(), addr, plc.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	var client interface { // goburrow's modbus.Client has this method
		ReadHoldingRegisters(address, quantity uint16) ([]byte, error)
	} = c.Goburrow()
	b, err := client.ReadHoldingRegisters(0, 2)
	fmt.Printf("% x %v\n", b, err)
	// Output: 12 34 56 78 <nil>
}

// A poller reads into one buffer it owns: with at most 125 registers per
// call, a read allocates nothing once the connection is warm.
func ExampleClient_ReadHoldingRegistersInto() {
	sim, addr, stop := startPLC(simulator.Config{})
	defer stop()
	sim.SetHoldingRegisters(0, 10, 20, 30, 40)

	ctx := context.Background()
	c, err := plc.Dial(ctx, addr, plc.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	buf := make([]uint16, 4)
	for cycle := range 3 {
		sim.SetHoldingRegisters(0, uint16(cycle))
		cctx, cancel := context.WithTimeout(ctx, time.Second) // one deadline per poll cycle
		regs, err := c.ReadHoldingRegistersInto(cctx, 0, buf)
		cancel()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(regs)
	}
	// Output:
	// [0 20 30 40]
	// [1 20 30 40]
	// [2 20 30 40]
}

// A write whose answer never came may have been applied: its error says so
// (transport.ErrOutcomeUnknown), so read back before writing again. A write
// refused before it was sent, or answered with an exception, does not match.
func ExampleClient_WriteRegister_outcomeUnknown() {
	sim, addr, stop := startPLC(simulator.Config{})
	defer stop()
	// The PLC executes the next write and sends no answer.
	sim.SetFaults(simulator.FaultRule{Action: simulator.FaultDrop, Function: modbus.FuncWriteSingleRegister, Count: 1})

	ctx := context.Background()
	c, err := plc.Dial(ctx, addr, plc.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	err = c.WriteRegister(wctx, 7, 1234)
	var op *transport.OpError
	fmt.Println(errors.Is(err, transport.ErrOutcomeUnknown), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &op) && op.Sent)
	regs, err := c.ReadHoldingRegisters(ctx, 7, 1) // was it applied?
	fmt.Println(regs, err)
	// Output:
	// true true true
	// [1234] <nil>
}
