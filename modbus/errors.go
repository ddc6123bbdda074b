package modbus

import (
	"errors"
	"strconv"
)

// Sentinel errors wrapped by *FrameError, so callers can branch with errors.Is.
var (
	// ErrShortFrame: fewer bytes than the frame's own fields require.
	ErrShortFrame = errors.New("modbus: short frame")
	// ErrLongFrame: more bytes than the frame's own fields allow.
	ErrLongFrame = errors.New("modbus: long frame")
	// ErrBadLength: an MBAP length field outside 2..254 [AP §4.1].
	ErrBadLength = errors.New("modbus: bad mbap length")
	// ErrInconsistent: count fields that disagree with each other or with
	// the request that was sent.
	ErrInconsistent = errors.New("modbus: inconsistent frame")
	// ErrProtocolID: an MBAP protocol identifier other than 0 [IG §3.1.3].
	ErrProtocolID = errors.New("modbus: protocol id is not modbus")
	// ErrUnexpectedFunction: a response whose function code is neither the
	// request's nor its exception form.
	ErrUnexpectedFunction = errors.New("modbus: unexpected function code")
)

// FrameError reports bytes that cannot be a valid frame: what was wrong and at
// which byte. Offset counts from the start of the ADU when Where is "adu" and
// from the function code when Where is "pdu".
type FrameError struct {
	Where  string // "adu" or "pdu"
	Offset int    // byte offset of the offending field
	Field  string // e.g. "length", "byte count"
	Reason string // what was wrong, with the values seen
	Err    error  // sentinel (ErrShortFrame, ...) or the underlying read error
}

// Error says where (adu or pdu, byte offset, field) and what was wrong.
func (e *FrameError) Error() string {
	s := "modbus: " + e.Where + " byte " + strconv.Itoa(e.Offset) + " (" + e.Field + "): " + e.Reason
	if e.Err != nil && !isSentinel(e.Err) {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the sentinel or underlying error.
func (e *FrameError) Unwrap() error { return e.Err }

func isSentinel(err error) bool {
	switch err {
	case ErrShortFrame, ErrLongFrame, ErrBadLength, ErrInconsistent, ErrProtocolID, ErrUnexpectedFunction:
		return true
	}
	return false
}

func pduError(offset int, field string, sentinel error, reason string) *FrameError {
	return &FrameError{Where: "pdu", Offset: offset, Field: field, Reason: reason, Err: sentinel}
}

// pduLenError reports a PDU too short for its function code: the offset is
// the first missing byte.
func pduLenError(fc FunctionCode, got int, want string) *FrameError {
	return pduError(got, "pdu length", ErrShortFrame,
		fc.String()+" pdu is "+strconv.Itoa(got)+" bytes, want "+want)
}

// pduLenExact checks an exact PDU length. A long PDU is reported at its first
// extra byte.
func pduLenExact(pdu []byte, want int) error {
	if len(pdu) == want {
		return nil
	}
	fe := pduLenError(FunctionCode(pdu[0]), len(pdu), strconv.Itoa(want))
	if len(pdu) > want {
		fe.Offset = want
		fe.Err = ErrLongFrame
	}
	return fe
}

// pduLenCount checks a PDU whose length is fixed plus the byte count at
// countOff, and says which count implied the length it wanted.
func pduLenCount(pdu []byte, fixed, countOff int) error {
	count := int(pdu[countOff])
	err := pduLenExact(pdu, fixed+count)
	if fe, ok := err.(*FrameError); ok {
		fe.Reason += " (" + strconv.Itoa(fixed) + " + byte count " + strconv.Itoa(count) +
			" at byte " + strconv.Itoa(countOff) + ")"
	}
	return err
}

// RequestError is a well-formed request whose field values the spec forbids
// (quantity out of range, byte count disagreeing with the quantity, a coil
// value other than ON/OFF). A server answers it with Code; a client refuses to
// send it. It unwraps to Code, so errors.Is(err, modbus.IllegalDataValue)
// works.
type RequestError struct {
	Function FunctionCode
	Field    string
	Reason   string
	Code     ExceptionCode
}

// Error names the function, the field refused and why.
func (e *RequestError) Error() string {
	return "modbus: " + e.Function.String() + ": " + e.Field + " " + e.Reason
}

// Unwrap returns the exception code a server answers with.
func (e *RequestError) Unwrap() error { return e.Code }

func valueError(fc FunctionCode, field, reason string) *RequestError {
	return &RequestError{Function: fc, Field: field, Reason: reason, Code: IllegalDataValue}
}

func itoa(v int) string { return strconv.Itoa(v) }
