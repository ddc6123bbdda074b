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
