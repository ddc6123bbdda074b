package modbus

// MaxServerIDLen is the most data a Report Server ID response can carry:
// 253 bytes of PDU less the function code and the byte count [AP §6.13].
const MaxServerIDLen = MaxPDULen - 2

// Run indicator values of a Report Server ID response [AP §6.13].
const (
	RunIndicatorOff byte = 0x00
	RunIndicatorOn  byte = 0xFF
)

// ReportServerID is FC 17 (0x11) [AP §6.13]: the request is the function
// code alone. The spec marks it serial line only; devices and gateways answer
// it over TCP all the same.
type ReportServerID struct{}

// Function returns the function code of the ReportServerID.
func (r *ReportServerID) Function() FunctionCode { return FuncReportServerID }

// AppendPDU appends the ReportServerID PDU, function code first, to dst.
func (r *ReportServerID) AppendPDU(dst []byte) ([]byte, error) {
	return append(dst, byte(FuncReportServerID)), nil
}

// Validate accepts the request: it has no fields.
func (r *ReportServerID) Validate() error { return nil }

func decodeReportServerID(pdu []byte) (*ReportServerID, error) {
	if err := pduLenExact(pdu, 1); err != nil {
		return nil, err
	}
	return &ReportServerID{}, nil
}

func (r *ReportServerID) decodeResponse(pdu []byte) (PDU, error) { return decodeServerIDResponse(pdu) }

// ServerIDResponse answers FC 17: a byte count, then device-specific data,
// which the spec lays out as the server id, the run indicator (0x00 off, 0xFF
// on) and optional additional data [AP §6.13]. The server id's length is the
// device's to define, so Data is kept whole.
type ServerIDResponse struct {
	Data []byte // 1..251 bytes: server id, run indicator, additional data
}

// Function returns the function code of the ServerIDResponse.
func (r *ServerIDResponse) Function() FunctionCode { return FuncReportServerID }

// AppendPDU appends the ServerIDResponse PDU, function code first, to dst.
func (r *ServerIDResponse) AppendPDU(dst []byte) ([]byte, error) {
	if len(r.Data) < 1 || len(r.Data) > MaxServerIDLen {
		return dst, pduError(1, "byte count", ErrLongFrame, "report server id data is "+itoa(len(r.Data))+
			" bytes, want 1.."+itoa(MaxServerIDLen))
	}
	return append(append(dst, byte(FuncReportServerID), byte(len(r.Data))), r.Data...), nil
}

func decodeServerIDResponse(pdu []byte) (*ServerIDResponse, error) {
	if len(pdu) < 3 {
		return nil, pduLenError(FuncReportServerID, len(pdu), "at least 3")
	}
	bc := int(pdu[1])
	if bc == 0 {
		return nil, pduError(1, "byte count", ErrInconsistent, "byte count 0: the run indicator at least must follow")
	}
	if err := pduLenCount(pdu, 2, 1); err != nil {
		return nil, err
	}
	return &ServerIDResponse{Data: pdu[2:]}, nil
}
