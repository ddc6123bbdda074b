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
	Listen       string          // default DefaultListen
	MaxConns     int             // concurrent connections; default 64
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

	// Table sizes (items, PDU addresses 0..n-1); 0 means DefaultTableSize.
	Coils, DiscreteInputs, HoldingRegisters, InputRegisters int

	// UnitIDs, when not empty, makes the server model a gateway: those ids,
	// plus 0x00 and 0xFF (the direct-TCP ids), are answered; any other gets
	// exception 0B. Empty answers every unit id [IG §4.4.1.2].
	UnitIDs []uint8

	Identity Identity // FC 43/14 objects; zero value = DefaultIdentity
	// UserFunctions serves function codes the codec has no type for (the
	// user-defined ranges 65..72 and 100..110, say): the handler gets the
	// request data after the function code and returns the response data,
	// or an exception code. A code without a handler is answered 01.
	UserFunctions map[modbus.FunctionCode]UserFunc
	Faults        []FaultRule     // initial fault rules; see Server.SetFaults
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
	for _, n := range []*int{&c.Coils, &c.DiscreteInputs, &c.HoldingRegisters, &c.InputRegisters} {
		if *n == 0 {
			*n = DefaultTableSize
		}
	}
	if c.Identity.Objects == nil {
		c.Identity = DefaultIdentity()
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
	for name, n := range map[string]int{"coils": c.Coils, "discrete inputs": c.DiscreteInputs,
		"holding registers": c.HoldingRegisters, "input registers": c.InputRegisters} {
		if n < 1 || n > DefaultTableSize {
			errs = append(errs, fmt.Errorf("simulator: %s table size %d outside 1..65536", name, n))
		}
	}
	if c.MaxConns < 1 {
		errs = append(errs, fmt.Errorf("simulator: max conns %d below 1", c.MaxConns))
	}
	if c.FrameTimeout < 0 || c.IdleTimeout < 0 || c.DrainTimeout < 0 {
		errs = append(errs, errors.New("simulator: negative timeout"))
	}
	if err := c.Security.validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
