package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plc"
	"github.com/plcctl/plcctl/transport"
)

// Exit codes, documented in every --help and in the README.
const (
	exitOK        = 0 // success
	exitFailure   = 1 // connection, timeout or I/O failure
	exitUsage     = 2 // bad flags, arguments or values; nothing was sent
	exitException = 3 // the device answered with a Modbus exception
)

const exitCodesHelp = `Exit codes:
  0  success
  1  failure: connection refused or lost, timeout, I/O error
  2  usage error: bad flag, argument or value (nothing was sent)
  3  the device answered with a Modbus exception
`

// usageError is a mistake in the command line: exit 2, short usage on stderr.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef builds a usageError; a wrapped library error loses its package
// prefixes (strip), so that "plant: tag x: values: value 9 ..." reads as
// "tag x: value 9 ...".
func usagef(format string, args ...any) error {
	words := make([]any, len(args))
	for i, a := range args {
		if s, ok := a.(string); ok {
			a = userWord(s)
		}
		words[i] = a
	}
	return &usageError{msg: strip(fmt.Sprintf(format, words...))}
}

// userWord is a string given to usagef: %q quotes it as quote does (the
// word a user typed, cut after suggest.MaxQuoted runes), every other verb
// formats it as a string.
type userWord string

func (w userWord) Format(f fmt.State, verb rune) {
	if verb == 'q' && !f.Flag('#') && !f.Flag('+') {
		io.WriteString(f, quote(string(w)))
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), string(w))
}

// opError is a failed device operation: which command, on which items. Its
// Error is one line, "COMMAND ITEMS: why"; report prints the full sentence
// (which device, what to try) from app.describe. The cause stays in the
// chain for errors.As.
type opError struct {
	cmd   string // command name, e.g. "read-holding-registers"
	span  string // the items as the user numbers them, e.g. "100..109"
	err   error
	write bool   // the request changes the device: an unknown outcome must be said
	dial  bool   // the connection could not be made: a write was certainly not sent
	split bool   // --split: one of several requests failed; say what was written before it
	fc    uint8  // raw: the function code sent
	check string // raw: why the data is not a well-formed request for fc ("" if it is)
	exit  int    // the exit code when not the one of err's kind (ping: no answer is 1)

	target *writeTarget // a write: the items it changes, for -o json's failure object
	noUnit bool         // the span names the unit ids (scan), not -u's one
}

func (e *opError) Error() string {
	why, _ := explain(e, hintContext{})
	return e.where() + ": " + why
}

func (e *opError) where() string {
	if e.span == "" {
		return e.cmd
	}
	return e.cmd + " " + e.span
}

func (e *opError) Unwrap() error { return e.err }

// plcsimAddress is where plcsim listens by default (simulator.DefaultListen,
// checked by a test: the command line does not import the simulator).
const plcsimAddress = "127.0.0.1:5020"

// hintContext is what explain knows of the run, for its advice.
type hintContext struct {
	addr        string        // HOST:PORT dialled
	unit        uint8         // unit id
	timeout     time.Duration // --timeout
	defaultAddr bool          // neither -a nor PLCCTL_ADDRESS was given, nor a plant file's address:
	plantDev    string        // the plant device whose address: was dialled
	tls         bool          // the connection is TLS (roles may refuse requests)
	unanswered  bool          // the command's connection is known to have had no answer at all
}

// describe is the sentence report prints for a failed operation: what
// failed, on which device and items, why, and what to try.
func (a *app) describe(e *opError) string {
	h := a.hintContext()
	why, try := explain(e, h)
	s := e.where() + " on " + h.addr + " unit " + strconv.Itoa(int(h.unit)) + ": " + why
	if e.noUnit {
		s = e.where() + " on " + h.addr + ": " + why
	}
	if try != "" {
		s += "; " + try
	}
	return s
}

func (a *app) hintContext() hintContext {
	return hintContext{addr: a.clientAddrOr(), unit: a.opts.unit, timeout: a.opts.timeout, defaultAddr: !a.addrGiven && a.plantDev == "",
		plantDev: a.plantDev, tls: a.opts.tls.on(), unanswered: a.client != nil && a.client.Conn().Stats().Responses == 0}
}

// maybeTLS reports whether err looks like plain Modbus/TCP sent to a
// Modbus/TCP Security (TLS) server: without TLS, the device ended the
// connection and had answered nothing on it (a TLS server reads our
// request as a bad handshake and closes). A strict plain device that drops
// a first request looks the same, so the advice says "may".
func maybeTLS(err error, h hintContext) bool {
	return !h.tls && h.unanswered && closedHow(err) != ""
}

// tlsHint is the advice when maybeTLS, after "the device" or "it".
const tlsHint = "may expect TLS (Modbus/TCP Security, port 802): try --tls-ca FILE --tls-cert FILE --tls-key FILE"

// reason is the short why of err for per-round and per-request lines
// (watch, ping): no advice, no device (the line already names it).
func reason(err error) string {
	var oe *opError
	if !errors.As(err, &oe) {
		oe = &opError{err: err}
	}
	why, _ := explain(oe, hintContext{})
	return why
}

// explain says why e failed and what to try, from the types in its chain:
// Modbus exceptions, context and transport errors, net errors and errnos.
// The advice needs h; with a zero h it is left out.
func explain(e *opError, h hintContext) (why, try string) {
	err := e.err
	why, try = explainCause(e, err, h)
	if se := (*plc.SpanError)(nil); e.split && errors.As(err, &se) && se.Written > 0 {
		why += "; the split write had written " + strconv.Itoa(se.Written) + " of " + strconv.Itoa(se.Total) + " items before the part that failed"
	}
	var top *transport.OpError
	switch {
	case e.write && errors.Is(err, transport.ErrOutcomeUnknown):
		why += "; outcome unknown: the write was sent and may have been applied"
		try = "read the values back before writing again"
		if maybeTLS(err, h) && e.check == "" {
			try += "; the device " + tlsHint
		}
	case e.write && (e.dial || errors.As(err, &top) && !top.Sent) && !errors.Is(err, context.Canceled):
		why += "; the write was not sent"
	}
	if h.addr == "" {
		try = ""
	}
	return why, try
}

// writtenBefore returns how many items a --split write wrote before the
// part that failed (plc.SpanError), 0 when the first part failed.
func (e *opError) writtenBefore() (int, bool) {
	if !e.split {
		return 0, false
	}
	if se := (*plc.SpanError)(nil); errors.As(e.err, &se) {
		return se.Written, true
	}
	return 0, true
}

// isAny reports whether err is one of targets.
func isAny(err error, targets []error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

func isException(err error) bool {
	var exc *modbus.ExceptionError
	return errors.As(err, &exc)
}

func explainCause(e *opError, err error, h hintContext) (why, try string) {
	var (
		exc    *modbus.ExceptionError
		frame  *modbus.FrameError
		dns    *net.DNSError
		netOp  *net.OpError
		vErr   *plc.ValueError
		useErr *usageError
		tlsErr *transport.TLSError
	)
	timeout := "within " + h.timeout.String()
	if h.timeout == 0 {
		timeout = "in time"
	}
	dial := errors.As(err, &netOp) && netOp.Op == "dial"
	switch {
	case errors.As(err, &tlsErr):
		return explainTLS(tlsErr) // tls.go
	case errors.As(err, &exc):
		return "the device answered exception " + exc.Code.String(), exceptionHint(exc, e.cmd, h)
	case errors.Is(err, context.Canceled):
		return "interrupted", ""
	case errors.As(err, &useErr), errors.As(err, &vErr):
		return strip(err.Error()), ""
	case errors.As(err, &dns):
		return fmt.Sprintf("cannot resolve host %q", dns.Name), "check the host name given with -a"
	case dial && isAny(err, refusedErrnos):
		why = "nothing listens on " + h.addrOr(netOp) + " (connection refused)"
		if errors.Is(err, transport.ErrNotConnected) { // a redial after the link went down
			lost := "the link went down"
			if how := closedHow(err); how != "" { // the transport's chain has the lost link's cause too
				lost = "the device " + how + " the connection"
			}
			return lost + " and reconnecting was refused: " + why, "check that the device is on; it may be restarting"
		}
		if h.defaultAddr {
			return why, "plcsim listens on " + plcsimAddress + " by default: try -a " + plcsimAddress +
				", or give the device's address with -a HOST[:PORT] (or " + addressEnv + ")"
		}
		if h.plantDev != "" {
			// Not plcsim's default: the plant file named this address.
			return why, "it is the address of device " + h.plantDev + " in the plant file: check that the device (or plcsim --plant with that file) is running, or give -a HOST[:PORT]"
		}
		return why, "check the address and port (-a HOST[:PORT]) and that the device is on"
	case dial && (errors.Is(err, context.DeadlineExceeded) || netOp.Timeout()):
		return "no connection to " + h.addrOr(netOp) + " " + timeout,
			"check the address, the network path and firewalls, or raise --timeout"
	case dial && isAny(err, unreachableErrnos):
		return h.addrOr(netOp) + " is unreachable (" + netOp.Err.Error() + ")", "check the address and this machine's network"
	case dial:
		return "cannot connect to " + h.addrOr(netOp) + ": " + netOp.Err.Error(), "check the address and port (-a HOST[:PORT])"
	case errors.Is(err, transport.ErrNotConnected) && errors.Is(err, context.DeadlineExceeded):
		// The transport's chain says why the last link went down; say it
		// too, for a one-shot command logs no "link down" warning.
		why = "the link was down and did not come back " + timeout
		if how := closedHow(err); how != "" {
			why = "the device " + how + " the connection, and the link did not come back " + timeout
		} else if errors.Is(err, transport.ErrLinkDead) {
			why = "the link went dead (requests timed out with nothing arriving) and did not come back " + timeout
		}
		return why, "check that the device is on and reachable, or raise --timeout"
	case errors.Is(err, transport.ErrLinkDead):
		return "the link went dead: requests timed out with nothing arriving", "check that the device is on and reachable"
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer " + timeout, "check the unit id (-u; behind a gateway it is the serial address) and that the device serves this function, or raise --timeout"
	case errors.As(err, &frame):
		return "the device sent a malformed answer (" + strings.TrimPrefix(frame.Error(), "modbus: ") + ")", "run with --trace to see the frames"
	case errors.Is(err, transport.ErrStreamOutOfOrder), errors.Is(err, transport.ErrWrongUnit):
		detail := cause(err)
		if top := (*transport.OpError)(nil); errors.As(err, &top) {
			detail = top.Err.Error()
		}
		try = "run with --trace to see the frames"
		if e.cmd == "bench" {
			try = "if the device or gateway really answers pipelined requests out of order, use --allow-reorder; " + try
		}
		return "the answer could not be trusted to be this request's own: " + strip(detail), try
	case errors.Is(err, transport.ErrTooManyStale):
		return "the device sent answers to requests that were not asked", "check that no other client shares this connection (a gateway may mix them up)"
	case closedHow(err) != "":
		how := closedHow(err)
		if e.check != "" {
			return fmt.Sprintf("the device %s the connection: the request is malformed for function %d (%s)", how, e.fc, e.check),
				"give the data bytes that function expects (see the frame with --dry-run)"
		}
		why, try = "the device "+how+" the connection",
			"a strict device drops requests it cannot parse or will not take from this client; run with --trace to see the frames"
		if maybeTLS(err, h) {
			why += " before answering anything"
			try = "it " + tlsHint + "; or, strict, it drops requests it cannot parse or will not take from this client (see the frames with --trace)"
		}
		return why, try
	case errors.Is(err, transport.ErrClosed):
		return "the connection was closed", ""
	}
	return strip(cause(err)), ""
}

// closedHow says how the device ended the connection in err: "reset"
// (an errno such as ECONNRESET), "closed" (EOF), or "" for neither.
func closedHow(err error) string {
	var errno syscall.Errno
	switch {
	case errors.Is(err, io.EOF):
		return "closed"
	case isAny(err, resetErrnos) && errors.As(err, &errno) && errno != 0:
		return "reset"
	case isAny(err, resetErrnos):
		return "closed"
	}
	return ""
}

// cause is err's text without the OpError's outcome note, which explain
// says in its own words.
func cause(err error) string {
	return strings.ReplaceAll(err.Error(), " ("+transport.ErrOutcomeUnknown.Error()+")", "")
}

// addrOr is the address from a dial error, or the one dialled.
func (h hintContext) addrOr(op *net.OpError) string {
	if h.addr != "" || op.Addr == nil {
		return h.addr
	}
	return op.Addr.String()
}

// exceptionHint says what an exception usually means for command cmd and
// what to try.
func exceptionHint(exc *modbus.ExceptionError, cmd string, h hintContext) string {
	switch exc.Code {
	case modbus.IllegalFunction:
		s := "the device does not support this function"
		if h.tls {
			s += ", or the role in your certificate may not use it here (Modbus/TCP Security answers 01 to a refused request)"
		}
		if exc.Function.IsWrite() {
			// plcsim --read-only, and many devices with a write lock,
			// answer 01 to a write they support.
			s += "; or the device may be read-only or forbid writes (from this client, or in its present mode)"
		}
		if cmd == "set" && exc.Function == modbus.FuncMaskWriteRegister {
			// A bit tag is set with FC 22 alone: never a read and a
			// write of the register, which would lose a change between.
			s += "; set writes a bit inside a register with mask write register (FC 22) only: on a device without it, " +
				"write the whole register (read-holding-registers, then write-register), if nothing else changes it in between"
		}
		return s
	case modbus.IllegalDataAddress:
		return illegalAddressHint(cmd)
	case modbus.IllegalDataValue:
		return "the device does not accept this count or value"
	case modbus.ServerDeviceFailure:
		return "the device failed while handling the request: check its own diagnostics"
	case modbus.Acknowledge, modbus.ServerDeviceBusy:
		return "the device is busy: try again later"
	case modbus.GatewayPathUnavailable:
		return fmt.Sprintf("the gateway has no path to unit %d: check -u and the gateway's routing", h.unit)
	case modbus.GatewayTargetDeviceFailedToRespond:
		return fmt.Sprintf("no device answered behind the gateway at unit %d: check -u (the serial address) and the serial line", h.unit)
	}
	return ""
}

// illegalAddressHint says what exception 02 means for command cmd: what it
// names as the address is not ADDR and COUNT for every command.
func illegalAddressHint(cmd string) string {
	const oneBased = ", and --one-based if its manual numbers from 1"
	switch cmd {
	case "read-device-id":
		return "the device has no identification object of that id (--level extended lists the objects it has)"
	case "read-file-record", "write-file-record":
		return "the device has no such file or record: check FILE, RECORD and how many registers the values take"
	case "read-fifo":
		return "the device has no FIFO queue at ADDR: check ADDR" + oneBased
	case "write-coil", "write-register", "mask-write-register":
		return "the item is outside what the device serves: check ADDR" + oneBased
	case "raw":
		return "the data bytes name items the device does not serve: check the address and count in them (see the frame with --dry-run)"
	case "get", "set", "watch":
		return "the tags' registers are outside what the device serves: check their address: and the numbering: of the plant file, and -u"
	}
	return "the items are outside what the device serves: check ADDR and COUNT" + oneBased
}

// strip removes the package prefixes of a Go error chain ("plc: ",
// "transport: ", "modbus: ", "plant: ", "values: ") for a message a person
// reads.
func strip(s string) string { return prefixes.Replace(s) }

var prefixes = strings.NewReplacer("plc: ", "", "transport: ", "", "modbus: ", "", "plant: ", "", "values: ", "")

// exitCode maps an error to the documented exit code. A request the codec
// or the value encoder refuses never left the program: that is usage.
func exitCode(err error) int {
	var (
		oe  *opError
		st  exitStatus
		ue  *usageError
		exc *modbus.ExceptionError
		re  *modbus.RequestError
		ve  *plc.ValueError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &oe) && oe.exit != 0:
		return oe.exit
	case errors.As(err, &st):
		return int(st)
	case errors.As(err, &ue), errors.As(err, &re), errors.As(err, &ve):
		return exitUsage
	case errors.As(err, &exc):
		return exitException
	}
	return exitFailure
}

// onlyText refuses an -o json or csv given to a command whose output has
// one form (what says which): it was ignored, and a script asking for JSON
// got YAML or a shell script without a word.
func onlyText(c *command, what string) error {
	if f := c.flags.Lookup("output"); f != nil && f.Changed && !strings.EqualFold(f.Value.String(), "text") {
		return usagef("--output %s: %s %s only; leave --output out", strings.ToLower(f.Value.String()), c.name, what)
	}
	return nil
}

// arguments says how many arguments n is, for a usage error: "no
// arguments", "1 argument", "3 arguments".
func arguments(n int) string {
	switch n {
	case 0:
		return "no arguments"
	case 1:
		return "1 argument"
	}
	return fmt.Sprintf("%d arguments", n)
}
