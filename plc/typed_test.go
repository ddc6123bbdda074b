package plc_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/plc"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// TestTypedValuesNeverTorn: 100 float32 values (200 registers) are read and
// written in requests that each carry whole values: 124 registers, then 76,
// never 125 + 75 with a float cut in two.
func TestTypedValuesNeverTorn(t *testing.T) {
	frames := &testutil.SyncBuffer{}
	l := zerolog.New(frames).Level(zerolog.TraceLevel)
	s := simtest.Start(t, simulator.Config{Logger: &l})
	ctx := context.Background()
	c, err := plc.Dial(ctx, s.Addr, plc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	vals := make([]any, 100)
	for i := range vals {
		vals[i] = float32(i) + 0.5
	}
	for _, o := range []plc.WordOrder{plc.ABCD, plc.CDAB, plc.BADC, plc.DCBA} {
		t.Run(o.String(), func(t *testing.T) {
			before := s.FunctionRequests(16)
			if err := c.WriteValues(ctx, 1000, plc.Float32, o, vals...); err != nil {
				t.Fatal(err)
			}
			// 123 registers would cut value 62; 122 + 78 does not.
			if n := s.FunctionRequests(16) - before; n != 2 {
				t.Fatalf("%d write requests, want 2", n)
			}
			before = s.FunctionRequests(3)
			got, err := c.ReadHoldingValues(ctx, 1000, 100, plc.Float32, o)
			if err != nil {
				t.Fatal(err)
			}
			if n := s.FunctionRequests(3) - before; n != 2 {
				t.Fatalf("%d read requests, want 2", n)
			}
			for _, q := range quantities(frames) {
				if q%2 != 0 {
					t.Fatalf("a request for %d registers cuts a float32 in two", q)
				}
			}
			for i := range vals {
				if got[i] != vals[i] {
					t.Fatalf("value %d = %v, want %v", i, got[i], vals[i])
				}
			}
		})
	}
	if _, err := c.ReadInputValues(ctx, 0, 0, plc.Float64, plc.ABCD); err == nil {
		t.Fatal("count 0 accepted")
	}
	// A count whose register total overflows an int must be refused, not
	// wrapped to a small read (1<<62+1 float64 values is 4 registers).
	for _, n := range []int{16384, 1<<62 + 1, math.MaxInt} {
		if got, err := c.ReadInputValues(ctx, 0, n, plc.Float64, plc.ABCD); err == nil || !strings.Contains(err.Error(), "want 1..16383 values") {
			t.Errorf("ReadInputValues(%d float64) = %d values, %v; want refused", n, len(got), err)
		}
	}
}

// quantities extracts, from the simulator's trace log, the register
// quantity of every FC 3 and FC 16 request it received.
func quantities(log *testutil.SyncBuffer) []int {
	var qs []int
	for _, line := range bytes.Split(log.Bytes(), []byte("\n")) {
		var rec struct{ RX string }
		if json.Unmarshal(line, &rec) != nil || rec.RX == "" {
			continue
		}
		adu, err := hex.DecodeString(rec.RX)
		if err != nil || len(adu) < 12 || (adu[7] != 3 && adu[7] != 16) {
			continue
		}
		qs = append(qs, int(adu[10])<<8|int(adu[11]))
	}
	return qs
}
