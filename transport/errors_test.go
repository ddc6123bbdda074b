package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
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
