package transport

import (
	"errors"
	"fmt"
)

// errRetired: the link was retired before a write, not because it failed.
var errRetired = errors.New("transport: link retired")

// retireBeforeWrite takes a quiet link down before a request that changes
// the device would go out on it while an earlier request to the same unit
// gave up with its answer not yet come. On that link the answer the write
// gets next would be refused as out of order (the device may have dropped
// the earlier answer, or it may still come under a wrong transaction id),
// and the write, executed by then, would end with an unknown outcome. On a
// new link nothing older is outstanding. It reports whether it retired the
// link; the write has not been sent, so it moves to the next link.
// Requests still waiting on the link are left alone: with any, the link is
// kept (their answers decide).
func (l *link) retireBeforeWrite(cl *call) bool {
	if l.c.opts.AllowReorder || idempotent(cl.req) {
		return false
	}
	l.mu.Lock()
	var older uint16
	found := false
	if l.pending.len() == 0 {
		for tid, g := range l.abandoned {
			if g.unit == cl.unit && g.seq != 0 {
				older, found = tid, true
				break
			}
		}
	}
	l.mu.Unlock()
	if !found {
		return false
	}
	l.c.log.Info().Uint16("tid", older).Uint8("unit_id", cl.unit).
		Msg("a request gave up with its answer not yet come: a new link for the next write")
	l.fail(fmt.Errorf("%w: tid %d to unit id %d gave up with its answer not yet come", errRetired, older, cl.unit))
	return true
}
