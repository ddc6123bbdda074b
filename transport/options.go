package transport

import (
	"crypto/tls"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/rs/zerolog"
)

// Defaults applied by withDefaults to zero fields of Options.
const (
	DefaultTimeout     = time.Second
	DefaultDialTimeout = 5 * time.Second
	DefaultKeepAlive   = 15 * time.Second
	// MinUserTimeout is the floor of the default UserTimeout.
	MinUserTimeout = 10 * time.Second
	// DefaultDeadAfterTimeouts is how many requests in a row may time out
	// on a link that receives nothing before it is declared dead.
	DefaultDeadAfterTimeouts = 3
	// MaxInFlightLimit caps pipelining: the TCP guide lets a client keep
	// several transactions outstanding on one connection [IG §4.2.1], and
	// 16 is what common servers accept.
	MaxInFlightLimit = 16
	// defaultStableAfter: a link up this long is taken to have worked, so
	// the reconnect after its loss goes at once and the backoff starts over.
	defaultStableAfter = time.Second
)

// Options configures a Conn. The zero value is valid: one request in flight,
// 1 s per request, 5 s per dial, keepalive every 15 s, unacknowledged data
// tolerated for 45 s, a link declared dead after 3 silent timeouts in a row,
// no retries, silent.
type Options struct {
	// Timeout bounds a request whose ctx has no deadline. It also bounds how
	// long the rest of a frame may take once its first byte has arrived, and
	// how long Close waits for the peer's FIN. Default 1 s.
	Timeout time.Duration
	// DialTimeout bounds each connection attempt. Default 5 s.
	DialTimeout time.Duration
	// KeepAlive is the TCP keepalive period, so a PLC behind a pulled cable
	// is noticed on an idle link. Default 15 s; negative turns keepalive off.
	KeepAlive time.Duration
	// UserTimeout is how long data we wrote may stay unacknowledged by the
	// peer's TCP before the kernel gives up on the connection
	// (TCP_USER_TIMEOUT, RFC 5482). Keepalive alone does not help while
	// requests are in flight: it only probes an idle link, and without this
	// the kernel retransmits for about 15 minutes. With keepalive on, it
	// also replaces the probe count: an idle link is dropped at the first
	// unanswered probe after UserTimeout of silence. Default
	// max(10 s, 3*KeepAlive) (45 s with the default KeepAlive; 10 s with
	// keepalive off); negative leaves the system default. Linux only;
	// ignored elsewhere.
	UserTimeout time.Duration
	// DeadAfterTimeouts declares a link dead after this many requests in a
	// row timed out (ctx deadline, not cancel) without any frame arriving
	// while they waited, for an in-flight slot or for their answer (so a
	// request that got its slot with too little time left for any answer,
	// under load, counts only if nothing came): a PLC behind a pulled
	// cable, or one whose Modbus task hung with its TCP stack still up.
	// The link is then closed and the supervisor re-dials, as after any
	// other loss (counted in Stats.DeadLinks and Stats.LinkDowns). Any
	// frame received, even a late answer, resets the count, so a slow but
	// alive PLC is not cut off. Default 3; negative never declares a link
	// dead this way.
	DeadAfterTimeouts int
	// MaxInFlight is how many requests may be outstanding on the connection
	// at once (pipelining). Default 1, at most 16. More callers than that
	// wait for a slot in the order they came, each within its own ctx and
	// deadline: a caller that sends again at once never passes one that
	// waits.
	MaxInFlight int
	// Retries is how many times a request that may have reached the device
	// before the link went down is sent again on the next link: reads
	// (FC 1-4, 20, 24, 43) always qualify, other writes only with
	// RetryWrites. A request that provably never reached the wire cannot
	// have been executed, so it always moves to the next link within its
	// deadline, whatever Retries says. Timeouts and exceptions are never
	// retried. A read whose answer was refused as out of order
	// (ErrStreamOutOfOrder) is sent once more on the next link whatever
	// Retries says: the answer was not trusted, and reading again cannot
	// move anything. So is, up to 8 times, a read that
	// was only waiting for its own answer when another request's answer was
	// refused or did not decode and the link was dropped for it (a
	// bystander). Default 0.
	Retries int
	// RetryWrites opts in to retrying writes that may have reached the
	// device, which may then execute them twice.
	RetryWrites bool
	// AllowReorder trusts answers on their transaction id alone, in any
	// order. By default an answer that overtakes an older request's to the
	// same unit is refused (ErrStreamOutOfOrder) and the link dropped: one
	// device executes its requests in order, so such an answer is more
	// likely an older request's answer under a wrong transaction id than a
	// genuine reordering. Set it only for a gateway or device known to
	// reorder answers to one unit id; a server that mislabels answers can
	// then hand a request another request's values.
	AllowReorder bool
	// FailFast makes a request fail at once with ErrNotConnected while the
	// link is down, instead of waiting for the reconnect within its ctx,
	// even when every in-flight slot is taken (by retries waiting for the
	// link): it neither waits for a slot nor keeps one. A retry always waits
	// within its ctx.
	FailFast bool
	// Backoff returns the wait before reconnect attempt n (n >= 1). Default:
	// exponential from 50 ms to 5 s, with jitter. The first dial after a
	// lost link that worked (it stayed up for 1 s, or brought 4 frames)
	// goes at once, and the attempts start over from 1; after a link that
	// did not they go on counting, so a device that resets every
	// connection at once, or after one answer, is dialled ever less often,
	// up to Backoff's limit, instead of once per request. A wait of 0 or
	// less dials again at once: against a refused port that is a busy loop.
	Backoff func(attempt int) time.Duration
	// Logger receives link events (info/warn), one line per transaction
	// (debug) and every frame in hex (trace). Nil means silent.
	Logger *zerolog.Logger
	// TLS, when set, runs every connection through TLS (Modbus/TCP
	// Security, port 802 by default): at least TLS 1.2, 1.3 preferred, the
	// server's certificate checked against RootCAs and against ServerName,
	// which defaults to the host of the address dialled (an IP address is
	// checked against the certificate's IP SANs). Certificates holds the
	// client certificate the server's role check needs. Failures are
	// *TLSError values (errors.Is with the ErrTLS* kinds). Nil: plain TCP.
	TLS *tls.Config
	// OnStateChange is called on every state change, one call at a time,
	// in order (see "Watching the link" in the package documentation). It
	// must not block or call Close.
	OnStateChange func(State)

	// idleWatch is how long a link goes without requests before its watcher
	// reads it (read.go); zero means defaultIdleWatch. Tests change it.
	idleWatch time.Duration
	// stableAfter is how long a link must stay up for the backoff to start
	// over after it is lost (supervise.go); zero means defaultStableAfter.
	stableAfter time.Duration
}

// withDefaults returns o with zero fields set to their defaults.
func (o Options) withDefaults() Options {
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.KeepAlive == 0 {
		o.KeepAlive = DefaultKeepAlive
	}
	if o.UserTimeout == 0 {
		o.UserTimeout = max(MinUserTimeout, 3*o.KeepAlive)
	}
	if o.DeadAfterTimeouts == 0 {
		o.DeadAfterTimeouts = DefaultDeadAfterTimeouts
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = 1
	}
	if o.Backoff == nil {
		o.Backoff = DefaultBackoff
	}
	if o.idleWatch == 0 {
		o.idleWatch = defaultIdleWatch
	}
	if o.stableAfter == 0 {
		o.stableAfter = defaultStableAfter
	}
	if o.Logger == nil {
		nop := zerolog.Nop()
		o.Logger = &nop
	}
	return o
}

// validate rejects values no default can fix.
func (o Options) validate() error {
	switch {
	case o.Timeout < 0:
		return errors.New("transport: options: negative Timeout")
	case o.DialTimeout < 0:
		return errors.New("transport: options: negative DialTimeout")
	case o.MaxInFlight < 0 || o.MaxInFlight > MaxInFlightLimit:
		return errors.New("transport: options: MaxInFlight " + strconv.Itoa(o.MaxInFlight) +
			" outside 1.." + strconv.Itoa(MaxInFlightLimit))
	case o.Retries < 0:
		return errors.New("transport: options: negative Retries")
	}
	return nil
}

// DefaultBackoff waits 50 ms before the first reconnect attempt and doubles
// up to 5 s, each wait drawn from [d/2, d] so that many clients of one PLC do
// not reconnect in step.
func DefaultBackoff(attempt int) time.Duration {
	const base, limit = 50 * time.Millisecond, 5 * time.Second
	d := limit
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 7 {
		d = min(base<<(attempt-1), limit)
	}
	return d/2 + rand.N(d/2+1)
}

// State is the life stage of a Conn.
type State int32

const (
	StateConnecting   State = iota // first dial in progress
	StateConnected                 // a link is up
	StateReconnecting              // the link went down; re-dialling with backoff
	StateClosed                    // Close was called, or the first dial failed
)

var stateNames = [...]string{"connecting", "connected", "reconnecting", "closed"}

// String returns "connecting", "connected", "reconnecting" or "closed".
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}
