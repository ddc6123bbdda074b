package plc_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plc"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/transport"
)

// TestOwnValuesUnderWrongTID: 8 callers on one Client, each reading its own
// register holding a distinct value, against a simulator that answers some
// requests under the next request's transaction id. Some requests give up
// right after they were sent, so that their mislabelled answers are still in
// the socket when the next request goes out. Whatever the pipelining, no
// caller may ever get another caller's value: a faulted round fails with a
// timeout, a cancellation, ErrStreamOutOfOrder, ErrLinkDead or ErrTooManyStale, and the
// Client recovers.
func TestOwnValuesUnderWrongTID(t *testing.T) {
	const workers, rounds = 8, 40
	for _, inFlight := range []int{1, 2, 8, 16} {
		t.Run("MaxInFlight="+strconv.Itoa(inFlight), func(t *testing.T) {
			sim := startSim(t, simulator.Config{})
			for w := range workers {
				sim.SetHoldingRegisters(uint16(100*w), uint16(1000+w))
			}
			sim.SetFaults(simulator.FaultRule{Function: modbus.FuncReadHoldingRegisters, After: 10, Count: 12,
				Action: simulator.FaultWrongTID})
			o := plc.Options{}
			o.MaxInFlight = inFlight
			o.Timeout = 100 * time.Millisecond
			o.Backoff = func(int) time.Duration { return time.Millisecond }
			o.Logger = testLogger(t, zerolog.WarnLevel)
			c, err := plc.Dial(t.Context(), sim.Addr, o)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var wg sync.WaitGroup
			var mu sync.Mutex
			var good, failed int
			for w := range workers {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(inFlight), uint64(w)))
					for i := range rounds {
						ctx, cancel := context.WithCancel(t.Context())
						if i%3 == 2 { // gives up soon, often right after it was sent
							ctx, cancel = context.WithTimeout(t.Context(), time.Duration(20+rng.IntN(400))*time.Microsecond)
						}
						regs, err := c.ReadHoldingRegisters(ctx, uint16(100*w), 1)
						cancel()
						mu.Lock()
						switch {
						case err == nil && regs[0] != uint16(1000+w):
							t.Errorf("worker %d, round %d: register %d = %d, want %d (another request's answer)",
								w, i, 100*w, regs[0], 1000+w)
						case err == nil:
							good++
						case errors.Is(err, transport.ErrStreamOutOfOrder), errors.Is(err, transport.ErrLinkDead), errors.Is(err, transport.ErrTooManyStale),
							errors.Is(err, context.DeadlineExceeded),
							errors.Is(err, context.Canceled):
							failed++
						default:
							t.Errorf("worker %d, round %d: %v", w, i, err)
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			s := c.Conn().Stats()
			t.Logf("%d good, %d failed; %+v", good, failed, s)
			if good < workers*rounds/3 {
				t.Errorf("only %d of %d reads succeeded", good, workers*rounds)
			}
			// After the faults, every caller is served again.
			for w := range workers {
				regs, err := c.ReadHoldingRegisters(t.Context(), uint16(100*w), 1)
				if err != nil || regs[0] != uint16(1000+w) {
					t.Errorf("read after the faults: %v, %v; want [%d]", regs, err, 1000+w)
				}
			}
		})
	}
}
