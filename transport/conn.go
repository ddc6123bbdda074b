package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/modbus"
)

// Conn is one persistent Modbus TCP connection to one PLC, safe for
// concurrent use. It re-dials by itself when the link is lost; see Dial.
type Conn struct {
	addr string
	opts Options
	log  zerolog.Logger
	slog supLog // the supervisor's rate limit (loglimit.go)
	// The logger's level is fixed when Dial copies it (zerolog's global
	// level can only silence more), so a level above trace or debug means
	// those lines are never written: then a request skips them without
	// asking zerolog for an event at all.
	tracing, debugging bool
	dialer             net.Dialer
	tls                *tls.Config // nil: plain TCP; see tls.go

	ctx    context.Context // cancelled by Close: stops dialling and waiting
	cancel context.CancelFunc
	sem    slots         // one slot per request allowed in flight, handed over in order
	tid    atomic.Uint32 // last transaction id handed out

	mu        sync.Mutex
	link      *link         // nil while the link is down
	linkUp    chan struct{} // closed when the next link is installed
	lastDown  error         // why the last link went down
	lastDial  error         // why the last redial since then failed, or nil
	closed    bool
	closeDone chan struct{}

	spare       atomic.Pointer[call] // a free call with a cached ctx registration, tried before calls
	calls       chan *call           // more of them (exchange.go)
	callsClosed atomic.Bool

	state  atomic.Int32
	stats  counters
	frames atomic.Uint64  // complete frames received on every link, for silence (link.abandon)
	wg     sync.WaitGroup // supervisor and link watchers
}

// Dial connects to addr ("host:port") and returns a Conn ready for
// requests. It fails if the first connection attempt fails; later losses
// are recovered in the background with Options.Backoff.
func Dial(ctx context.Context, addr string, opts Options) (*Conn, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	c := &Conn{
		addr:      addr,
		opts:      opts,
		log:       opts.Logger.With().Str("remote", addr).Logger(),
		calls:     make(chan *call, opts.MaxInFlight),
		linkUp:    make(chan struct{}),
		closeDone: make(chan struct{}),
	}
	c.sem.init(opts.MaxInFlight)
	c.tracing = c.log.GetLevel() <= zerolog.TraceLevel
	c.debugging = c.log.GetLevel() <= zerolog.DebugLevel
	c.dialer.KeepAlive = -1
	if opts.KeepAlive > 0 {
		c.dialer.KeepAliveConfig = net.KeepAliveConfig{Enable: true, Idle: opts.KeepAlive,
			Interval: opts.KeepAlive, Count: 3}
	}
	if opts.TLS != nil {
		c.tls = tlsConfig(opts.TLS, addr)
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.setState(StateConnecting)
	nc, err := c.dial(ctx)
	if err != nil {
		c.cancel()
		c.setState(StateClosed)
		var ne *net.OpError
		if errors.As(err, &ne) { // it names the operation and the address already
			return nil, fmt.Errorf("transport: %w", err)
		}
		return nil, fmt.Errorf("transport: dial %s: %w", addr, err)
	}
	l := c.install(nc, false)
	c.setState(StateConnected)
	c.wg.Add(1)
	go c.supervise(l)
	return c, nil
}

// dial makes one connection attempt, bounded by ctx and DialTimeout: TCP,
// then TLS when configured.
func (c *Conn) dial(ctx context.Context) (linkConn, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.DialTimeout)
	defer cancel()
	nc, err := c.dialer.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, err
	}
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		nc.Close()
		return nil, errors.New("not a TCP connection")
	}
	// Go sets TCP_NODELAY by default; say so, since one ADU per segment
	// without Nagle delay is what the guide asks for [IG §4.3.2].
	if err := tc.SetNoDelay(true); err != nil {
		tc.Close()
		return nil, err
	}
	if c.opts.UserTimeout > 0 {
		if err := setUserTimeout(tc, c.opts.UserTimeout); err != nil {
			// Not fatal: DeadAfterTimeouts and keepalive still watch the link.
			c.log.Warn().Err(err).Msg("cannot set TCP_USER_TIMEOUT")
		}
	}
	if c.tls != nil {
		return c.handshake(ctx, tc)
	}
	return tc, nil
}

// Addr returns the address the Conn dials.
func (c *Conn) Addr() string { return c.addr }

// State returns the current state.
func (c *Conn) State() State { return State(c.state.Load()) }

// setState records s and tells OnStateChange. State changes happen in
// Dial, then in the supervisor, then in Close, never concurrently, so the
// callback sees them in order.
func (c *Conn) setState(s State) {
	c.state.Store(int32(s))
	if c.opts.OnStateChange != nil {
		c.opts.OnStateChange(s)
	}
}

// Send validates req, sends it to unit and returns the decoded response. A
// request the codec refuses (modbus.Request.Validate), or whose items run
// past address 65535 (modbus.CheckAddresses), never reaches the wire: its
// error wraps the *modbus.RequestError. An exception response is an error
// wrapping *modbus.ExceptionError. Every error is an *OpError.
//
// Without a ctx deadline, Options.Timeout applies. When the ctx ends first,
// the error wraps ctx.Err() and the connection stays usable: a late answer
// is dropped when it comes.
func (c *Conn) Send(ctx context.Context, unit uint8, req modbus.Request) (modbus.PDU, error) {
	if req == nil {
		return nil, &OpError{Op: "send", Addr: c.addr, Err: errNilRequest}
	}
	if err := validate(req); err != nil {
		return nil, &OpError{Op: req.Function().String(), Addr: c.addr, Err: err}
	}
	start := time.Now()
	cl := c.getCall(ctx, unit, req, start, c.opts.Timeout)
	r := c.send(ctx, cl, start)
	c.putCall(cl)
	if r.err != nil {
		return nil, r.err
	}
	return r.pdu, nil
}

// ReadRegistersInto reads len(dst) registers at addr from unit with fc (FC 3
// or 4) into dst and returns dst, as Send with a *modbus.ReadRegisters would,
// but the answer's values go straight from the read buffer into dst: in
// steady state a read allocates nothing. On error dst's contents are
// unspecified and the error is an *OpError, as Send's.
func (c *Conn) ReadRegistersInto(ctx context.Context, unit uint8, fc modbus.FunctionCode, addr uint16, dst []uint16) ([]uint16, error) {
	if fc != modbus.FuncReadHoldingRegisters && fc != modbus.FuncReadInputRegisters {
		return nil, &OpError{Op: fc.String(), Addr: c.addr, Err: &modbus.RequestError{Function: fc, Field: "function code",
			Reason: "not a register read (FC 3 or 4)", Code: modbus.IllegalFunction}}
	}
	q := uint16(min(len(dst), 0xFFFF)) // past 125 anyway: Validate refuses it
	start := time.Now()
	cl := c.getCall(ctx, unit, nil, start, c.opts.Timeout)
	cl.rr = modbus.ReadRegisters{FC: fc, Address: addr, Quantity: q}
	cl.req, cl.into, cl.intoSet = &cl.rr, dst[:0], true
	if err := validate(&cl.rr); err != nil {
		c.putCall(cl)
		return nil, &OpError{Op: fc.String(), Addr: c.addr, Err: err}
	}
	r := c.send(ctx, cl, start)
	c.putCall(cl)
	if r.err != nil {
		return nil, r.err
	}
	return dst, nil
}

// validate is what a request must pass before it may be sent: the codec's
// field checks, then the address space (no device has an item past 65535).
func validate(req modbus.Request) error {
	if err := req.Validate(); err != nil {
		return err
	}
	return modbus.CheckAddresses(req)
}

// send encodes cl's request into cl's buffer and runs it; r.err is an
// *OpError or nil.
func (c *Conn) send(ctx context.Context, cl *call, start time.Time) result {
	req := cl.req
	adu, err := modbus.AppendADU(cl.buf[:0], 0, cl.unit, req)
	if err != nil {
		return result{err: &OpError{Op: req.Function().String(), Addr: c.addr, Err: err}}
	}
	c.stats.requests.Add(1)
	r := c.transact(ctx, cl, adu)
	c.logTransaction(cl.unit, req, r, start)
	if r.err != nil {
		if isCtxErr(r.err) {
			c.stats.timeouts.Add(1)
		}
		// The function's name is looked up only for an error, not on every request.
		r.err = &OpError{Op: req.Function().String(), Addr: c.addr, TID: r.tid, Sent: r.sent, Err: r.err,
			changes: !idempotent(req)}
	}
	return r
}

// maxBystanderReads bounds how many times one read goes again because its
// link was dropped for other requests' answers (result.bystander), so that a
// device that keeps spoiling its answers cannot keep a read going until its
// deadline.
const maxBystanderReads = 8

// transact takes an in-flight slot and runs the request, sending it again
// after a lost link when Options allow.
func (c *Conn) transact(ctx context.Context, cl *call, adu []byte) result {
	if err := c.acquire(ctx, cl); err != nil {
		return result{err: err}
	}
	defer c.sem.unlock()
	var sent, resent bool
	retries, bystood := 0, 0
	for {
		l, err := c.awaitLink(ctx, cl, retries > 0 || resent || bystood > 0)
		if err != nil {
			return result{err: err, sent: sent}
		}
		r := l.exchange(ctx, cl, adu)
		if r.down && !r.sent && cl.expired(ctx) == nil {
			continue // the link died before a byte went out: wait for the next one
		}
		r.sent = r.sent || sent
		sent = r.sent
		if r.bystander && idempotent(cl.req) && bystood < maxBystanderReads && cl.expired(ctx) == nil {
			// The link was dropped for another request's answer; nothing
			// is known against this one's, and reading again cannot
			// move anything: it does not count as a retry.
			bystood++
			c.stats.retries.Add(1)
			c.log.Debug().Uint16("tid", r.tid).Stringer("fc", cl.req.Function()).Int("time", bystood).
				Err(r.err).Msg("reading again: the link was dropped for another request's answer")
			continue
		}
		if !resent && r.err != nil && errors.Is(r.err, ErrStreamOutOfOrder) && idempotent(cl.req) && cl.expired(ctx) == nil {
			// The refused answer was maybe the read's own, maybe an older
			// request's: reading again on a fresh link cannot hurt. Once.
			resent = true
			c.stats.retries.Add(1)
			c.log.Debug().Uint16("tid", r.tid).Stringer("fc", cl.req.Function()).Msg("reading again after an answer out of order")
			continue
		}
		if !r.down || retries >= c.opts.Retries || cl.expired(ctx) != nil ||
			(r.sent && !idempotent(cl.req) && !c.opts.RetryWrites) {
			return r
		}
		retries++
		c.stats.retries.Add(1)
		c.log.Debug().Uint16("tid", r.tid).Stringer("fc", cl.req.Function()).Int("attempt", retries).
			Err(r.err).Msg("retrying after lost link")
	}
}

// acquire takes an in-flight slot, waiting within the request's ctx and
// deadline. With FailFast, a request never waits for a slot while the link
// is down: it fails with ErrNotConnected before it takes one, or as soon as
// the link goes down while it waits (the slots may be held by retries
// waiting for the next link).
func (c *Conn) acquire(ctx context.Context, cl *call) error {
	var down <-chan struct{}
	if c.opts.FailFast {
		c.mu.Lock()
		closed, l := c.closed, c.link
		c.mu.Unlock()
		switch {
		case closed:
			return ErrClosed
		case l == nil:
			return c.notConnected(nil)
		}
		down = l.done
	}
	if c.sem.tryLock() { // first: lock's arguments would arm cl's timer
		return nil
	}
	switch c.sem.lock(&cl.sw, down, ctx.Done(), c.ctx.Done(), cl.timeout()) {
	case 0:
		return c.notConnected(nil)
	case 1:
		return ctx.Err()
	case 2:
		return ErrClosed
	case 3:
		return context.DeadlineExceeded
	}
	return nil
}

// awaitLink returns the current link, waiting within the request's ctx and
// deadline while it is down (unless FailFast and this is not a retry).
func (c *Conn) awaitLink(ctx context.Context, cl *call, retry bool) (*link, error) {
	for {
		c.mu.Lock()
		closed, l, up := c.closed, c.link, c.linkUp
		c.mu.Unlock()
		switch {
		case closed:
			return nil, ErrClosed
		case l != nil:
			return l, nil
		case c.opts.FailFast && !retry:
			return nil, c.notConnected(nil)
		}
		select {
		case <-up:
		case <-ctx.Done():
			return nil, c.notConnected(ctx.Err())
		case <-cl.timeout():
			return nil, c.notConnected(context.DeadlineExceeded)
		case <-c.ctx.Done():
			return nil, ErrClosed
		}
	}
}

func (c *Conn) logTransaction(unit uint8, req modbus.Request, r result, start time.Time) {
	if !c.debugging {
		return
	}
	e := c.log.Debug()
	if !e.Enabled() {
		return
	}
	e.Uint16("tid", r.tid).Uint8("unit_id", unit).Stringer("fc", req.Function()).
		Dur("elapsed", time.Since(start)).Bool("sent", r.sent).Err(r.err).Msg("transaction")
}

// traceFrame logs one frame at trace level, dir "tx" or "rx".
func (c *Conn) traceFrame(tid uint16, dir string, adu []byte) {
	if c.tracing {
		c.log.Trace().Uint16("tid", tid).Hex(dir, adu).Msg("frame")
	}
}

// install makes nc the current link and starts its watcher; it returns nil
// (and closes nc) if the Conn was closed meanwhile. A link that replaces a
// lost one is counted in Stats.Reconnects before any request can use it.
func (c *Conn) install(nc linkConn, reconnect bool) *link {
	l := newLink(c, nc)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		nc.Close()
		return nil
	}
	if reconnect {
		c.stats.reconnects.Add(1)
	}
	c.link = l
	// Logged before the link is published, so "connected" always precedes
	// anything a request on the new link can cause or observe.
	c.supEvent(supConnected, zerolog.InfoLevel).Str("local", nc.LocalAddr().String()).Msg("connected")
	close(c.linkUp)
	c.wg.Add(1)
	c.mu.Unlock()
	go l.watch()
	return l
}

// detach forgets l if it is the current link, so requests wait for the
// next. It reports whether the Conn is still open (Close not called).
func (c *Conn) detach(l *link) (open bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.link == l {
		c.link = nil
		c.linkUp = make(chan struct{})
		c.lastDown = l.err // set by fail, which holds l.mu
		c.lastDial = nil
	}
	return !c.closed
}

// noteDown records why a redial failed, for requests that time out waiting.
func (c *Conn) noteDown(err error) {
	c.mu.Lock()
	c.lastDial = err
	c.mu.Unlock()
}

// notConnected is the error of a request that gave up waiting for a link
// (why: ctx.Err() or DeadlineExceeded), or that could not wait (FailFast,
// why nil). It wraps why the last link went down and why the last redial
// since then failed, so that a caller sees why the link is down (a reset,
// then a TLS refusal or nothing listening), not only that it is.
func (c *Conn) notConnected(why error) error {
	c.mu.Lock()
	down, dial := c.lastDown, c.lastDial
	c.mu.Unlock()
	switch {
	case down == nil && dial == nil && why == nil:
		return ErrNotConnected
	case down == nil && dial == nil:
		return fmt.Errorf("%w: %w", ErrNotConnected, why)
	}
	return &notConnectedError{why: why, down: down, dial: dial}
}

// notConnectedError says the link's story in the order it happened (went
// down, then reconnecting failed), but unwraps the redial's error before
// the lost link's, so that errors.As for a *net.OpError finds the dial's:
// that is what stands between the request and the device now.
type notConnectedError struct{ why, down, dial error }

func (e *notConnectedError) Error() string {
	s := ErrNotConnected.Error()
	if e.why != nil {
		s += ": " + e.why.Error()
	}
	switch {
	case e.down != nil && e.dial != nil:
		return s + " (the link went down: " + e.down.Error() + "; reconnecting failed: " + e.dial.Error() + ")"
	case e.down != nil:
		return s + " (the link went down: " + e.down.Error() + ")"
	}
	return s + " (reconnecting failed: " + e.dial.Error() + ")"
}

func (e *notConnectedError) Unwrap() []error {
	errs := []error{ErrNotConnected}
	if e.why != nil {
		errs = append(errs, e.why)
	}
	if e.dial != nil {
		errs = append(errs, e.dial)
	}
	if e.down != nil {
		errs = append(errs, e.down)
	}
	return errs
}

// Close refuses new requests, half-closes the write side, lets answers to
// requests in flight arrive until the peer's FIN (at most Options.Timeout),
// then closes. Requests still waiting fail with ErrClosed. Close returns
// after every goroutine the Conn started has exited; later calls return nil.
// It is CloseContext with a ctx that never ends.
func (c *Conn) Close() error { return c.CloseContext(context.Background()) }

// CloseContext is Close bounded by ctx as well: the graceful part (waiting
// for a write in progress, then for the peer's FIN) ends at Options.Timeout
// or when ctx ends, whichever comes first; the socket is then closed at
// once (a peer still sending may then see a reset). It returns ctx.Err() if
// ctx ended before the close was graceful, nil otherwise. Like Close it
// returns after every goroutine the Conn started has exited, which takes no
// longer once the socket is closed. A call made while another is closing
// waits for that one within its own ctx.
func (c *Conn) CloseContext(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		select {
		case <-c.closeDone:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c.closed = true
	l := c.link
	c.mu.Unlock()
	c.cancel()
	graceful := true
	if l != nil {
		graceful = l.shutdown(ctx)
	}
	c.wg.Wait()
	c.callsClosed.Store(true)
	c.drainCalls()
	c.setState(StateClosed)
	close(c.closeDone)
	if !graceful && ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

// Stats is a snapshot of a Conn's counters. They only grow. See the
// package documentation for when LinkDowns and Reconnects change relative
// to State and OnStateChange.
type Stats struct {
	Requests     uint64 // Send calls that passed validation
	Responses    uint64 // answers matched to a request, exceptions included
	Exceptions   uint64 // exception answers
	Timeouts     uint64 // requests ended by their ctx (deadline or cancel)
	StaleDropped uint64 // answers that matched no waiting request, dropped
	LinkDowns    uint64 // links lost for any reason but Close, DeadLinks included
	DeadLinks    uint64 // links dropped after DeadAfterTimeouts silent timeouts in a row
	Reconnects   uint64 // links re-established after a loss
	Retries      uint64 // requests sent again on a new link: by Options.Retries, after an answer out of order, as a bystander
	Refused      uint64 // answers refused as not the request's own (out of order, another unit id): link dropped
}

type counters struct {
	requests, responses, exceptions, timeouts, stale, downs, dead, reconnects, retries, refused atomic.Uint64
}

// Stats returns the counters. Each is read atomically, the set is not: a
// snapshot taken during a reconnect may show LinkDowns but not yet the
// matching Reconnects.
func (c *Conn) Stats() Stats {
	s := &c.stats
	return Stats{Requests: s.requests.Load(), Responses: s.responses.Load(), Exceptions: s.exceptions.Load(),
		Timeouts: s.timeouts.Load(), StaleDropped: s.stale.Load(), LinkDowns: s.downs.Load(),
		DeadLinks: s.dead.Load(), Reconnects: s.reconnects.Load(), Retries: s.retries.Load(),
		Refused: s.refused.Load()}
}
