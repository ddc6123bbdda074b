package modbus_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/plcctl/plcctl/modbus"
)

// PDU builders for the limit tables.
func readPDU(fc byte, addr, qty int) []byte { return u16s([]byte{fc}, addr, qty) }

func writeCoilsPDU(qty, bc int) []byte {
	return cat(u16s([]byte{0x0F}, 0, qty), []byte{byte(bc)}, zeros(bc))
}

func writeRegsPDU(qty, bc int) []byte {
	return cat(u16s([]byte{0x10}, 0, qty), []byte{byte(bc)}, zeros(bc))
}

func readWritePDU(readQty, writeQty, bc int) []byte {
	return cat(u16s([]byte{0x17}, 0, readQty, 0, writeQty), []byte{byte(bc)}, zeros(bc))
}

// fileGroup is one FC 20 sub-request.
func fileGroup(ref byte, file, record, length int) []byte {
	return u16s([]byte{ref}, file, record, length)
}

func readFilePDU(groups ...[]byte) []byte {
	body := cat(groups...)
	return cat([]byte{0x14, byte(len(body))}, body)
}

// writeGroup is one FC 21 sub-request carrying regs registers.
func writeGroup(ref byte, record, regs int) []byte {
	return cat(u16s([]byte{ref}, 4, record, regs), zeros(2*regs))
}

func writeFilePDU(groups ...[]byte) []byte {
	body := cat(groups...)
	return cat([]byte{0x15, byte(len(body))}, body)
}

// TestRequestLimits decodes well-formed requests at and around every limit:
// DecodeRequest must succeed and re-encode to the same bytes, and Validate
// must give the exception code of the spec's per-function check order
// (MODBUS-NOTES §2.2), naming the field it refused.
func TestRequestLimits(t *testing.T) {
	ok := modbus.ExceptionCode(0)
	tests := []struct {
		name      string
		pdu       []byte
		want      modbus.ExceptionCode // 0: Validate accepts
		wantField string               // RequestError.Field when refused
	}{
		{"fc01 qty 0", readPDU(0x01, 0, 0), modbus.IllegalDataValue, "quantity"},
		{"fc01 qty 1", readPDU(0x01, 0, 1), ok, ""},
		{"fc01 qty 2000", readPDU(0x01, 0, 2000), ok, ""},
		{"fc01 qty 2001", readPDU(0x01, 0, 2001), modbus.IllegalDataValue, "quantity"},
		{"fc01 qty 0xFFFF", readPDU(0x01, 0, 0xFFFF), modbus.IllegalDataValue, "quantity"},
		{"fc01 addr 0xFFFF qty 2000 is the server's address check", readPDU(0x01, 0xFFFF, 2000), ok, ""},
		{"fc02 qty 0", readPDU(0x02, 0, 0), modbus.IllegalDataValue, "quantity"},
		{"fc02 qty 2000", readPDU(0x02, 0, 2000), ok, ""},
		{"fc02 qty 2001", readPDU(0x02, 0, 2001), modbus.IllegalDataValue, "quantity"},
		{"fc03 qty 0", readPDU(0x03, 0, 0), modbus.IllegalDataValue, "quantity"},
		{"fc03 qty 125", readPDU(0x03, 0, 125), ok, ""},
		{"fc03 qty 126", readPDU(0x03, 0, 126), modbus.IllegalDataValue, "quantity"},
		{"fc03 qty 0 at 0xFFFF: quantity before address", readPDU(0x03, 0xFFFF, 0), modbus.IllegalDataValue, "quantity"},
		{"fc03 addr 0xFFFF qty 2 is the server's address check", readPDU(0x03, 0xFFFF, 2), ok, ""},
		{"fc04 qty 0", readPDU(0x04, 0, 0), modbus.IllegalDataValue, "quantity"},
		{"fc04 qty 125", readPDU(0x04, 0, 125), ok, ""},
		{"fc04 qty 126", readPDU(0x04, 0, 126), modbus.IllegalDataValue, "quantity"},
		{"fc05 on", hx("05 00 AC FF 00"), ok, ""},
		{"fc05 off", hx("05 00 AC 00 00"), ok, ""},
		{"fc05 0x0001", hx("05 00 AC 00 01"), modbus.IllegalDataValue, "value"},
		{"fc05 0x00FF", hx("05 00 AC 00 FF"), modbus.IllegalDataValue, "value"},
		{"fc05 0xFFFF", hx("05 00 AC FF FF"), modbus.IllegalDataValue, "value"},
		{"fc05 0xFF01", hx("05 00 AC FF 01"), modbus.IllegalDataValue, "value"},
		{"fc06 any value", hx("06 FF FF FF FF"), ok, ""},
		{"fc15 qty 0 bc 0", writeCoilsPDU(0, 0), modbus.IllegalDataValue, "quantity"},
		{"fc15 qty 1 bc 1", writeCoilsPDU(1, 1), ok, ""},
		{"fc15 qty 8 bc 1", writeCoilsPDU(8, 1), ok, ""},
		{"fc15 qty 9 bc 1", writeCoilsPDU(9, 1), modbus.IllegalDataValue, "byte count"},
		{"fc15 qty 9 bc 2", writeCoilsPDU(9, 2), ok, ""},
		{"fc15 qty 10 bc 3", writeCoilsPDU(10, 3), modbus.IllegalDataValue, "byte count"},
		{"fc15 qty 1968 bc 246", writeCoilsPDU(1968, 246), ok, ""},
		{"fc15 qty 1969 bc 247 fits a pdu", writeCoilsPDU(1969, 247), modbus.IllegalDataValue, "quantity"},
		{"fc15 qty 1969 bc 246", writeCoilsPDU(1969, 246), modbus.IllegalDataValue, "quantity"},
		{"fc16 qty 0 bc 0", writeRegsPDU(0, 0), modbus.IllegalDataValue, "quantity"},
		{"fc16 qty 1 bc 2", writeRegsPDU(1, 2), ok, ""},
		{"fc16 qty 2 bc 3", writeRegsPDU(2, 3), modbus.IllegalDataValue, "byte count"},
		{"fc16 qty 2 bc 2", writeRegsPDU(2, 2), modbus.IllegalDataValue, "byte count"},
		{"fc16 qty 123 bc 246", writeRegsPDU(123, 246), ok, ""},
		{"fc16 qty 124 bc 0", writeRegsPDU(124, 0), modbus.IllegalDataValue, "quantity"},
		{"fc16 qty 124 bc 246", writeRegsPDU(124, 246), modbus.IllegalDataValue, "quantity"},
		{"fc22 any mask", hx("16 FF FF 00 00 FF FF"), ok, ""},
		{"fc23 read 0", readWritePDU(0, 1, 2), modbus.IllegalDataValue, "read quantity"},
		{"fc23 read 1 write 1", readWritePDU(1, 1, 2), ok, ""},
		{"fc23 read 125", readWritePDU(125, 1, 2), ok, ""},
		{"fc23 read 126", readWritePDU(126, 1, 2), modbus.IllegalDataValue, "read quantity"},
		{"fc23 write 0 bc 0", readWritePDU(1, 0, 0), modbus.IllegalDataValue, "write quantity"},
		{"fc23 write 121 bc 242", readWritePDU(1, 121, 242), ok, ""},
		{"fc23 write 122 bc 242", readWritePDU(1, 122, 242), modbus.IllegalDataValue, "write quantity"},
		{"fc23 write 2 bc 2", readWritePDU(1, 2, 2), modbus.IllegalDataValue, "write byte count"},
		{"fc23 read 0 and bc wrong: read quantity first", readWritePDU(0, 2, 2), modbus.IllegalDataValue, "read quantity"},
		{"fc24 any pointer", hx("18 FF FF"), ok, ""},
		{"fc20 one group", readFilePDU(fileGroup(6, 4, 1, 2)), ok, ""},
		{"fc20 35 groups bc 245", readFilePDU(bytes.Repeat(fileGroup(6, 1, 0, 1), 35)), ok, ""},
		{"fc20 ref type 5", readFilePDU(fileGroup(5, 4, 1, 2)), modbus.IllegalDataAddress, "group 1 reference type"},
		{"fc20 ref type 7 in group 2", readFilePDU(fileGroup(6, 4, 1, 2), fileGroup(7, 4, 1, 2)), modbus.IllegalDataAddress, "group 2 reference type"},
		{"fc20 last record", readFilePDU(fileGroup(6, 4, 0x270F, 1)), ok, ""},
		{"fc20 record+length past 0x270F", readFilePDU(fileGroup(6, 4, 0x270F, 2)), modbus.IllegalDataAddress, "group 1 records"},
		{"fc20 record 0xFFFF length 0xFFFF does not wrap", readFilePDU(fileGroup(6, 4, 0xFFFF, 0xFFFF)), modbus.IllegalDataAddress, "group 1 records"},
		{"fc20 length 0", readFilePDU(fileGroup(6, 4, 1, 0)), modbus.IllegalDataValue, "group 1 record length"},
		{"fc20 answer over 253 bytes", readFilePDU(fileGroup(6, 4, 0, 100), fileGroup(6, 4, 100, 100)), modbus.IllegalDataValue, "lengths"},
		{"fc21 one register", writeFilePDU(writeGroup(6, 7, 1)), ok, ""},
		{"fc21 data length 0xFB", writeFilePDU(writeGroup(6, 0, 122)), ok, ""},
		{"fc21 no register: data length 7", writeFilePDU(writeGroup(6, 7, 0)), modbus.IllegalDataValue, "request data length"},
		{"fc21 empty", writeFilePDU(), modbus.IllegalDataValue, "request data length"},
		{"fc21 ref type 5", writeFilePDU(writeGroup(5, 7, 1)), modbus.IllegalDataAddress, "group 1 reference type"},
		{"fc21 record past 0x270F in group 2", writeFilePDU(writeGroup(6, 7, 1), writeGroup(6, 0x270F, 2)), modbus.IllegalDataAddress, "group 2 records"},
		{"fc43/14 code 1", hx("2B 0E 01 00"), ok, ""},
		{"fc43/14 code 4", hx("2B 0E 04 07"), ok, ""},
		{"fc43/14 code 0", hx("2B 0E 00 00"), modbus.IllegalDataValue, "read device id code"},
		{"fc43/14 code 5", hx("2B 0E 05 00"), modbus.IllegalDataValue, "read device id code"},
		{"fc43/13 canopen is raw", hx("2B 0D 01 02 03"), ok, ""},
		{"fc65 user defined", hx("41"), ok, ""},
		{"fc65 user defined 253 bytes", cat([]byte{0x41}, zeros(252)), ok, ""},
		{"fc07 serial only", hx("07"), ok, ""},
		{"fc0 is not a request", hx("00 01"), modbus.IllegalFunction, "function code"},
		{"fc 0x83 is not a request", hx("83 02"), modbus.IllegalFunction, "function code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := modbus.DecodeRequest(tt.pdu)
			if err != nil {
				t.Fatalf("DecodeRequest(% x) = %v, want a request", tt.pdu, err)
			}
			if req.Function() != modbus.FunctionCode(tt.pdu[0]) {
				t.Errorf("DecodeRequest(% x).Function() = %v, want %v", tt.pdu, req.Function(), modbus.FunctionCode(tt.pdu[0]))
			}
			back, err := req.AppendPDU(nil)
			if err != nil || !bytes.Equal(back, tt.pdu) {
				t.Errorf("AppendPDU(DecodeRequest(% x)) = % x, %v; want the input", tt.pdu, back, err)
			}
			err = req.Validate()
			if tt.want == ok {
				if err != nil {
					t.Fatalf("Validate(% x) = %v, want nil", tt.pdu, err)
				}
				return
			}
			var re *modbus.RequestError
			if !errors.As(err, &re) || !errors.Is(err, tt.want) || re.Code != tt.want {
				t.Fatalf("Validate(% x) = %v, want *RequestError with code %v", tt.pdu, err, tt.want)
			}
			if re.Field != tt.wantField || re.Function != modbus.FunctionCode(tt.pdu[0]) {
				t.Errorf("Validate(% x) refused field %q of %v, want %q of %v", tt.pdu, re.Field, re.Function, tt.wantField, modbus.FunctionCode(tt.pdu[0]))
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "modbus: ") || !strings.Contains(msg, tt.wantField) {
				t.Errorf("Validate(% x) error %q does not name %q", tt.pdu, msg, tt.wantField)
			}
		})
	}
}

// TestDecodeRequestValueErrors covers requests whose count field makes the
// structure illegal: DecodeRequest itself refuses them with a *RequestError
// (answer 03) rather than a framing fault.
func TestDecodeRequestValueErrors(t *testing.T) {
	tests := []struct {
		name      string
		pdu       []byte
		wantField string
	}{
		{"fc20 bc 0", hx("14 00"), "byte count"},
		{"fc20 bc 6", hx("14 06 06 00 04 00 01 00"), "byte count"},
		{"fc20 bc 8 is not whole groups", cat(hx("14 08"), fileGroup(6, 4, 1, 2), zeros(1)), "byte count"},
		{"fc20 bc 0xF6", cat(hx("14 F6"), zeros(0xF6)), "byte count"},
		{"fc21 group header cut", cat(hx("15 0C"), writeGroup(6, 7, 1), zeros(3)), "group 2"},
		{"fc21 group length runs past", cat(hx("15 09"), u16s([]byte{6}, 4, 7, 2), zeros(2)), "group 1 record length"},
		{"fc21 group length 0xFFFF", cat(hx("15 09"), u16s([]byte{6}, 4, 7, 0xFFFF), zeros(2)), "group 1 record length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := modbus.DecodeRequest(tt.pdu)
			var re *modbus.RequestError
			if !errors.As(err, &re) || !errors.Is(err, modbus.IllegalDataValue) {
				t.Fatalf("DecodeRequest(% x) = %v, %v; want *RequestError with code 03", tt.pdu, req, err)
			}
			if re.Field != tt.wantField {
				t.Errorf("DecodeRequest(% x) refused field %q, want %q (%v)", tt.pdu, re.Field, tt.wantField, err)
			}
		})
	}
}

// validPDUs holds one well-formed request PDU per typed function code. Every
// prefix of one is too short and the PDU plus one byte is too long.
var validRequestPDUs = []struct {
	name string
	pdu  []byte
}{
	{"fc01", hx("01 00 13 00 13")},
	{"fc02", hx("02 00 C4 00 16")},
	{"fc17", hx("11")},
	{"fc03", hx("03 00 6B 00 03")},
	{"fc04", hx("04 00 08 00 01")},
	{"fc05", hx("05 00 AC FF 00")},
	{"fc06", hx("06 00 01 00 03")},
	{"fc15", hx("0F 00 13 00 0A 02 CD 01")},
	{"fc16", hx("10 00 01 00 02 04 00 0A 01 02")},
	{"fc20", hx("14 0E 06 00 04 00 01 00 02 06 00 03 00 09 00 02")},
	{"fc21", hx("15 0D 06 00 04 00 07 00 03 06 AF 04 BE 10 0D")},
	{"fc22", hx("16 00 04 00 F2 00 25")},
	{"fc23", hx("17 00 03 00 06 00 0E 00 03 06 00 FF 00 FF 00 FF")},
	{"fc24", hx("18 04 DE")},
	{"fc43/14", hx("2B 0E 01 00")},
	{"fc16 max", writeRegsPDU(123, 246)},
	{"fc15 max", writeCoilsPDU(1968, 246)},
	{"fc23 max", readWritePDU(125, 121, 242)},
}

// TestDecodeRequestLength cuts every valid request at every length and
// extends it by one byte: each must be a *FrameError wrapping ErrShortFrame
// at the first missing byte, or ErrLongFrame at the first extra byte.
func TestDecodeRequestLength(t *testing.T) {
	for _, v := range validRequestPDUs {
		t.Run(v.name, func(t *testing.T) {
			if _, err := modbus.DecodeRequest(v.pdu); err != nil {
				t.Fatalf("DecodeRequest(% x) = %v, want ok", v.pdu, err)
			}
			for n := 0; n < len(v.pdu); n++ {
				short := v.pdu[:n:n]
				req, err := modbus.DecodeRequest(short)
				if req != nil {
					t.Fatalf("DecodeRequest(% x) = %#v, want nil request", short, req)
				}
				wantFrameError(t, fmt.Sprintf("DecodeRequest(% x)", short), err, "pdu", n, modbus.ErrShortFrame)
			}
			long := cat(v.pdu, []byte{0})
			_, err := modbus.DecodeRequest(long)
			if len(long) > modbus.MaxPDULen {
				wantFrameError(t, fmt.Sprintf("DecodeRequest(% x)", long), err, "pdu", modbus.MaxPDULen, modbus.ErrLongFrame)
				return
			}
			wantFrameError(t, fmt.Sprintf("DecodeRequest(% x)", long), err, "pdu", len(v.pdu), modbus.ErrLongFrame)
		})
	}
}

// TestDecodeRequestMessage: a length fault says what the length should have
// been and, when a count field implied it, which one.
func TestDecodeRequestMessage(t *testing.T) {
	tests := []struct {
		pdu  []byte
		want string
	}{
		{hx("03 00 00"), "modbus: pdu byte 3 (pdu length): read holding registers pdu is 3 bytes, want 5"},
		{hx("03 00 00 00 01 00"), "modbus: pdu byte 5 (pdu length): read holding registers pdu is 6 bytes, want 5"},
		{hx("0F 00 00 00 0A 03 01"), "modbus: pdu byte 7 (pdu length): write multiple coils pdu is 7 bytes, want 9 (6 + byte count 3 at byte 5)"},
		{hx("17 00 00 00 01 00 00 00 01 02 00 01 00"), "pdu byte 12 (pdu length): read/write multiple registers pdu is 13 bytes, want 12 (10 + byte count 2 at byte 9)"},
		{hx("2B"), "modbus: pdu byte 1 (pdu length): encapsulated interface transport pdu is 1 bytes, want at least 2"},
		{nil, "modbus: pdu byte 0 (function code): empty pdu"},
	}
	for _, tt := range tests {
		_, err := modbus.DecodeRequest(tt.pdu)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("DecodeRequest(% x) = %v, want %q", tt.pdu, err, tt.want)
		}
	}
}

// TestDecodeRequestOverMaxPDU: a PDU whose own count fields are consistent
// but which is longer than 253 bytes cannot travel in a valid ADU [AP §4.1];
// decoding it must fail at byte 253, never hand back a request AppendADU
// cannot encode.
func TestDecodeRequestOverMaxPDU(t *testing.T) {
	tests := []struct {
		name string
		pdu  []byte
	}{
		{"fc15 bc 255", writeCoilsPDU(2040, 255)},
		{"fc16 qty 124 bc 248", writeRegsPDU(124, 248)},
		{"fc16 bc 255", writeRegsPDU(127, 255)},
		{"fc23 write 122 bc 244", readWritePDU(1, 122, 244)},
		{"fc20 bc 252", readFilePDU(bytes.Repeat(fileGroup(6, 1, 0, 1), 36))},
		{"fc21 data length 253", writeFilePDU(writeGroup(6, 0, 123))},
		{"fc65 254 bytes", cat([]byte{0x41}, zeros(253))},
		{"fc65 300 bytes", cat([]byte{0x41}, zeros(299))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := modbus.DecodeRequest(tt.pdu)
			if req != nil {
				t.Errorf("DecodeRequest(%d bytes % x) = %T, want nil", len(tt.pdu), tt.pdu[:8], req)
			}
			wantFrameError(t, fmt.Sprintf("DecodeRequest(%d bytes % x...)", len(tt.pdu), tt.pdu[:8]), err, "pdu", modbus.MaxPDULen, modbus.ErrLongFrame)
		})
	}
}

// TestEncodeLimits: an encoder refuses fields it cannot express rather than
// truncating a count, and AppendADU refuses a PDU over 253 bytes, leaving
// dst as it was.
func TestEncodeLimits(t *testing.T) {
	tests := []struct {
		name     string
		pdu      modbus.PDU
		sentinel error
	}{
		{"empty pdu", emptyPDU{}, modbus.ErrShortFrame},
		{"raw 253 bytes", &modbus.Raw{FC: 0x41, Data: zeros(253)}, modbus.ErrLongFrame},
		{"fc16 124 registers", modbus.NewWriteMultipleRegisters(0, make([]uint16, 124)), modbus.ErrLongFrame},
		{"fc16 128 registers overflow the byte count", modbus.NewWriteMultipleRegisters(0, make([]uint16, 128)), modbus.ErrLongFrame},
		{"fc15 2048 coils overflow the byte count", modbus.NewWriteMultipleCoils(0, make([]bool, 2048)), modbus.ErrLongFrame},
		{"fc23 122 registers", modbus.NewReadWriteRegisters(0, 1, 0, make([]uint16, 122)), modbus.ErrLongFrame},
		{"fc03 response 126 registers", &modbus.RegistersResponse{FC: 3, Data: zeros(252)}, modbus.ErrLongFrame},
		{"fc24 response 32 values", &modbus.FIFOResponse{Data: zeros(64)}, modbus.ErrLongFrame},
		{"fc24 response odd data", &modbus.FIFOResponse{Data: zeros(3)}, modbus.ErrLongFrame},
		{"fc20 37 groups", &modbus.ReadFileRecord{SubRequests: make([]modbus.FileSubRequest, 37)}, modbus.ErrLongFrame},
		{"fc43 object of 256 bytes", &modbus.DeviceIDResponse{Objects: []modbus.DeviceObject{{Value: zeros(256)}}}, modbus.ErrLongFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte{0xAA}
			adu, err := modbus.AppendADU(dst, 1, 1, tt.pdu)
			var fe *modbus.FrameError
			if !errors.As(err, &fe) || !errors.Is(err, tt.sentinel) {
				t.Fatalf("AppendADU(%T) = %d bytes, %v; want *FrameError wrapping %v", tt.pdu, len(adu), err, tt.sentinel)
			}
			if !bytes.Equal(adu, dst) {
				t.Errorf("AppendADU(%T) failed but returned % x, want dst unchanged", tt.pdu, adu)
			}
		})
	}
}

// emptyPDU is a PDU that writes nothing, which no ADU may carry.
type emptyPDU struct{}

func (emptyPDU) Function() modbus.FunctionCode        { return 0x41 }
func (emptyPDU) AppendPDU(dst []byte) ([]byte, error) { return dst, nil }

// TestValidateBuiltRequests: the constructors a client uses go through the
// same Validate as decoded requests.
func TestValidateBuiltRequests(t *testing.T) {
	tests := []struct {
		name string
		req  modbus.Request
		want error
	}{
		{"read coils 2000", modbus.NewReadCoils(0, 2000), nil},
		{"read coils 0", modbus.NewReadCoils(0, 0), modbus.IllegalDataValue},
		{"read inputs 2001", modbus.NewReadDiscreteInputs(0, 2001), modbus.IllegalDataValue},
		{"read holding 125", modbus.NewReadHoldingRegisters(0, 125), nil},
		{"read input regs 126", modbus.NewReadInputRegisters(0, 126), modbus.IllegalDataValue},
		{"write coil on", modbus.NewWriteSingleCoil(0, true), nil},
		{"write coil 0x1234", &modbus.WriteSingleCoil{Value: 0x1234}, modbus.IllegalDataValue},
		{"write coils 1968", modbus.NewWriteMultipleCoils(0, make([]bool, 1968)), nil},
		{"write coils 1969", modbus.NewWriteMultipleCoils(0, make([]bool, 1969)), modbus.IllegalDataValue},
		{"write coils none", modbus.NewWriteMultipleCoils(0, nil), modbus.IllegalDataValue},
		{"write regs 123", modbus.NewWriteMultipleRegisters(0, make([]uint16, 123)), nil},
		{"write regs 124", modbus.NewWriteMultipleRegisters(0, make([]uint16, 124)), modbus.IllegalDataValue},
		{"write regs quantity lies", &modbus.WriteMultipleRegisters{Quantity: 3, Values: zeros(4)}, modbus.IllegalDataValue},
		{"rw 125/121", modbus.NewReadWriteRegisters(0, 125, 0, make([]uint16, 121)), nil},
		{"rw write 122", modbus.NewReadWriteRegisters(0, 125, 0, make([]uint16, 122)), modbus.IllegalDataValue},
		{"rw read 0", modbus.NewReadWriteRegisters(0, 0, 0, make([]uint16, 1)), modbus.IllegalDataValue},
		{"write file odd data", &modbus.WriteFileRecord{Records: []modbus.FileRecord{{RefType: 6, Data: zeros(3)}}}, modbus.IllegalDataValue},
		{"raw fc 0x80", &modbus.Raw{FC: 0x80}, modbus.IllegalFunction},
		{"raw 253 bytes", &modbus.Raw{FC: 0x41, Data: zeros(252)}, nil},
		{"raw 254 bytes", &modbus.Raw{FC: 0x41, Data: zeros(253)}, modbus.IllegalDataValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.req.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate(%#v) = %v, want nil", tt.req, err)
				}
				if _, err := modbus.AppendADU(nil, 1, 1, tt.req); err != nil {
					t.Fatalf("AppendADU of a valid request: %v", err)
				}
				return
			}
			var re *modbus.RequestError
			if !errors.As(err, &re) || !errors.Is(err, tt.want) {
				t.Fatalf("Validate(%T) = %v, want *RequestError wrapping %v", tt.req, err, tt.want)
			}
		})
	}
}

// TestCheckAddresses: a range that runs past address 65535 exists on no
// device and is refused with 02, naming the range; the last address itself
// is fine, and requests without a range of items pass.
func TestCheckAddresses(t *testing.T) {
	tests := []struct {
		name      string
		req       modbus.Request
		wantField string // "": accepted
	}{
		{"read coils to the last address", modbus.NewReadCoils(65535-1999, 2000), ""},
		{"read coils one past", modbus.NewReadCoils(65535-1998, 2000), "address range"},
		{"read inputs 0xFFFF+2", modbus.NewReadDiscreteInputs(0xFFFF, 2), "address range"},
		{"read holding 0xFFFF+1", modbus.NewReadHoldingRegisters(0xFFFF, 1), ""},
		{"read holding 0xFFFF+2", modbus.NewReadHoldingRegisters(0xFFFF, 2), "address range"},
		{"read input regs 0xFF84+125", modbus.NewReadInputRegisters(0xFF84, 125), "address range"},
		{"write coils 0xFFFF+2", modbus.NewWriteMultipleCoils(0xFFFF, make([]bool, 2)), "address range"},
		{"write regs 0xFFFE+2", modbus.NewWriteMultipleRegisters(0xFFFE, make([]uint16, 2)), ""},
		{"write regs 0xFFFE+3", modbus.NewWriteMultipleRegisters(0xFFFE, make([]uint16, 3)), "address range"},
		{"rw read past", modbus.NewReadWriteRegisters(0xFFFF, 2, 0, make([]uint16, 1)), "read address range"},
		{"rw write past", modbus.NewReadWriteRegisters(0, 2, 0xFFFF, make([]uint16, 2)), "write address range"},
		{"rw both fit", modbus.NewReadWriteRegisters(0xFFFF, 1, 0xFFFF, make([]uint16, 1)), ""},
		{"write coil at the last address", modbus.NewWriteSingleCoil(0xFFFF, true), ""},
		{"mask write at the last address", &modbus.MaskWriteRegister{Address: 0xFFFF}, ""},
		{"fifo at the last address", &modbus.ReadFIFOQueue{Address: 0xFFFF}, ""},
		{"quantity 0 is Validate's", modbus.NewReadHoldingRegisters(0xFFFF, 0), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := modbus.CheckAddresses(tt.req)
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("CheckAddresses(%#v) = %v, want nil", tt.req, err)
				}
				return
			}
			var re *modbus.RequestError
			if !errors.As(err, &re) || !errors.Is(err, modbus.IllegalDataAddress) {
				t.Fatalf("CheckAddresses(%#v) = %v, want *RequestError with code 02", tt.req, err)
			}
			if re.Field != tt.wantField || re.Function != tt.req.Function() || !strings.Contains(err.Error(), "runs past address 65535") {
				t.Errorf("CheckAddresses(%#v) = %q (field %q), want field %q of %v and the range", tt.req, err, re.Field, tt.wantField, tt.req.Function())
			}
		})
	}
}
