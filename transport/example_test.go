package transport_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/transport"
)

func Example() {
	sim, err := simulator.New(simulator.Config{Listen: "127.0.0.1:0"})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := sim.Listen()
	if err != nil {
		log.Fatal(err)
	}
	go sim.Serve(ln)
	defer sim.Shutdown(context.Background())
	sim.SetHoldingRegisters(107, 0x022B, 0x0000, 0x0064)

	ctx := context.Background()
	conn, err := transport.Dial(ctx, ln.Addr().String(), transport.Options{
		Timeout: 500 * time.Millisecond,
		Retries: 1,
		OnStateChange: func(s transport.State) {
			fmt.Println("state:", s)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	rsp, err := conn.Send(ctx, 1, modbus.NewReadHoldingRegisters(107, 3))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%04X\n", rsp.(*modbus.RegistersResponse).Registers())
	conn.Close()
	// Output:
	// state: connecting
	// state: connected
	// [022B 0000 0064]
	// state: closed
}
