// Package transport keeps one persistent Modbus TCP connection to one PLC:
// it dials, frames every request at its exact ADU length in one write
// (TCP_NODELAY on; requests in flight together share that write, see
// below), pairs answers with requests by transaction id, applies
// deadlines from the caller's context, re-dials by itself after a lost link,
// and closes gracefully so that normal use never sends a TCP reset.
//
//	conn, err := transport.Dial(ctx, "127.0.0.1:502", transport.Options{
//		Timeout: 500 * time.Millisecond,
//		Retries: 1, // reads are sent again once after a reconnect
//	})
//	if err != nil {
//		return err
//	}
//	defer conn.Close()
//	rsp, err := conn.Send(ctx, 1, modbus.NewReadHoldingRegisters(0, 10))
//	var exc *modbus.ExceptionError
//	switch {
//	case errors.As(err, &exc): // the device refused: exc.Code
//	case errors.Is(err, context.DeadlineExceeded): // no answer in time
//	case err != nil: // link trouble; err.(*transport.OpError).Sent says if it went out
//	}
//	regs := rsp.(*modbus.RegistersResponse).Registers()
//
// Framing follows the TCP guide [IG §3.1.2, §4.3]: read the 7-byte MBAP
// header, check the length field (2..254), then take exactly length-1 more
// bytes; split and coalesced segments are normal. Frames are read by the
// requests themselves: one request waiting for its answer at a time reads
// the link and routes every frame by transaction id, others' answers to
// them, so several requests may be outstanding at once (Options.MaxInFlight,
// up to 16 as the guide allows [IG §4.2.1]) and a lone request reads its own
// answer without a hand-off between goroutines. Likewise a request that
// finds another writing queues its ADU, and the writer writes all queued
// ADUs after its own in one system call; each request still learns how
// much of its own ADU went out (OpError.Sent), and one of which nothing
// went out is written by itself or moves to the next link, never resent
// after a byte of it was written. While no request has run
// for a moment, a goroutine per link reads it instead, so that a FIN, a
// reset or junk on an idle link is noticed at once.
//
// What the link does with each kind of bad input:
//   - an answer whose transaction id matches no waiting request is the late
//     answer to a request that gave up, or a duplicate of a recent answer:
//     dropped and counted (Stats.StaleDropped), the link stays up;
//   - an answer that cannot be trusted to be its request's own: from
//     another unit id than its request's (ErrWrongUnit), or out of order
//     (ErrStreamOutOfOrder, below). It is refused (Stats.Refused), never
//     returned, and the link goes down: every request waiting on it fails
//     with that error, Sent true. A read among them goes again on the next
//     link: a party to an out-of-order refusal (the request the answer
//     came for, the older one it overtook) once, any other (a bystander)
//     up to 8 times, neither using Options.Retries;
//   - an answer that does not decode against its request (wrong function
//     code, wrong byte count, truncated body), a foreign protocol id, a
//     length field outside 2..254, a frame not completed within
//     Options.Timeout of its first byte, EOF, a reset or a write error: the
//     stream can no longer be trusted, so the link goes down and the
//     supervisor re-dials with Options.Backoff. For an answer that does not
//     decode, the request it came for fails with the decode error, and the
//     reads that were waiting for their own answers are bystanders as
//     above.
//
// Order. The guide pairs answers with requests by transaction id and
// promises no order [IG §4.4.1.3], but one device executes the requests of
// a connection one after the other, so its answers come in the order the
// requests were written; only a gateway interleaves its devices. By default
// an answer is refused as out of order when an older request to the same
// unit id is still unanswered (waiting, or given up with its answer not yet
// come), or when it matches no request while one to its unit is unanswered:
// either is what an answer under a wrong transaction id looks like (a
// request that gave up, then its answer taken by the next one), and nothing
// tells it from a genuine reordering. Options.AllowReorder turns this off
// for devices that really reorder, at the risk of a mislabelled answer
// being taken for another request's.
// So that a write is not executed and then refused, a write that would go
// out on a quiet link where an earlier request to its unit gave up with its
// answer not yet come goes to a new link instead (the old one is retired).
//
// A link can also die without a byte or an error arriving: a pulled cable,
// a PLC whose Modbus task hung. Three things notice it, whichever first:
//   - TCP keepalive (Options.KeepAlive), on an idle link;
//   - TCP_USER_TIMEOUT (Options.UserTimeout, Linux), when data we wrote stays
//     unacknowledged: the kernel ends the connection, the reader sees
//     ETIMEDOUT;
//   - Options.DeadAfterTimeouts: that many requests in a row timed out with
//     no frame at all arriving while they waited, for an in-flight slot or
//     for their answer (a request that got its slot with its deadline
//     nearly spent, as under load, does not count while answers come). The
//     link is dropped with ErrLinkDead (which requests still waiting on it
//     get) and re-dialled. Any frame, even a late answer, resets the count,
//     so a slow PLC is not cut off unless it answers later than
//     DeadAfterTimeouts times the request timeout. Cancelled requests do
//     not count.
//
// Transaction ids come from one 16-bit counter per Conn. An id is not
// handed out while a request waits for it, nor while the late answer of a
// request that gave up on it may still come (up to 1024 such ids per link),
// so a late answer can never be taken for a newer request's, even after the
// counter wraps. Answers on a link that is gone are never read, so ids
// cannot collide across links.
//
// While the link is down a request waits for the next one within its ctx,
// or fails at once with ErrNotConnected when Options.FailFast is set; it is
// never queued beyond its ctx. A request that was written when the link
// went down is sent again only if Options.Retries allows and it is a read,
// or OpError.Sent was false, or Options.RetryWrites is set.
//
// # TLS
//
// With Options.TLS set, every link is Modbus/TCP Security: the same frames
// inside TLS 1.2 or 1.3 (tls.go), everything above unchanged. A failure of
// the handshake or of a certificate is a *TLSError (errors.Is with
// ErrTLSCertExpired, ErrTLSUnknownCA, ErrTLSWrongHost, ...). Close sends
// close_notify before the TCP half-close.
//
// # Watching the link
//
// State, OnStateChange and Stats tell a poller (plcctl watch) when service
// had a gap, in this order for each loss:
//  1. The link is lost (anything above but Close). Stats.LinkDowns is
//     incremented (and Stats.DeadLinks, for DeadAfterTimeouts) before any
//     request hears of the loss.
//  2. The supervisor calls OnStateChange(StateReconnecting), once per loss
//     however many dials it then takes.
//  3. A new link is up: Stats.Reconnects is incremented before any request
//     can use it.
//  4. OnStateChange(StateConnected).
//
// So while the Conn is open, LinkDowns-Reconnects is 1 during a gap and 0
// otherwise, and a poller that sees Reconnects (or LinkDowns) change between
// two rounds knows a gap lay between them, even one too short to fail a
// request. State returns the last state given to OnStateChange; it trails
// the counters by the supervisor's wake-up, so a request may fail from a
// lost link an instant before State says StateReconnecting. OnStateChange
// is called by Dial, then the supervisor, then Close, one call at a time, in
// order; it must not block or call Close. Dial reports StateConnecting then
// StateConnected, or StateClosed if it fails. Close counts no loss: it ends
// with one OnStateChange(StateClosed) after every goroutine has exited.
package transport
