package transport

import (
	"time"

	"github.com/rs/zerolog"
)

// supervise owns reconnection: it waits for the current link to go down,
// then re-dials with backoff until a link is up again or the Conn closes.
// Reconnect lives here and nowhere else. The backoff starts over only after
// a link that worked: it stayed up for stableAfter, or it brought
// stableFrames answers. A device that accepts, answers once and resets (or
// resets each connection at once) gets Backoff(1), (2), ... between its
// connections, not a reconnect storm; a link that served a few requests
// and was then lost (a dropped or mislabelled answer made the stream
// untrusted, a gateway that closes after N requests) is replaced at once,
// however many such links came before it: reconnects then come at most
// once per few answers, never faster than the requests they serve.
func (c *Conn) supervise(l *link) {
	defer c.wg.Done()
	defer c.supFlush()
	attempt := 0
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-l.done:
		}
		if c.ctx.Err() != nil {
			return
		}
		c.supEvent(supLinkDown, zerolog.WarnLevel).Err(l.cause()).Msg("link down")
		c.setState(StateReconnecting)
		if l.held(c.opts.stableAfter) {
			attempt = 0 // the link worked: try again at once
		}
		if l = c.redial(&attempt); l == nil {
			return
		}
		c.setState(StateConnected)
	}
}

// stableFrames is how many frames make a link one that worked, however
// short its life: a few, so that one answer and a reset is not enough.
const stableFrames = 4

// held reports whether the link, now down, worked (see supervise).
func (l *link) held(stableAfter time.Duration) bool {
	l.mu.Lock()
	frames := l.frames
	l.mu.Unlock()
	return frames >= stableFrames || time.Since(l.upAt) >= stableAfter
}

// redial dials until it succeeds, waiting Backoff(attempt) before every
// attempt but the first after a link that held. It returns nil when the Conn
// closes.
func (c *Conn) redial(attempt *int) *link {
	for {
		if *attempt > 0 {
			d := c.opts.Backoff(*attempt)
			c.supEvent(supBackoff, zerolog.InfoLevel).Int("attempt", *attempt).Dur("backoff", d).Msg("reconnect backoff")
			if !c.pause(d) {
				return nil
			}
		}
		*attempt++
		nc, err := c.dial(c.ctx)
		if err != nil {
			if c.ctx.Err() != nil {
				return nil
			}
			c.supEvent(supDialFailed, zerolog.WarnLevel).Int("attempt", *attempt).Err(err).Msg("dial failed")
			c.noteDown(err)
			continue
		}
		return c.install(nc, true)
	}
}

// pause waits d unless the Conn closes first; it reports whether to go on.
func (c *Conn) pause(d time.Duration) bool {
	if d <= 0 {
		return c.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.ctx.Done():
		return false
	}
}
