// Package transport keeps one persistent Modbus TCP connection to one PLC:
// it dials, frames every request at its exact ADU length in one write
// (TCP_NODELAY on), pairs answers with requests by transaction id, applies
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
// header, check the length field (2..254), then read exactly length-1 more
// bytes; split and coalesced segments are normal. One reader goroutine per
// link reads every frame and routes it by transaction id, so several
// requests may be outstanding at once (Options.MaxInFlight, up to 16 as the
// guide allows [IG §4.2.1]).
//
// What the link does with each kind of bad input:
//   - an answer whose transaction id matches no waiting request is the late
//     answer to a request that timed out: dropped and counted
//     (Stats.StaleDropped), the link stays up;
//   - an answer that does not decode against its request (wrong function
//     code, wrong byte count, truncated body), a foreign protocol id, a
//     length field outside 2..254, a frame not completed within
//     Options.Timeout of its first byte, EOF, a reset or a write error: the
//     stream can no longer be trusted, so the link goes down and the
//     supervisor re-dials with Options.Backoff.
//
// The unit id of an answer is not checked: a server directly on TCP may
// put anything there [IG §4.4.1.3]; answers are paired by transaction id.
//
// While the link is down a request waits for the next one within its ctx,
// or fails at once with ErrNotConnected when Options.FailFast is set; it is
// never queued beyond its ctx. A request that was written when the link
// went down is sent again only if Options.Retries allows and it is a read,
// or OpError.Sent was false, or Options.RetryWrites is set.
package transport
