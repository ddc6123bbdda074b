package modbus

import "encoding/binary"

// Request is a request PDU. Decoded requests alias the bytes they came from.
type Request interface {
	PDU
	// Validate checks the field values a server can judge without knowing
	// its tables, in the spec's per-function order (MODBUS-NOTES §2.2): it
	// returns a *RequestError carrying the exception code a server answers
	// with, or nil. Clients call it before sending, so an invalid request
	// never reaches the wire.
	Validate() error
	// decodeResponse decodes a normal response to this request (function
	// code already checked) and checks it against the request.
	decodeResponse(pdu []byte) (PDU, error)
}

// DecodeRequest decodes one request PDU (function code first). It returns
//   - a *FrameError when the PDU's length is not exactly what its function
//     code and its own count fields imply (structurally malformed);
//   - a *RequestError when the structure is sound but a value that fixes the
//     structure is illegal (answer with its Code);
//   - a *Raw request for a function code without a typed PDU (user-defined,
//     serial-line only but FC 17, unknown, or FC 43 with a MEI type other than 14), so a
//     server can answer 01 or handle it.
//
// Field values are not judged: call Validate next, then check addresses.
// On error the request is nil.
func DecodeRequest(pdu []byte) (Request, error) {
	if err := checkPDUSize(pdu); err != nil {
		return nil, err
	}
	req, err := decodeRequest(pdu)
	if err != nil {
		// The per-code decoders return typed pointers: a nil one must not
		// become a non-nil Request.
		return nil, err
	}
	return req, nil
}

// checkPDUSize refuses an empty PDU and one longer than MaxPDULen, which no
// valid ADU can carry [AP §4.1], whatever its own count fields say.
func checkPDUSize(pdu []byte) error {
	if len(pdu) == 0 {
		return pduError(0, "function code", ErrShortFrame, "empty pdu")
	}
	if len(pdu) > MaxPDULen {
		return pduError(MaxPDULen, "pdu length", ErrLongFrame, FunctionCode(pdu[0]).String()+" pdu is "+
			itoa(len(pdu))+" bytes, more than "+itoa(MaxPDULen))
	}
	return nil
}

func decodeRequest(pdu []byte) (Request, error) {
	switch fc := FunctionCode(pdu[0]); fc {
	case FuncReadCoils, FuncReadDiscreteInputs:
		return decodeReadBits(pdu)
	case FuncReadHoldingRegisters, FuncReadInputRegisters:
		return decodeReadRegisters(pdu)
	case FuncWriteSingleCoil:
		return decodeWriteSingleCoil(pdu)
	case FuncWriteSingleRegister:
		return decodeWriteSingleRegister(pdu)
	case FuncWriteMultipleCoils:
		return decodeWriteMultipleCoils(pdu)
	case FuncWriteMultipleRegisters:
		return decodeWriteMultipleRegisters(pdu)
	case FuncReadFileRecord:
		return decodeReadFileRecord(pdu)
	case FuncWriteFileRecord:
		return decodeWriteFileRecord(pdu)
	case FuncMaskWriteRegister:
		return decodeMaskWriteRegister(pdu)
	case FuncReadWriteMultipleRegisters:
		return decodeReadWriteRegisters(pdu)
	case FuncReadFIFOQueue:
		return decodeReadFIFOQueue(pdu)
	case FuncReportServerID:
		return decodeReportServerID(pdu)
	case FuncEncapsulatedInterface:
		if len(pdu) >= 2 && pdu[1] == MEITypeReadDeviceID {
			return decodeReadDeviceID(pdu)
		}
		if len(pdu) < 2 {
			return nil, pduLenError(fc, len(pdu), "at least 2")
		}
	}
	return &Raw{FC: FunctionCode(pdu[0]), Data: pdu[1:]}, nil
}

// DecodeResponse decodes the response PDU to req. An exception response is
// returned as a *ExceptionError error. A function code that is neither the
// request's nor its exception form, a body of the wrong length, or counts
// that disagree with the request give a *FrameError, and the PDU is nil. The
// result aliases pdu.
func DecodeResponse(req Request, pdu []byte) (PDU, error) {
	if err := checkPDUSize(pdu); err != nil {
		return nil, err
	}
	fc := req.Function()
	switch got := FunctionCode(pdu[0]); got {
	case fc:
		rsp, err := req.decodeResponse(pdu)
		if err != nil {
			return nil, err // not a typed nil in a non-nil PDU
		}
		return rsp, nil
	case fc | exceptionBit:
		e, err := decodeException(pdu)
		if err != nil {
			return nil, err
		}
		return nil, e
	default:
		return nil, pduError(0, "function code", ErrUnexpectedFunction,
			"response function code 0x"+hex2(uint8(got))+" ("+got.String()+"), request was 0x"+
				hex2(uint8(fc))+" ("+fc.String()+")")
	}
}

// appendU16 appends big-endian 16-bit values.
func appendU16(dst []byte, vs ...uint16) []byte {
	for _, v := range vs {
		dst = append(dst, byte(v>>8), byte(v))
	}
	return dst
}

func u16(b []byte, off int) uint16 { return binary.BigEndian.Uint16(b[off:]) }

// AddressSpace is the number of PDU addresses per table, 0..65535 [AP §4.4].
const AddressSpace = 1 << 16

// InRange reports whether every item address..address+n-1 of a table of
// size items exists: n >= 1 and the end, computed in int arithmetic so that
// 0xFFFF+2 does not wrap, is within size [AP §7 code 02]. A server checks
// its tables with it; a client checks the address space (AddressSpace).
func InRange(size int, address uint16, n int) bool { return n >= 1 && int(address)+n <= size }

// CheckAddresses refuses a request whose items run past address 65535: they
// exist on no device, so a client need not ask (a server answers 02 [AP §7]).
// It returns a *RequestError with code IllegalDataAddress naming the range,
// or nil. Validate leaves addresses to the server, which knows its tables; a
// client calls both before sending. It is meant for a request that passed
// Validate: only then are its quantities those of its data.
func CheckAddresses(req Request) error {
	switch r := req.(type) {
	case *ReadBits:
		return checkAddressSpace(r.FC, "address range", r.Address, r.Quantity)
	case *ReadRegisters:
		return checkAddressSpace(r.FC, "address range", r.Address, r.Quantity)
	case *WriteMultipleCoils:
		return checkAddressSpace(FuncWriteMultipleCoils, "address range", r.Address, r.Quantity)
	case *WriteMultipleRegisters:
		return checkAddressSpace(FuncWriteMultipleRegisters, "address range", r.Address, r.Quantity)
	case *ReadWriteRegisters:
		fc := FuncReadWriteMultipleRegisters
		if err := checkAddressSpace(fc, "read address range", r.ReadAddress, r.ReadQuantity); err != nil {
			return err
		}
		return checkAddressSpace(fc, "write address range", r.WriteAddress, r.WriteQuantity)
	}
	return nil // one item, or addresses of their own (files, FIFO pointer)
}

// checkAddressSpace returns a *RequestError (02) when the q items from
// address do not all lie within the address space; q 0 is Validate's to
// refuse.
func checkAddressSpace(fc FunctionCode, field string, address, q uint16) error {
	if q == 0 || InRange(AddressSpace, address, int(q)) {
		return nil
	}
	return &RequestError{Function: fc, Field: field, Code: IllegalDataAddress,
		Reason: itoa(int(address)) + "+" + itoa(int(q)) + " runs past address 65535"}
}

// checkQuantity returns a *RequestError when q is outside 1..max.
func checkQuantity(fc FunctionCode, field string, q uint16, max int) error {
	if q < 1 || int(q) > max {
		return valueError(fc, field, itoa(int(q))+" out of range 1.."+itoa(max))
	}
	return nil
}

// echoMismatch reports a response that should echo the request but differs.
func echoMismatch(fc FunctionCode, offset int, field string, got, want uint16) error {
	return pduError(offset, field, ErrInconsistent, fc.String()+" response "+field+" "+itoa(int(got))+
		", request had "+itoa(int(want)))
}
