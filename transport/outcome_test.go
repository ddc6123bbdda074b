package transport

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
)

// TestOutcomeUnknown: a write that was sent and got no answer it could take
// (dropped, the link closed or reset after it left) may have been applied:
// its error says so (OutcomeUnknown, errors.Is ErrOutcomeUnknown, and the
// text), distinct from a write not sent, a write refused with an exception,
// and a read, whose outcome never matters. The simulator executes each of
// those writes before it drops, closes or resets, as a real device may.
func TestOutcomeUnknown(t *testing.T) {
	write := &modbus.WriteSingleRegister{Address: 5, Value: 77}
	read := modbus.NewReadHoldingRegisters(5, 1)
	tests := []struct {
		name     string
		action   simulator.FaultAction
		req      modbus.Request
		failFast bool // the link is down before the request: not sent
		unknown  bool
		applied  bool // the simulator executed the write
	}{
		{"write dropped", simulator.FaultDrop, write, false, true, true},
		{"write, FIN instead of the answer", simulator.FaultCloseFIN, write, false, true, true},
		{"write, reset instead of the answer", simulator.FaultCloseRST, write, false, true, true},
		{"write refused with an exception", simulator.FaultException, write, false, false, false},
		{"write not sent: link down", simulator.FaultNone, write, true, false, false},
		{"read dropped", simulator.FaultDrop, read, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := startSim(t)
			if tt.action != simulator.FaultNone {
				sim.SetFaults(simulator.FaultRule{Function: tt.req.Function(), Count: 1, Action: tt.action,
					Exception: map[bool]modbus.ExceptionCode{true: modbus.ServerDeviceBusy}[tt.action == simulator.FaultException]})
			}
			o := testOptions(t)
			o.FailFast = tt.failFast
			o.Backoff = func(int) time.Duration { return time.Hour }
			st := states(&o)
			c := dial(t, sim.Addr, o)
			if tt.failFast {
				sim.Close()
				waitState(t, st, StateReconnecting)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
			defer cancel()
			_, err := c.Send(ctx, 1, tt.req)
			oe := opError(t, err)
			if oe.OutcomeUnknown() != tt.unknown || errors.Is(err, ErrOutcomeUnknown) != tt.unknown ||
				strings.Contains(err.Error(), "may have been applied") != tt.unknown {
				t.Errorf("Send = %v (Sent %v): OutcomeUnknown %v, want %v", err, oe.Sent, oe.OutcomeUnknown(), tt.unknown)
			}
			if tt.failFast && oe.Sent {
				t.Errorf("Sent = true for a request made while the link was down")
			}
			if got := sim.HoldingRegisters(5, 1)[0] == 77; got != tt.applied && !tt.failFast {
				t.Errorf("write applied = %v, want %v", got, tt.applied)
			}
		})
	}
}
