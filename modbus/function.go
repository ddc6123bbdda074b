package modbus

import "strconv"

// FunctionCode is the first byte of every PDU [AP §4.1]. Codes 1..127 are
// requests; a response with bit 7 set carries an exception.
type FunctionCode uint8

// Public function codes [AP §5.1]. The serial-line-only codes are named so that
// traces and errors can print them; but for FC 17 (Report Server ID, which
// devices and gateways answer over TCP too) the codec has no typed PDU for
// them: they travel as Raw PDUs.
const (
	FuncReadCoils                  FunctionCode = 0x01
	FuncReadDiscreteInputs         FunctionCode = 0x02
	FuncReadHoldingRegisters       FunctionCode = 0x03
	FuncReadInputRegisters         FunctionCode = 0x04
	FuncWriteSingleCoil            FunctionCode = 0x05
	FuncWriteSingleRegister        FunctionCode = 0x06
	FuncReadExceptionStatus        FunctionCode = 0x07 // serial line only
	FuncDiagnostics                FunctionCode = 0x08 // serial line only
	FuncGetCommEventCounter        FunctionCode = 0x0B // serial line only
	FuncGetCommEventLog            FunctionCode = 0x0C // serial line only
	FuncWriteMultipleCoils         FunctionCode = 0x0F
	FuncWriteMultipleRegisters     FunctionCode = 0x10
	FuncReportServerID             FunctionCode = 0x11 // serial line only
	FuncReadFileRecord             FunctionCode = 0x14
	FuncWriteFileRecord            FunctionCode = 0x15
	FuncMaskWriteRegister          FunctionCode = 0x16
	FuncReadWriteMultipleRegisters FunctionCode = 0x17
	FuncReadFIFOQueue              FunctionCode = 0x18
	FuncEncapsulatedInterface      FunctionCode = 0x2B
)

// exceptionBit is set in the function code of an exception response [AP §7].
const exceptionBit = 0x80

// MEITypeReadDeviceID is the MEI type of Read Device Identification (FC 43/14)
// [AP §6.21]; MEITypeCANopen (43/13) is defined by CiA, not by the spec.
const (
	MEITypeCANopen      uint8 = 0x0D
	MEITypeReadDeviceID uint8 = 0x0E
)

// functionNames is an array for the reason exceptionNames is.
var functionNames = [...]string{
	FuncReadCoils:                  "read coils",
	FuncReadDiscreteInputs:         "read discrete inputs",
	FuncReadHoldingRegisters:       "read holding registers",
	FuncReadInputRegisters:         "read input registers",
	FuncWriteSingleCoil:            "write single coil",
	FuncWriteSingleRegister:        "write single register",
	FuncReadExceptionStatus:        "read exception status",
	FuncDiagnostics:                "diagnostics",
	FuncGetCommEventCounter:        "get comm event counter",
	FuncGetCommEventLog:            "get comm event log",
	FuncWriteMultipleCoils:         "write multiple coils",
	FuncWriteMultipleRegisters:     "write multiple registers",
	FuncReportServerID:             "report server id",
	FuncReadFileRecord:             "read file record",
	FuncWriteFileRecord:            "write file record",
	FuncMaskWriteRegister:          "mask write register",
	FuncReadWriteMultipleRegisters: "read/write multiple registers",
	FuncReadFIFOQueue:              "read fifo queue",
	FuncEncapsulatedInterface:      "encapsulated interface transport",
}

// String returns the spec's name in lower case, e.g. "read holding registers",
// or "function 0x41" for a code without a name.
func (f FunctionCode) String() string {
	if f&exceptionBit != 0 {
		return "exception response to " + (f &^ exceptionBit).String()
	}
	if int(f) < len(functionNames) && functionNames[f] != "" {
		n := functionNames[f]
		return n
	}
	if f.IsUserDefined() {
		return "user-defined function 0x" + hex2(uint8(f))
	}
	return "function 0x" + hex2(uint8(f))
}

// IsUserDefined reports whether f is in a user-defined range, 65..72 or
// 100..110 [AP §5].
func (f FunctionCode) IsUserDefined() bool {
	return (f >= 65 && f <= 72) || (f >= 100 && f <= 110)
}

// IsRead reports whether f is a public function that only reads data: 1,
// 2, 3, 4, 20 and 24. FC 43 is left out: whether it only reads depends on
// its MEI type (14, read device identification, does).
func (f FunctionCode) IsRead() bool {
	switch f {
	case FuncReadCoils, FuncReadDiscreteInputs, FuncReadHoldingRegisters, FuncReadInputRegisters,
		FuncReadFileRecord, FuncReadFIFOQueue:
		return true
	}
	return false
}

// IsWrite reports whether f is a public function that writes data: 5, 6,
// 15, 16, 21, 22 and 23 (which writes before it reads).
func (f FunctionCode) IsWrite() bool {
	switch f {
	case FuncWriteSingleCoil, FuncWriteSingleRegister, FuncWriteMultipleCoils, FuncWriteMultipleRegisters,
		FuncWriteFileRecord, FuncMaskWriteRegister, FuncReadWriteMultipleRegisters:
		return true
	}
	return false
}

// IsSerialOnly reports whether the spec marks f as serial line only [AP §6].
func (f FunctionCode) IsSerialOnly() bool {
	switch f {
	case FuncReadExceptionStatus, FuncDiagnostics, FuncGetCommEventCounter,
		FuncGetCommEventLog, FuncReportServerID:
		return true
	}
	return false
}

// IsException reports whether f is the function code of an exception
// response (bit 7 set).
func (f FunctionCode) IsException() bool { return f&exceptionBit != 0 }

func hex2(b uint8) string {
	s := strconv.FormatUint(uint64(b), 16)
	if len(s) == 1 {
		s = "0" + s
	}
	return s
}
