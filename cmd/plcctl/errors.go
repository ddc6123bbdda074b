package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plc"
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

func usagef(format string, args ...any) error { return &usageError{msg: fmt.Sprintf(format, args...)} }

// opError is a failed device operation: which command, on which items.
type opError struct {
	cmd  string // command name, e.g. "read-holding-registers"
	span string // the items as the user numbers them, e.g. "100..109"
	err  error
}

func (e *opError) Error() string {
	var exc *modbus.ExceptionError
	if errors.As(e.err, &exc) {
		return "exception " + exc.Code.String() + " for " + e.where()
	}
	if errors.Is(e.err, context.DeadlineExceeded) {
		return e.where() + ": timeout: " + e.err.Error()
	}
	return e.where() + ": " + e.err.Error()
}

func (e *opError) where() string {
	if e.span == "" {
		return e.cmd
	}
	return e.cmd + " " + e.span
}

func (e *opError) Unwrap() error { return e.err }

// exitCode maps an error to the documented exit code. A request the codec
// or the value encoder refuses never left the program: that is usage.
func exitCode(err error) int {
	var (
		st  exitStatus
		ue  *usageError
		exc *modbus.ExceptionError
		re  *modbus.RequestError
		ve  *plc.ValueError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &st):
		return int(st)
	case errors.As(err, &ue), errors.As(err, &re), errors.As(err, &ve):
		return exitUsage
	case errors.As(err, &exc):
		return exitException
	}
	return exitFailure
}
