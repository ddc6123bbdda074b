package simulator_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
)

// An embedded simulator: set its memory, serve on a free loopback port,
// and shut it down gracefully. Any Modbus TCP client can talk to it; here
// the codec's own functions over a plain TCP connection.
func Example() {
	srv, err := simulator.New(simulator.Config{Listen: "127.0.0.1:0", HoldingRegisters: 100})
	if err != nil {
		log.Fatal(err)
	}
	srv.SetHoldingRegisters(10, 0x022B, 0x0064)
	ln, err := srv.Listen()
	if err != nil {
		log.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	for _, req := range []*modbus.ReadRegisters{modbus.NewReadHoldingRegisters(10, 2), modbus.NewReadHoldingRegisters(99, 2)} {
		adu, _ := modbus.AppendADU(nil, 1, 1, req)
		if _, err := nc.Write(adu); err != nil {
			log.Fatal(err)
		}
		_, rsp, err := modbus.ReadADU(nc, nil)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("% X\n", rsp)
	}
	nc.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Println(srv.Shutdown(ctx), <-served)
	// Output:
	// 00 01 00 00 00 07 01 03 04 02 2B 00 64
	// 00 01 00 00 00 03 01 83 02
	// <nil> simulator: server closed
}
