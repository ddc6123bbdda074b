package modbus

// Raw is a PDU the codec has no type for: user-defined function codes (65..72,
// 100..110), serial-line-only codes, or anything a caller wants to send
// verbatim. It serves as request and as response.
type Raw struct {
	FC   FunctionCode
	Data []byte
}

// Function returns the function code of the Raw.
func (r *Raw) Function() FunctionCode { return r.FC }

// AppendPDU appends the Raw PDU, function code first, to dst.
func (r *Raw) AppendPDU(dst []byte) ([]byte, error) {
	if 1+len(r.Data) > MaxPDULen {
		return dst, pduError(MaxPDULen, "pdu length", ErrLongFrame, r.FC.String()+" pdu is "+itoa(1+len(r.Data))+
			" bytes, more than "+itoa(MaxPDULen))
	}
	return append(append(dst, byte(r.FC)), r.Data...), nil
}

// Validate refuses function code 0 and codes with bit 7 set, which are not
// requests [AP §4.1].
func (r *Raw) Validate() error {
	if r.FC == 0 || r.FC&exceptionBit != 0 {
		return &RequestError{Function: r.FC, Field: "function code", Reason: "0x" + hex2(uint8(r.FC)) + " is not a request function code (1..127)", Code: IllegalFunction}
	}
	if 1+len(r.Data) > MaxPDULen {
		return valueError(r.FC, "pdu length", itoa(1+len(r.Data))+" bytes, more than "+itoa(MaxPDULen))
	}
	return nil
}

func (r *Raw) decodeResponse(pdu []byte) (PDU, error) {
	return &Raw{FC: FunctionCode(pdu[0]), Data: pdu[1:]}, nil
}
