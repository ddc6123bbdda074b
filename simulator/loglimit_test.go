package simulator_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// TestLogRateLimit: a flood of framing faults is counted in full, but only
// LogLimit lines of each kind are logged per second, then one summary line
// says how many were left out (issue 8: 49.8 MB of log for 10 s of random
// bytes).
func TestLogRateLimit(t *testing.T) {
	const n, limit = 60, 5
	buf := &syncBuffer{}
	l := zerolog.New(buf).Level(zerolog.InfoLevel)
	s := simtest.Start(t, simulator.Config{Logger: &l, LogLimit: limit})
	for i := 0; i < n; i++ {
		c := dialRaw(t, s.Addr)
		c.write([]byte{0, 1, 0, 0, 0, 0, 1}) // length 0: framing fault, reset
		c.readUntilError(2 * time.Second)
		c.nc.Close()
	}
	waitFor(t, 2*time.Second, "faults counted", func() bool { return s.Stats().ResetsBy[simulator.ResetFramingFault] == n })
	waitFor(t, 3*time.Second, "summary line", func() bool { return strings.Contains(buf.String(), "log lines suppressed") })
	log := buf.String()
	resets := strings.Count(log, `"reset_reason":"framing-fault"`)
	if resets > 2*limit { // two windows at most: the flood may straddle a second
		t.Errorf("%d reset lines logged for %d resets, want at most %d (limit %d a second)", resets, n, 2*limit, limit)
	}
	st := s.Stats()
	if st.LogSuppressed == 0 || st.FramingFaults != n {
		t.Errorf("stats %+v: want %d framing faults counted and log lines suppressed", st, n)
	}
	if !strings.Contains(log, `"suppressed":{`) || !strings.Contains(log, `"framing_fault":`) {
		t.Errorf("summary does not say what was suppressed:\n%s", log)
	}
}
