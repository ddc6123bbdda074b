//go:build linux

package transport

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
)

// TestTLSFINBetweenRequests: over TLS, plcsim closes an idle link
// gracefully (close_notify, FIN) and the next request, a write, comes
// before the link's watcher would read it. The write must not go into the
// closed session: it goes to a new link at once, is executed once, and
// succeeds.
func TestTLSFINBetweenRequests(t *testing.T) {
	sim := startTLSSim(t, "valid", simulator.Config{IdleTimeout: 100 * time.Millisecond})
	o := tlsOptions(t, "operator", 0)
	o.idleWatch = time.Hour // the watcher never reads: requests come too often
	c := dial(t, sim.Addr, o)
	if _, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(0, 1)); err != nil {
		t.Fatal(err)
	}
	waitTCPState(t, c, unix.BPF_TCP_CLOSE_WAIT) // plcsim's FIN is in our socket, unread
	writes := sim.FunctionRequests(uint8(modbus.FuncWriteSingleRegister))
	if _, err := c.Send(t.Context(), 1, &modbus.WriteSingleRegister{Address: 4, Value: 44}); err != nil {
		t.Fatalf("write after the server's close = %v", err)
	}
	if n := sim.FunctionRequests(uint8(modbus.FuncWriteSingleRegister)) - writes; n != 1 {
		t.Errorf("the write reached plcsim %d times, want 1", n)
	}
	if v := sim.HoldingRegisters(4, 1)[0]; v != 44 {
		t.Errorf("holding 4 = %d, want 44", v)
	}
	if s := c.Stats(); s.LinkDowns != 1 || s.Reconnects != 1 || s.Retries != 0 {
		t.Errorf("Stats = %+v, want 1 link down, 1 reconnect, no retry", s)
	}
}
