package transport

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/plcctl/plcctl/modbus"
)

var (
	// ErrClosed: the Conn was closed before or while the request ran.
	ErrClosed = errors.New("transport: connection closed")
	// ErrNotConnected: the link was down and the request could not wait for
	// it (FailFast), or its ctx ended while it waited. In the second case
	// the error also matches ctx.Err(). Either way it also wraps why the
	// last link went down and why reconnecting has failed since, when known
	// (errors.As finds the dial's *net.OpError first).
	ErrNotConnected = errors.New("transport: not connected")
	// ErrTooManyStale: more consecutive answers matched no waiting request
	// than any number of timed-out requests can explain; the link is dropped.
	ErrTooManyStale = errors.New("transport: too many answers with unknown transaction ids")
	// ErrLinkDead: Options.DeadAfterTimeouts requests in a row timed out
	// with nothing at all arriving on the link, so it was dropped and is
	// being re-dialled. Requests still waiting on that link fail with it.
	ErrLinkDead = errors.New("transport: link dead: requests timed out with no answer")
	// ErrStreamOutOfOrder: an answer came for a request while an older
	// request to the same unit was still unanswered (waiting, or given up
	// with its answer not yet come). One device answers in order, so the
	// answer may be the older request's under a wrong transaction id: it is
	// not returned, the link is dropped and every request waiting on it
	// fails with this error (Sent true). Options.AllowReorder turns the
	// check off for gateways that really reorder.
	ErrStreamOutOfOrder = errors.New("transport: answers out of order: the stream cannot be trusted")
	// ErrWrongUnit: an answer carried another unit id than its request's.
	// Like ErrStreamOutOfOrder, it fails the request and drops the link.
	ErrWrongUnit = errors.New("transport: answer from another unit id")
	// ErrOutcomeUnknown is matched (errors.Is) by the *OpError of a request
	// that changes the device (anything but a read) when it was sent and no
	// answer to it was taken: dropped, the link closed or reset after it
	// left, its ctx ended, or an answer refused as not its own. The device
	// may have executed it. Not sent (OpError.Sent false) means it did not;
	// an exception answer means it was refused. See OpError.OutcomeUnknown.
	ErrOutcomeUnknown = errors.New("outcome unknown: the write may have been applied")
	// errNilRequest is the error of Send(ctx, unit, nil).
	errNilRequest = errors.New("transport: nil request")
	// errPeerClosed wraps io.EOF when the peer closes the link between frames.
	errPeerClosed = &peerClosedError{}
)

type peerClosedError struct{}

func (*peerClosedError) Error() string { return "connection closed by peer: EOF" }
func (*peerClosedError) Unwrap() error { return io.EOF }

// OpError is the error of one request. Sent tells whether the request may
// have reached the device: a write with Sent false provably did not happen,
// so it is safe to send again.
type OpError struct {
	Op   string // the function, e.g. "read holding registers"
	Addr string // remote address as dialled
	TID  uint16 // transaction id of the last attempt (0 if none was assigned)
	Sent bool   // some or all of the request's bytes were written
	Err  error

	changes bool // the request is not a read (see OutcomeUnknown)
}

// Error names the function, the address and the cause, and says when the
// outcome of a write is unknown.
func (e *OpError) Error() string {
	// The cause may be one of this package's errors: say "transport: " once.
	s := "transport: " + e.Op + " " + e.prep() + " " + e.Addr + ": " + strings.TrimPrefix(e.Err.Error(), "transport: ")
	if e.OutcomeUnknown() {
		s += " (" + ErrOutcomeUnknown.Error() + ")"
	}
	return s
}

// OutcomeUnknown reports whether the request changes the device (it is not
// a read: FC 1-4, 20, 24 or 43/14), was sent, and got no answer it could
// take, not even an exception: the device may or may not have executed it,
// so read back before writing again. errors.Is(err, ErrOutcomeUnknown)
// says the same through any wrapping. A plc.Client's own refusals (nothing
// sent) never match.
func (e *OpError) OutcomeUnknown() bool {
	var exc *modbus.ExceptionError
	return e.changes && e.Sent && !errors.As(e.Err, &exc)
}

// Is makes errors.Is(err, ErrOutcomeUnknown) true when OutcomeUnknown is.
func (e *OpError) Is(target error) bool { return target == ErrOutcomeUnknown && e.OutcomeUnknown() }

func (e *OpError) prep() string {
	if len(e.Op) >= 4 && e.Op[:4] == "read" {
		return "from"
	}
	return "to"
}

// Unwrap returns the cause: a *modbus.ExceptionError, a *modbus.FrameError,
// a *modbus.RequestError, ctx.Err(), ErrClosed, ErrNotConnected, ErrLinkDead
// or a network error.
func (e *OpError) Unwrap() error { return e.Err }

// Timeout reports whether the request failed because its deadline passed.
func (e *OpError) Timeout() bool { return errors.Is(e.Err, context.DeadlineExceeded) }

// idempotent reports whether sending req twice is harmless: reads, which
// may be retried after a reconnect without the caller opting in.
func idempotent(req modbus.Request) bool {
	if fc := req.Function(); fc != modbus.FuncEncapsulatedInterface {
		return fc.IsRead()
	}
	_, ok := req.(*modbus.ReadDeviceID)
	return ok
}
