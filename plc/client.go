package plc

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/transport"
)

// DefaultUnitID is the unit id a Client addresses unless told otherwise: 1,
// as mbpoll and modpoll default to.
const DefaultUnitID = 1

// Options configures a Client: the transport's options (timeouts,
// pipelining, retries, backoff, logger) plus the default unit id.
type Options struct {
	transport.Options
	// UnitID is the unit id of every request; 0 means DefaultUnitID. Unit
	// 0 itself is reached with WithUnit(0).
	UnitID uint8
}

func (o Options) withDefaults() Options {
	if o.UnitID == 0 {
		o.UnitID = DefaultUnitID
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = 1
	}
	return o
}

// Client is the API for one PLC: context-first methods for every public
// function code, returning Go values. It is safe for concurrent use; all
// Clients derived with WithUnit share one connection.
type Client struct {
	conn     *transport.Conn
	unit     uint8
	inFlight int // how many split requests may run at once
}

// Dial connects to the PLC at addr ("host:port"). The connection recovers by
// itself after a loss; see package transport.
func Dial(ctx context.Context, addr string, opts Options) (*Client, error) {
	opts = opts.withDefaults()
	conn, err := transport.Dial(ctx, addr, opts.Options)
	if err != nil {
		return nil, err
	}
	return &Client{conn: conn, unit: opts.UnitID, inFlight: opts.MaxInFlight}, nil
}

// Close closes the shared connection gracefully (see transport.Conn.Close):
// every Client derived with WithUnit stops working.
func (c *Client) Close() error { return c.conn.Close() }

// CloseContext is Close bounded by ctx as well (see
// transport.Conn.CloseContext): a service closing many Clients at shutdown
// gives them all one deadline. It returns ctx.Err() if ctx ended before the
// close was graceful.
func (c *Client) CloseContext(ctx context.Context) error { return c.conn.CloseContext(ctx) }

// WithUnit returns a Client for unit id on the same connection, e.g. one
// serial device behind a gateway [IG §4.4.1.2]. Clients for different units
// may be used concurrently.
func (c *Client) WithUnit(id uint8) *Client {
	return &Client{conn: c.conn, unit: id, inFlight: c.inFlight}
}

// UnitID returns the unit id this Client addresses.
func (c *Client) UnitID() uint8 { return c.unit }

// Conn returns the underlying connection, e.g. for State and Stats.
func (c *Client) Conn() *transport.Conn { return c.conn }

// Do sends any request to the Client's unit and returns the decoded
// response. Errors are the transport's (*transport.OpError); an exception
// answer wraps *modbus.ExceptionError.
func (c *Client) Do(ctx context.Context, req modbus.Request) (modbus.PDU, error) {
	return c.conn.Send(ctx, c.unit, req)
}

// Raw sends function code fc with data as the rest of the PDU and returns
// the response PDU's data (after the function code). It is the way to user-
// defined function codes (65-72, 100-110) [AP §5]; the answer is not
// checked beyond its function code.
func (c *Client) Raw(ctx context.Context, fc modbus.FunctionCode, data []byte) ([]byte, error) {
	rsp, err := c.Do(ctx, &modbus.Raw{FC: fc, Data: data})
	if err != nil {
		return nil, err
	}
	r, err := as[*modbus.Raw](rsp)
	if err != nil {
		return nil, err
	}
	return r.Data, nil
}

// refuse wraps an error the Client found itself (an argument refused
// before anything was sent, a ctx that ended between the requests of a
// split range, an answer that breaks a multi-request protocol) in a
// *transport.OpError, as every error of the package is: Sent says whether
// the request concerned reached the wire.
func (c *Client) refuse(fc modbus.FunctionCode, sent bool, err error) error {
	return &transport.OpError{Op: fc.String(), Addr: c.conn.Addr(), Sent: sent, Err: err}
}

// as asserts the response type; DecodeResponse guarantees it, so a
// mismatch is a bug, reported rather than panicking.
func as[T modbus.PDU](p modbus.PDU) (T, error) {
	t, ok := p.(T)
	if !ok {
		return t, fmt.Errorf("plc: unexpected response type %T", p)
	}
	return t, nil
}

// span is one request's share of a split range: n items at addr, stored at
// off in the result.
type span struct {
	addr uint16
	n    int
	off  int
}

// split cuts count items from addr into requests of at most max items,
// appended to dst (a caller's one-element array keeps the common single
// request off the heap). It refuses count 0 (exception 03 [AP §6]) and
// ranges past address 65535 (02), so no request of a split can be invalid
// on its own.
func split(dst []span, fc modbus.FunctionCode, addr uint16, count, max int) ([]span, error) {
	if count < 1 {
		return nil, &modbus.RequestError{Function: fc, Field: "quantity", Reason: "0, want at least 1",
			Code: modbus.IllegalDataValue}
	}
	if !modbus.InRange(modbus.AddressSpace, addr, count) {
		return nil, &modbus.RequestError{Function: fc, Field: "address range",
			Reason: fmt.Sprintf("%d+%d runs past address 65535", addr, count), Code: modbus.IllegalDataAddress}
	}
	if count <= max { // one request, the common case: nothing to compute
		return append(dst[:0], span{addr: addr, n: count}), nil
	}
	spans := slices.Grow(dst[:0], (count+max-1)/max)
	for off := 0; off < count; off += max {
		spans = append(spans, span{addr: addr + uint16(off), n: min(max, count-off), off: off})
	}
	return spans, nil
}

// readSpans runs do for every span: one after the other, or up to inFlight
// at once when the connection pipelines. The first error stops the rest. A
// ctx that ends before every span was started fails the first span not
// started (through fail, which says which span it was); once every span has
// succeeded, the read has succeeded, whatever the ctx does next.
func (c *Client) readSpans(ctx context.Context, spans []span, do func(context.Context, span) error,
	fail func(span, error) error) error {
	if len(spans) == 1 || c.inFlight <= 1 {
		for _, s := range spans { // each do's error wraps its *transport.OpError
			if err := do(ctx, s); err != nil {
				return err
			}
		}
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, c.inFlight)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	var notStarted *span
loop:
	for i, s := range spans {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			notStarted = &spans[i]
			break loop
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := do(ctx, s); err != nil {
				once.Do(func() { first = err; cancel() }) // later errors are ours
			}
		})
	}
	wg.Wait()
	if first == nil && notStarted != nil { // the ctx ended between spans: not one of ours
		first = fail(*notStarted, ctx.Err())
	}
	return first
}

// SpanError is the error of a read or write of a range of items that
// failed: which items, and for a write that plc split into several
// requests, how many of them the requests before the failed one had
// written. Err is the failed request's error (a *transport.OpError, a
// *ValueError...); errors.Is and errors.As see through it.
type SpanError struct {
	What    string // the items, as "holding registers" or "coil"
	Address uint16 // the first item of the request that failed
	Count   int    // its items
	Total   int    // the items of the whole call (Count unless split)
	// Written is how many items of a split write the requests before the
	// failed one wrote (they succeeded); 0 for a read, or when the first
	// request failed. The failed request's own items are not counted:
	// whether they were written is Err's to say (transport.ErrOutcomeUnknown).
	Written int
	Err     error
}

func (e *SpanError) Error() string {
	items := strconv.Itoa(int(e.Address))
	if e.Count > 1 {
		items += ".." + strconv.Itoa(int(e.Address)+e.Count-1)
	}
	switch {
	case e.Count == e.Total:
		return fmt.Sprintf("plc: %s %s: %v", e.What, items, e.Err)
	case e.Written > 0:
		return fmt.Sprintf("plc: %s %s (part of %d; the %d before it were written): %v",
			e.What, items, e.Total, e.Written, e.Err)
	}
	return fmt.Sprintf("plc: %s %s (part of %d): %v", e.What, items, e.Total, e.Err)
}

func (e *SpanError) Unwrap() error { return e.Err }

// spanError wraps err with the span that failed, and for a split write what
// was already written.
func spanError(what string, s span, total int, written bool, err error) error {
	e := &SpanError{What: what, Address: s.addr, Count: s.n, Total: total, Err: err}
	if written {
		e.Written = s.off
	}
	return e
}
