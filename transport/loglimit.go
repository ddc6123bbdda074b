package transport

import (
	"time"

	"github.com/rs/zerolog"
)

// The supervisor's lines (link down, dial failed, reconnect backoff,
// connected) are rate limited: a device that spoils an answer every few
// requests under pipelined load takes the link down hundreds of times a
// second, and one line each would bury everything else on stderr. At most
// supLogLimit lines of each kind per supLogWindow (so a burst of failures
// never hides the "connected" that ends it); the rest are counted, and one summary
// line says how many of each were left out, when the next window's first
// line comes or the Conn closes. Stats counts every event.
const supLogLimit = 10

var supLogWindow = time.Second // a variable for tests only

type supKind uint8

const (
	supLinkDown supKind = iota
	supDialFailed
	supBackoff
	supConnected
	numSupKinds
)

var supKindNames = [numSupKinds]string{"link_down", "dial_failed", "reconnect_backoff", "connected"}

// supLog is the supervisor's rate limit. Only the supervisor's goroutine
// uses it (and Dial's, for the first "connected", before the supervisor
// starts), so it needs no lock.
type supLog struct {
	start time.Time        // of the current window
	lines [numSupKinds]int // written in it, by kind
	left  [numSupKinds]uint64
	nleft uint64
}

// event returns a log event of level lvl for a line of kind k, or nil (a
// no-op event in zerolog) when the level is off or the limit leaves the
// line out.
func (c *Conn) supEvent(k supKind, lvl zerolog.Level) *zerolog.Event {
	if lvl < c.log.GetLevel() || lvl < zerolog.GlobalLevel() {
		return nil
	}
	s := &c.slog
	if now := time.Now(); now.Sub(s.start) >= supLogWindow {
		c.supFlush()
		s.start, s.lines = now, [numSupKinds]int{}
	}
	if s.lines[k] >= supLogLimit {
		s.left[k]++
		s.nleft++
		return nil
	}
	s.lines[k]++
	return c.log.WithLevel(lvl)
}

// supFlush writes the summary of the lines left out, if any.
func (c *Conn) supFlush() {
	s := &c.slog
	if s.nleft == 0 {
		return
	}
	d := zerolog.Dict()
	for k, n := range s.left {
		if n > 0 {
			d.Uint64(supKindNames[k], n)
		}
	}
	c.log.Warn().Dict("left_out", d).Uint64("total", s.nleft).Dur("window", supLogWindow).Int("limit", supLogLimit).
		Msg("reconnect log lines left out by the rate limit (Stats counts every link down and reconnect)")
	s.left, s.nleft = [numSupKinds]uint64{}, 0
}
