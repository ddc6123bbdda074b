package simulator

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// logKind names a kind of per-connection event for the log rate limit.
type logKind uint8

const (
	logAccepted logKind = iota
	logRefused
	logEvicted
	logPeerClosed
	logPeerReset
	logIdle
	logFraming
	logMalformed
	logForeign
	logException
	logReset
	logWriteFailed
	logFault
	logEnded
	logAcceptError
	logDenied
	numLogKinds
)

var logKindNames = [numLogKinds]string{"accepted", "refused", "evicted", "peer_closed", "peer_reset", "idle_timeout",
	"framing_fault", "malformed_pdu", "foreign_protocol", "exception", "reset", "write_failed", "fault", "ended", "accept_error", "denied"}

// logLimitWindow is the rate limit's period: at most Config.LogLimit lines of
// each kind per window, then one summary line per window for the rest.
const logLimitWindow = time.Second

// rateLog keeps a flood of bad input from turning into a flood of log:
// every event is still counted in Stats, but past the limit its line is
// left out and summarised once per window.
type rateLog struct {
	limit           int // lines per kind per window; < 0 means no limit
	mu              sync.Mutex
	logged          [numLogKinds]int
	suppressed      [numLogKinds]uint64
	suppressedTotal atomic.Uint64
}

// allow reports whether a line of kind k may be written now.
func (l *rateLog) allow(k logKind) bool {
	if l.limit < 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.logged[k] < l.limit {
		l.logged[k]++
		return true
	}
	l.suppressed[k]++
	l.suppressedTotal.Add(1)
	return false
}

// roll starts a new window and writes one summary line for what the last
// one suppressed, if anything.
func (l *rateLog) roll(log *zerolog.Logger) {
	l.mu.Lock()
	sup := l.suppressed
	l.suppressed = [numLogKinds]uint64{}
	l.logged = [numLogKinds]int{}
	l.mu.Unlock()
	var total uint64
	d := zerolog.Dict()
	for k, n := range sup {
		if n > 0 {
			total += n
			d.Uint64(logKindNames[k], n)
		}
	}
	if total == 0 {
		return
	}
	log.Warn().Dict("suppressed", d).Uint64("total", total).Dur("window", logLimitWindow).Int("limit", l.limit).
		Msg("log lines suppressed by the rate limit (every event is counted in Stats)")
}

// run rolls the window every logLimitWindow until done is closed, then
// writes the last summary.
func (l *rateLog) run(log *zerolog.Logger, done <-chan struct{}) {
	t := time.NewTicker(logLimitWindow)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			l.roll(log)
		case <-done:
			l.roll(log)
			return
		}
	}
}

// event returns a log event of level lvl for kind k, or nil (a no-op event
// in zerolog) when the level is off or the rate limit suppresses it.
func (s *Server) event(k logKind, lvl zerolog.Level) *zerolog.Event {
	if lvl < s.log.GetLevel() || lvl < zerolog.GlobalLevel() {
		return nil
	}
	if !s.logs.allow(k) {
		return nil
	}
	return s.log.WithLevel(lvl)
}
