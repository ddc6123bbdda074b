package transport

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
)

// TestWriteAfterDroppedAnswer: a write whose answer never came gives up;
// the next write goes to a new link and succeeds (on the old one its answer
// would be refused as out of order, after plcsim executed it). With
// AllowReorder the link is kept.
func TestWriteAfterDroppedAnswer(t *testing.T) {
	for _, reorder := range []bool{false, true} {
		t.Run(map[bool]string{false: "in order", true: "allow reorder"}[reorder], func(t *testing.T) {
			sim := startSim(t)
			sim.SetFaults(simulator.FaultRule{Action: simulator.FaultDrop, Function: modbus.FuncWriteSingleRegister, Count: 1})
			o := testOptions(t)
			o.AllowReorder = reorder
			c := dial(t, sim.Addr, o)
			ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
			_, err := c.Send(ctx, 1, &modbus.WriteSingleRegister{Address: 1, Value: 11})
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrOutcomeUnknown) {
				t.Fatalf("dropped write: %v, want a timeout with an unknown outcome", err)
			}
			downs := c.Stats().LinkDowns
			if _, err := c.Send(t.Context(), 1, &modbus.WriteSingleRegister{Address: 2, Value: 22}); err != nil {
				t.Fatalf("next write: %v", err)
			}
			if got := sim.HoldingRegisters(1, 2); got[0] != 11 || got[1] != 22 {
				t.Errorf("registers 1, 2 = %v, want [11 22] (both executed once)", got)
			}
			wantDowns := downs + 1
			if reorder {
				wantDowns = downs
			}
			if got := c.Stats().LinkDowns; got != wantDowns {
				t.Errorf("LinkDowns = %d, want %d", got, wantDowns)
			}
		})
	}
}
