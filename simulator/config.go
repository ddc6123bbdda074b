package simulator

import (
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/modbus"
)

// MalformedAction is how the server drops a connection whose byte stream can
// no longer be trusted.
type MalformedAction int

const (
	// ActionReset drops the connection with a TCP reset (SO_LINGER 0), as the
	// strict PLC in the ECONNRESET story does. The default.
	ActionReset MalformedAction = iota
	// ActionClose drops it with a FIN: half-close, short drain, close.
	ActionClose
)

// String returns "reset" or "close", as ParseMalformedAction takes them.
func (a MalformedAction) String() string {
	if a == ActionClose {
		return "close"
	}
	return "reset"
}

// ParseMalformedAction parses "reset" or "close".
func ParseMalformedAction(s string) (MalformedAction, error) {
	switch s {
	case "reset", "rst":
		return ActionReset, nil
	case "close", "fin":
		return ActionClose, nil
	}
	return 0, fmt.Errorf("simulator: malformed action %q: want reset or close", s)
}

// PDUPolicy is how the server treats a structurally malformed PDU: a length
// that is not exactly what its function code and count fields imply.
type PDUPolicy int

const (
	// PDUStrict drops the connection like a framing fault. The default.
	PDUStrict PDUPolicy = iota
	// PDUException answers exception 03 and keeps the connection.
	PDUException
)

// String returns the policy's name, as plcsim's --malformed-pdu takes it.
func (p PDUPolicy) String() string {
	if p == PDUException {
		return "exception"
	}
	return "strict"
}

// ParsePDUPolicy parses "strict" or "exception".
func ParsePDUPolicy(s string) (PDUPolicy, error) {
	switch s {
	case "strict", "drop":
		return PDUStrict, nil
	case "exception":
		return PDUException, nil
	}
	return 0, fmt.Errorf("simulator: malformed-pdu policy %q: want strict or exception", s)
}

// DefaultListen is plcsim's default address: loopback only.
const DefaultListen = "127.0.0.1:5020"

// DefaultTableSize is the number of items per table: every PDU address.
const DefaultTableSize = 65536

// Config configures a Server. The zero value is a strict simulator with
// 65536 items per table, all zero, answering every unit id.
type Config struct {
	Listen string // default DefaultListen
	// MaxConns bounds the connections served at once; default 64. When it
	// is reached, a new connection evicts the one idle longest (closed
	// gracefully) [IG §4.2.1 p.11: close the oldest unused connection];
	// only when every connection is busy with a request is it refused.
	MaxConns     int
	OnMalformed  MalformedAction // framing faults; default reset
	MalformedPDU PDUPolicy       // structurally malformed PDUs; default strict
	// FrameTimeout bounds how long a frame may take to arrive once its first
	// byte has; a frame cut short is a framing fault. Default 2s.
	FrameTimeout time.Duration
	// IdleTimeout closes (gracefully) a connection with no request for that
	// long. Zero means never.
	IdleTimeout time.Duration
	// DrainTimeout bounds the wait for the peer's FIN on a graceful close.
	// Default 1s.
	DrainTimeout time.Duration
	// WriteTimeout bounds one answer's write: a peer that stopped reading
	// is reset after it. Default 5s.
	WriteTimeout time.Duration
	// LogLimit is how many lines of each kind of connection event (accepted,
	// framing fault, reset, exception...) are logged per second; the rest
	// are counted and summarised in one line per second. Default 20;
	// negative means no limit.
	LogLimit int

	// Table sizes (items, PDU addresses 0..n-1); 0 means DefaultTableSize.
	Coils, DiscreteInputs, HoldingRegisters, InputRegisters int

	// UnitIDs, when not empty, makes the server model a gateway: each of
	// those ids has a memory of its own (laid out by the table sizes above),
	// the first listed is the default memory, which 0x00 and 0xFF (the
	// direct-TCP ids) address too, and any other id gets UnknownUnit. Empty
	// answers every unit id from one memory [IG §4.4.1.2].
	UnitIDs []uint8
	// Units, when not empty, gives each unit id served its own layout and
	// contents, and replaces the table sizes, UnitIDs, Identity and ServerID
	// above; only those ids are answered (0 and 255 too only when listed).
	Units map[uint8]UnitConfig
	// UnknownUnit is what a unit id without a memory gets (gateway mode):
	// exception 0B by default, or no answer at all.
	UnknownUnit UnknownUnitPolicy
	// MaxFileRegisters bounds the file-record registers each unit stores
	// beyond its configured files, whatever clients write (FC 21); a write
	// that would need more is answered 04. Default DefaultMaxFileRegisters.
	MaxFileRegisters int

	Identity Identity  // FC 43/14 objects; zero value = DefaultIdentity
	ServerID *ServerID // FC 17 answer; nil: FC 17 gets 01 (serial line only)
	// UserFunctions serves function codes the codec has no type for (the
	// user-defined ranges 65..72 and 100..110, say): the handler gets the
	// request data after the function code and returns the response data,
	// or an exception code. A code without a handler is answered 01.
	UserFunctions map[modbus.FunctionCode]UserFunc
	Faults        []FaultRule     // initial fault rules, each checked by FaultRule.Validate; see Server.SetFaults
	Security      Security        // TLS, roles, allow-list, read-only (security.go)
	Logger        *zerolog.Logger // nil = silent
	// Observer, when set, is told of every request, client write, connection,
	// reset and injected fault (observe.go). It must never block.
	Observer Observer
}

func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.MaxConns == 0 {
		c.MaxConns = 64
	}
	if c.FrameTimeout == 0 {
		c.FrameTimeout = 2 * time.Second
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = time.Second
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 5 * time.Second
	}
	if c.LogLimit == 0 {
		c.LogLimit = 20
	}
	for _, n := range []*int{&c.Coils, &c.DiscreteInputs, &c.HoldingRegisters, &c.InputRegisters} {
		if *n == 0 {
			*n = DefaultTableSize
		}
	}
	if c.Identity.Objects == nil {
		c.Identity = DefaultIdentity()
	}
	if c.MaxFileRegisters == 0 {
		c.MaxFileRegisters = DefaultMaxFileRegisters
	}
	if c.Logger == nil {
		nop := zerolog.Nop()
		c.Logger = &nop
	}
	c.Security = c.Security.withDefaults()
	return c
}

// UserFunc handles one user-defined function: request data in, response
// data (at most 252 bytes) or an exception code out.
type UserFunc func(data []byte) ([]byte, modbus.ExceptionCode)

func (c Config) validate() error {
	var errs []error
	for fc := range c.UserFunctions {
		if fc == 0 || fc.IsException() {
			errs = append(errs, fmt.Errorf("simulator: user function code 0x%02X is not a request code 1..127", uint8(fc)))
		}
	}
	errs = append(errs, c.defaultUnit().validate("")...)
	for id, u := range c.Units {
		errs = append(errs, u.validate("unit "+itoa(int(id))+": ")...)
	}
	if len(c.Units) > 0 && len(c.UnitIDs) > 0 {
		errs = append(errs, errors.New("simulator: Units and UnitIDs both given: list the unit ids in Units only"))
	}
	if c.MaxFileRegisters < 0 {
		errs = append(errs, fmt.Errorf("simulator: max file registers %d below 0", c.MaxFileRegisters))
	}
	if c.MaxConns < 1 {
		errs = append(errs, fmt.Errorf("simulator: max conns %d below 1", c.MaxConns))
	}
	if c.FrameTimeout < 0 || c.IdleTimeout < 0 || c.DrainTimeout < 0 || c.WriteTimeout < 0 {
		errs = append(errs, errors.New("simulator: negative timeout"))
	}
	for i, r := range c.Faults {
		if err := r.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("simulator: fault rule %d (%v): %w", i+1, r, err))
		}
	}
	if err := c.Security.validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
