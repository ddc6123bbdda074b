package transport

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/internal/testutil"
)

// TestSupervisorLogRateLimited: a device that closes every connection at
// once takes the link down again and again; the supervisor writes at most
// supLogLimit lines of each kind in a window, and at Close one summary says how many of
// each kind were left out, so that the lines and the summary together
// account for every link down Stats counts. (The window is an hour here,
// so that how fast the machine is cannot matter.)
func TestSupervisorLogRateLimited(t *testing.T) {
	window := supLogWindow
	supLogWindow = time.Hour
	f := startFake(t, func(fc *fakeConn) { fc.Close() })
	var out testutil.SyncBuffer
	o := testOptions(t)
	log := zerolog.New(&out).Level(zerolog.InfoLevel)
	o.Logger = &log
	c, err := Dial(t.Context(), f.addr, o)
	if err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, waitTimeout, "30 link downs", func() bool { return c.Stats().LinkDowns >= 3*supLogLimit })
	c.Close()
	supLogWindow = window // the supervisor has ended
	downs := c.Stats().LinkDowns

	var logged, summaries int
	lines := map[string]int{}
	var leftDown uint64
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	for sc.Scan() {
		var e struct {
			Message string
			LeftOut map[string]uint64 `json:"left_out"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		switch e.Message {
		case "link down":
			logged++
			lines[e.Message]++
		case "connected", "reconnect backoff", "dial failed":
			lines[e.Message]++
		default:
			if e.LeftOut != nil {
				summaries++
				leftDown += e.LeftOut["link_down"]
			}
		}
	}
	for msg, n := range lines {
		if n > supLogLimit {
			t.Errorf("%d %q lines in one window, want at most %d", n, msg, supLogLimit)
		}
	}
	// The last link may go down just as Close comes, counted but not
	// logged: the supervisor stops at once.
	if n := uint64(logged) + leftDown; summaries != 1 || n > downs || n+1 < downs {
		t.Errorf("%d link-down lines + %d left out in %d summaries, want 1 summary and %d (Stats.LinkDowns) in all",
			logged, leftDown, summaries, downs)
	}
}
