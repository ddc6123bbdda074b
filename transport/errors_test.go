package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/modbus"
)

// TestErrorsSayTransportOnce: an OpError whose cause is one of this
// package's errors, and a dial error, name the package and the address once
// (issue 13: "transport: read ... transport: not connected", "dial ADDR:
// dial tcp ADDR").
func TestErrorsSayTransportOnce(t *testing.T) {
	op := &OpError{Op: "read holding registers", Addr: "127.0.0.1:5020", Err: fmt.Errorf("%w: %w", ErrNotConnected, context.DeadlineExceeded)}
	if got, want := op.Error(), "transport: read holding registers from 127.0.0.1:5020: not connected: context deadline exceeded"; got != want {
		t.Errorf("OpError = %q, want %q", got, want)
	}
	if !errors.Is(op, ErrNotConnected) || !errors.Is(op, context.DeadlineExceeded) {
		t.Error("the cause is lost from the chain")
	}
	f := startFake(t, servePLC)
	addr := f.addr
	f.stop()
	_, err := Dial(t.Context(), addr, testOptions(t))
	var ne *net.OpError
	if err == nil || strings.Count(err.Error(), "transport") != 1 || strings.Count(err.Error(), addr) != 1 || !errors.As(err, &ne) {
		t.Errorf("Dial = %v, want the package and %s named once, a *net.OpError in the chain", err, addr)
	}
}

// TestNotConnectedSaysBoth: a request that waited in vain for the link
// says why the link went down and why reconnecting failed, in that order,
// and errors.As finds the redial's *net.OpError, not the lost link's. Before,
// a failed redial replaced the lost link's cause.
func TestNotConnectedSaysBoth(t *testing.T) {
	f := startFake(t, servePLC)
	c := dial(t, f.addr, testOptions(t))
	f.stop() // a FIN, then nothing listens
	testutil.WaitFor(t, waitTimeout, "the link to go down", func() bool { return c.Stats().LinkDowns == 1 })
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err := c.Send(ctx, 1, modbus.NewReadHoldingRegisters(0, 1))
	if !errors.Is(err, ErrNotConnected) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send = %v, want ErrNotConnected and DeadlineExceeded", err)
	}
	if !errors.Is(err, io.EOF) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("Send = %v, want both the lost link's EOF and the redial's ECONNREFUSED in the chain", err)
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" {
		t.Errorf("errors.As found %v, want the redial's *net.OpError", op)
	}
	msg := err.Error()
	down, redial := strings.Index(msg, "the link went down: "), strings.Index(msg, "reconnecting failed: ")
	if down < 0 || redial < down {
		t.Errorf("Send = %q, want the link going down, then reconnecting failing", msg)
	}
}
