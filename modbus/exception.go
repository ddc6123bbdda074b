package modbus

// ExceptionCode is the second byte of an exception response PDU [AP §7]. The
// code itself is an error, as syscall.Errno is, so
// errors.Is(err, modbus.IllegalDataAddress) works through any wrapping.
type ExceptionCode uint8

// Exception codes [AP §7]. 07 (NAK) and 09 are not defined for responses.
const (
	IllegalFunction                    ExceptionCode = 0x01
	IllegalDataAddress                 ExceptionCode = 0x02
	IllegalDataValue                   ExceptionCode = 0x03
	ServerDeviceFailure                ExceptionCode = 0x04
	Acknowledge                        ExceptionCode = 0x05
	ServerDeviceBusy                   ExceptionCode = 0x06
	MemoryParityError                  ExceptionCode = 0x08
	GatewayPathUnavailable             ExceptionCode = 0x0A
	GatewayTargetDeviceFailedToRespond ExceptionCode = 0x0B
)

// exceptionNames is an array, not a map: a map literal is built by the
// package's init at every start of every program that links modbus, an
// array is laid out by the linker (issue 10).
var exceptionNames = [...]string{
	IllegalFunction:                    "illegal function",
	IllegalDataAddress:                 "illegal data address",
	IllegalDataValue:                   "illegal data value",
	ServerDeviceFailure:                "server device failure",
	Acknowledge:                        "acknowledge",
	ServerDeviceBusy:                   "server device busy",
	MemoryParityError:                  "memory parity error",
	GatewayPathUnavailable:             "gateway path unavailable",
	GatewayTargetDeviceFailedToRespond: "gateway target device failed to respond",
}

// String returns the code in the form "02 illegal data address".
func (c ExceptionCode) String() string {
	if int(c) < len(exceptionNames) && exceptionNames[c] != "" {
		n := exceptionNames[c]
		return exceptionHex(c) + " " + n
	}
	return exceptionHex(c) + " unknown exception"
}

// exceptionHex is c in two hexadecimal digits, upper case as the spec
// writes exception codes (0A, 0B) [AP §7].
func exceptionHex(c ExceptionCode) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[c>>4], digits[c&15]})
}

// Error implements error.
func (c ExceptionCode) Error() string { return "modbus: exception " + c.String() }

// ExceptionError is an exception response: the device answered, and refused.
// It unwraps to its Code.
type ExceptionError struct {
	Function FunctionCode // the request's function code (bit 7 clear)
	Code     ExceptionCode
}

// Error names the exception code and the function it answered.
func (e *ExceptionError) Error() string {
	return "modbus: exception " + e.Code.String() + " for " + e.Function.String()
}

// Unwrap returns the exception code.
func (e *ExceptionError) Unwrap() error { return e.Code }

// NewException returns the exception response PDU for a request with
// function code fc: fc|0x80, code [AP §7].
func NewException(fc FunctionCode, code ExceptionCode) PDU {
	return exceptionPDU{fc: fc &^ exceptionBit, code: code}
}

type exceptionPDU struct {
	fc   FunctionCode
	code ExceptionCode
}

// Function returns the request's function code with bit 7 set.
func (e exceptionPDU) Function() FunctionCode { return e.fc | exceptionBit }

// AppendPDU appends the two-byte exception PDU to dst.
func (e exceptionPDU) AppendPDU(dst []byte) ([]byte, error) {
	return append(dst, uint8(e.fc)|exceptionBit, uint8(e.code)), nil
}

// decodeException decodes an exception response PDU (exactly 2 bytes).
func decodeException(pdu []byte) (*ExceptionError, error) {
	if err := pduLenExact(pdu, 2); err != nil {
		return nil, err
	}
	return &ExceptionError{Function: FunctionCode(pdu[0] &^ exceptionBit), Code: ExceptionCode(pdu[1])}, nil
}
