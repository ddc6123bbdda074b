// The runtime's GOMAXPROCS updater (Go 1.25) is a goroutine started at
// every program start, before main, to follow changes of the CPU limit of
// a container; plcctl runs for a moment or polls with a fixed number of
// callers, so it is off (it woke another thread at every start; issue 10).
//go:debug updatemaxprocs=0

// Command plcctl reads, writes, watches and benchmarks Modbus TCP devices.
// Run "plcctl help" for the commands; the README has a tour.
package main

import (
	"context"
	"os"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

func main() {
	zerolog.TimeFieldFormat = time.RFC3339Nano // log times to the microsecond, not the second
	ctx, h := notifyLater(context.Background(), os.Interrupt, syscall.SIGTERM)
	processInterrupts = h // exec installs the handler (interrupt.go)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	h.stop()
	os.Exit(code)
}
