package simulator

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// How a connection ends. The connection's own goroutine does every close
// except the forced one at the end of Shutdown's ctx (or Close); ended makes
// sure each connection's end is done and counted once:
//   - after the peer's FIN or reset: a plain close;
//   - gracefully: half-close, read and discard until the peer's FIN within
//     DrainTimeout, close; no FIN in time is a reset (ResetDrainTimeout);
//   - with a reset (SO_LINGER 0), counted by ResetReason and logged;
//   - quickly (refused, or evicted while too many drains are under way):
//     discard what the peer already sent, close (a FIN), so no file
//     descriptor is held for a drain.

// stop reasons: why the server (not the connection's goroutine) ends a
// connection. Set once, from zero, by signalStop.
const (
	stopNone int32 = iota
	stopEvict
	stopShutdown
	stopReset // reset from another goroutine (Server.Reboot, forced shutdown)
)

// connState is the lifecycle part of a connection.
type connState struct {
	// dlMu orders deadline changes: once stop is set or a drain has begun,
	// the serving code no longer moves the deadlines, so a stop's
	// "deadline now" is never overwritten by a frame's deadline.
	dlMu     sync.Mutex
	stop     atomic.Int32
	draining atomic.Bool
	ended    atomic.Bool
	// gone is closed when ended is set (markEnded), by whichever goroutine
	// ends the connection: a fault's pause waits on it, so a reset from
	// elsewhere (Server.Reboot) ends the pause at once, not when it is over.
	gone chan struct{}
}

// markEnded marks the connection ended, once; false if it was already.
func (c *conn) markEnded() bool {
	if !c.ended.CompareAndSwap(false, true) {
		return false
	}
	close(c.gone)
	return true
}

// signalStop asks the connection's goroutine to stop serving and close
// (evicted, or the server shutting down). It never blocks on the peer: it
// moves the read deadline to now, which ends a blocked read at once, and
// for an eviction the write deadline too. A shutdown lets the goroutine
// answer the requests it has already read (within WriteTimeout, and
// Shutdown's ctx, whose end resets the connection) before it closes.
// A connection already draining is left to finish its drain.
func (c *conn) signalStop(why int32) bool {
	c.dlMu.Lock()
	defer c.dlMu.Unlock()
	if c.draining.Load() || !c.stop.CompareAndSwap(stopNone, why) {
		return false
	}
	now := time.Now()
	c.nc.SetReadDeadline(now)
	if why != stopShutdown {
		c.nc.SetWriteDeadline(now)
	}
	return true
}

func (c *conn) stopping() bool { return c.stop.Load() != stopNone }

// mayWrite says answers may still be written: the connection is serving,
// or shutting down (answering what it has read), and not draining.
func (c *conn) mayWrite() bool {
	st := c.stop.Load()
	return (st == stopNone || st == stopShutdown) && !c.draining.Load()
}

// setReadDeadline sets the read deadline for the next frame, unless the
// connection is stopping or draining.
func (c *conn) setReadDeadline(t time.Time) bool {
	c.dlMu.Lock()
	defer c.dlMu.Unlock()
	if c.stopping() || c.draining.Load() {
		return false
	}
	c.nc.SetReadDeadline(t)
	c.rdl = t
	return true
}

// setWriteDeadline is setReadDeadline for writes, which a shutdown still
// makes (mayWrite).
func (c *conn) setWriteDeadline(t time.Time) bool {
	c.dlMu.Lock()
	defer c.dlMu.Unlock()
	if !c.mayWrite() {
		return false
	}
	c.nc.SetWriteDeadline(t)
	c.wdl = t
	return true
}

// armWrite readies a write that starts at now to be cut after WriteTimeout;
// false means the connection must not be written to any more (mayWrite).
// On a plain socket the deadline of an earlier write is kept while it
// leaves at least half of WriteTimeout (write resumes a write it cuts).
func (c *conn) armWrite(now time.Time) bool {
	wt := c.s.cfg.WriteTimeout
	c.writeDue = now.Add(wt)
	if c.plain && !c.wdl.Before(now.Add(wt/2)) && !c.wdl.After(c.writeDue) {
		// An eviction from now on moves the deadline to now: the write ends.
		return c.mayWrite()
	}
	return c.setWriteDeadline(c.writeDue)
}

// finish ends a connection its goroutine is done with: if the socket is
// still open, the server stopped it (evict, shutdown) and it is closed
// gracefully. (Accept closes an evicted one itself, at once, when too many
// are draining.)
func (c *conn) finish() {
	if c.ended.Load() {
		return
	}
	if c.stopping() {
		c.closeGracefully() // every connection drains in parallel, bounded by Shutdown's ctx
		return
	}
	c.close()
}

// close closes the socket once; false if it was already closed.
func (c *conn) close() bool {
	if !c.markEnded() {
		return false
	}
	c.nc.Close()
	return true
}

// quickClose discards what the peer has already sent (so the close is a
// FIN, not the kernel's reset for unread data) and closes without a drain.
// Safe from any goroutine (the accept loop closes evicted connections so).
func (c *conn) quickClose() {
	tc := c.tcp()
	if tc == nil {
		c.close()
		return
	}
	discardBuffered(tc)
	if c.markEnded() {
		tc.Close() // the socket itself: over TLS, no close_notify write that could block
	}
}

// reset ends the connection with a TCP reset (SO_LINGER 0), counted under
// reason, logged and reported to the observer. It is safe to call from any
// goroutine; only the connection's first close counts.
func (c *conn) reset(reason ResetReason) {
	c.resetWith(reason, c.s.event(logReset, zerolog.WarnLevel))
}

// resetWith is reset with e as its log line (nil when off or rate-limited),
// completed here.
func (c *conn) resetWith(reason ResetReason, e *zerolog.Event) {
	if !c.markEnded() {
		return
	}
	c.stop.CompareAndSwap(stopNone, stopReset) // the connection's goroutine ends quietly
	c.s.stats.resetsBy[reason].Add(1)
	c.s.obsReset(c.remote, reason.String())
	e.Uint64("conn", c.id).Str("remote", c.remote).Str("reset_reason", reason.String()).Msg("connection reset (RST sent)")
	if tc := c.tcp(); tc != nil {
		tc.SetLinger(0)
		tc.Close() // the socket itself: over TLS, no close_notify write that could block
		return
	}
	c.nc.Close()
}

// closeGracefully closes gracefully: half-close the write side, read and discard what
// the peer still sends until its FIN (bounded by DrainTimeout), close. A
// peer that does not close in time is reset (ResetDrainTimeout): what it
// sends after our close would draw the kernel's reset anyway, uncounted.
func (c *conn) closeGracefully() {
	s := c.s
	if c.ended.Load() {
		return
	}
	c.dlMu.Lock()
	c.draining.Store(true)
	c.nc.SetReadDeadline(time.Now().Add(s.cfg.DrainTimeout))
	c.dlMu.Unlock()
	s.leaveSlot(c)
	c.closeWrite()
	buf := make([]byte, 512)
	for {
		if _, err := c.nc.Read(buf); err != nil {
			switch {
			case errors.Is(err, io.EOF):
				s.stats.peerEOF.Add(1)
				c.close()
			case isReset(err):
				s.stats.peerResets.Add(1)
				c.close()
			case isTimeout(err):
				c.resetWith(ResetDrainTimeout, s.event(logReset, zerolog.WarnLevel).Dur("drain_timeout", s.cfg.DrainTimeout))
			default:
				c.close() // closed under us (forced shutdown): already counted
			}
			return
		}
	}
}
