package modbus_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/plcctl/plcctl/modbus"
)

func mustRequest(t *testing.T, pdu []byte) modbus.Request {
	t.Helper()
	req, err := modbus.DecodeRequest(pdu)
	if err != nil {
		t.Fatalf("DecodeRequest(% x) = %v", pdu, err)
	}
	return req
}

// exchanges are well-formed request/response PDU pairs, one or more per
// typed function code, including the largest responses.
var exchanges = []struct {
	name     string
	req, rsp []byte
}{
	{"fc01", hx("01 00 13 00 13"), hx("01 03 CD 6B 05")},
	{"fc01 2000 bits", readPDU(0x01, 0, 2000), cat(hx("01 FA"), zeros(250))},
	{"fc02", hx("02 00 C4 00 16"), hx("02 03 AC DB 35")},
	{"fc03", hx("03 00 6B 00 03"), hx("03 06 02 2B 00 00 00 64")},
	{"fc03 125 registers", readPDU(0x03, 0, 125), cat(hx("03 FA"), zeros(250))},
	{"fc04", hx("04 00 08 00 01"), hx("04 02 00 0A")},
	{"fc05", hx("05 00 AC FF 00"), hx("05 00 AC FF 00")},
	{"fc06", hx("06 00 01 00 03"), hx("06 00 01 00 03")},
	{"fc15", hx("0F 00 13 00 0A 02 CD 01"), hx("0F 00 13 00 0A")},
	{"fc16", hx("10 00 01 00 02 04 00 0A 01 02"), hx("10 00 01 00 02")},
	{"fc20", hx("14 0E 06 00 04 00 01 00 02 06 00 03 00 09 00 02"), hx("14 0C 05 06 0D FE 00 20 05 06 33 CD 00 40")},
	{"fc21", hx("15 0D 06 00 04 00 07 00 03 06 AF 04 BE 10 0D"), hx("15 0D 06 00 04 00 07 00 03 06 AF 04 BE 10 0D")},
	{"fc22", hx("16 00 04 00 F2 00 25"), hx("16 00 04 00 F2 00 25")},
	{"fc23", hx("17 00 03 00 06 00 0E 00 03 06 00 FF 00 FF 00 FF"), hx("17 0C 00 FE 0A CD 00 01 00 03 00 0D 00 FF")},
	{"fc23 read 125", readWritePDU(125, 1, 2), cat(hx("17 FA"), zeros(250))},
	{"fc17", hx("11"), hx("11 02 2A FF")},
	{"fc17 server id, run, extra data", hx("11"), hx("11 06 01 FF 4C 4D 42 33")},
	{"fc17 251 bytes", hx("11"), cat(hx("11 FB"), zeros(251))},
	{"fc24", hx("18 04 DE"), hx("18 00 06 00 02 01 B8 12 84")},
	{"fc24 empty queue", hx("18 04 DE"), hx("18 00 02 00 00")},
	{"fc24 31 values", hx("18 04 DE"), cat(hx("18 00 40 00 1F"), zeros(62))},
	{"fc43/14 stream", hx("2B 0E 01 00"), hx("2B 0E 01 01 00 00 03 00 03 41 42 43 01 02 50 31 02 05 56 32 2E 31 31")},
	{"fc43/14 more follows", hx("2B 0E 01 00"), hx("2B 0E 01 01 FF 02 02 00 03 41 42 43 01 00")},
	{"fc43/14 individual", hx("2B 0E 04 02"), hx("2B 0E 04 81 00 00 01 02 05 56 32 2E 31 31")},
}

// TestDecodeResponseRoundTrip: every well-formed response decodes and
// re-encodes to the same bytes and a valid ADU.
func TestDecodeResponseRoundTrip(t *testing.T) {
	for _, x := range exchanges {
		t.Run(x.name, func(t *testing.T) {
			req := mustRequest(t, x.req)
			if err := req.Validate(); err != nil {
				t.Fatalf("Validate(% x) = %v", x.req, err)
			}
			rsp, err := modbus.DecodeResponse(req, x.rsp)
			if err != nil {
				t.Fatalf("DecodeResponse(% x) = %v, want ok", x.rsp, err)
			}
			if rsp.Function() != req.Function() {
				t.Errorf("DecodeResponse(% x).Function() = %v, want %v", x.rsp, rsp.Function(), req.Function())
			}
			back, err := rsp.AppendPDU(nil)
			if err != nil || !bytes.Equal(back, x.rsp) {
				t.Errorf("AppendPDU(DecodeResponse(% x)) = % x, %v; want the input", x.rsp, back, err)
			}
			if _, err := modbus.AppendADU(make([]byte, 0, modbus.MaxADULen), 1, 1, rsp); err != nil {
				t.Errorf("AppendADU(DecodeResponse(% x)) = %v", x.rsp, err)
			}
		})
	}
}

// deviceIDCutOffset is where a cut FC 43/14 response is reported: the
// header's end while it is incomplete, then the object whose id and length
// do not fit, or the length byte of the object whose value does not fit.
func deviceIDCutOffset(full []byte, n int) int {
	if n < 7 {
		return n
	}
	for o := 7; o < len(full); o += 2 + int(full[o+1]) {
		switch {
		case n < o+2:
			return o
		case n < o+2+int(full[o+1]):
			return o + 1
		}
	}
	panic("cut past the end")
}

// TestDecodeResponseLength cuts every response at every length and extends
// it by one byte.
func TestDecodeResponseLength(t *testing.T) {
	for _, x := range exchanges {
		t.Run(x.name, func(t *testing.T) {
			req := mustRequest(t, x.req)
			for n := 0; n < len(x.rsp); n++ {
				short := x.rsp[:n:n]
				want := n
				if req.Function() == modbus.FuncEncapsulatedInterface {
					want = deviceIDCutOffset(x.rsp, n)
				}
				rsp, err := modbus.DecodeResponse(req, short)
				if rsp != nil {
					t.Fatalf("DecodeResponse(% x) = %#v, want nil", short, rsp)
				}
				wantFrameError(t, fmt.Sprintf("DecodeResponse(% x)", short), err, "pdu", want, modbus.ErrShortFrame)
			}
			long := cat(x.rsp, []byte{0})
			_, err := modbus.DecodeResponse(req, long)
			wantFrameError(t, fmt.Sprintf("DecodeResponse(% x)", long), err, "pdu", len(x.rsp), modbus.ErrLongFrame)
		})
	}
}

// TestDecodeResponseInconsistent: responses that are well framed on their
// own but disagree with the request, or with themselves.
func TestDecodeResponseInconsistent(t *testing.T) {
	dev := hx("2B 0E 04 02")
	tests := []struct {
		name     string
		req, rsp []byte
		offset   int
		sentinel error
		wantMsg  string
	}{
		{"fc01 byte count for 16 bits", hx("01 00 13 00 13"), hx("01 02 CD 6B"), 1, modbus.ErrInconsistent, "byte count 2 for 19 bits, want 3"},
		{"fc01 qty 0 answered with a byte", readPDU(0x01, 0, 0), hx("01 01 00"), 1, modbus.ErrInconsistent, "want 0"},
		{"fc02 byte count cut", hx("02 00 C4 00 16"), hx("02 03 AC DB"), 4, modbus.ErrShortFrame, "4 bytes, want 5 (2 + byte count 3 at byte 1)"},
		{"fc03 byte count 4 for 3 registers", hx("03 00 6B 00 03"), hx("03 04 02 2B 00 00"), 1, modbus.ErrInconsistent, "for 3 registers, want 6"},
		{"fc04 odd byte count", hx("04 00 08 00 01"), hx("04 01 00"), 1, modbus.ErrInconsistent, "want 2"},
		{"fc05 echo address", hx("05 00 AC FF 00"), hx("05 00 AD FF 00"), 1, modbus.ErrInconsistent, "address 173, request had 172"},
		{"fc05 echo value", hx("05 00 AC FF 00"), hx("05 00 AC 00 00"), 3, modbus.ErrInconsistent, "value"},
		{"fc06 echo address", hx("06 00 01 00 03"), hx("06 00 02 00 03"), 1, modbus.ErrInconsistent, "address"},
		{"fc06 echo value", hx("06 00 01 00 03"), hx("06 00 01 00 04"), 3, modbus.ErrInconsistent, "value 4, request had 3"},
		{"fc15 echo address", hx("0F 00 13 00 0A 02 CD 01"), hx("0F 00 14 00 0A"), 1, modbus.ErrInconsistent, "address"},
		{"fc15 echo quantity", hx("0F 00 13 00 0A 02 CD 01"), hx("0F 00 13 00 09"), 3, modbus.ErrInconsistent, "quantity 9, request had 10"},
		{"fc16 echo quantity", hx("10 00 01 00 02 04 00 0A 01 02"), hx("10 00 01 00 01"), 3, modbus.ErrInconsistent, "quantity"},
		{"fc20 group 1 length", hx("14 0E 06 00 04 00 01 00 02 06 00 03 00 09 00 02"), hx("14 0C 03 06 0D FE 05 06 33 CD 00 40 00 00"), 2, modbus.ErrInconsistent, "group 1 length 3, want 5"},
		{"fc20 group 2 length", hx("14 0E 06 00 04 00 01 00 02 06 00 03 00 09 00 02"), hx("14 0C 05 06 0D FE 00 20 03 06 33 CD 00 40"), 8, modbus.ErrInconsistent, "group 2 length 3, want 5"},
		{"fc20 group 2 missing", hx("14 0E 06 00 04 00 01 00 02 06 00 03 00 09 00 02"), hx("14 06 05 06 0D FE 00 20"), 8, modbus.ErrShortFrame, "before group 2"},
		{"fc20 group 2 cut", hx("14 0E 06 00 04 00 01 00 02 06 00 03 00 09 00 02"), hx("14 0A 05 06 0D FE 00 20 05 06 33 CD"), 8, modbus.ErrShortFrame, "group 2 runs past"},
		{"fc20 group not asked for", hx("14 07 06 00 04 00 01 00 02"), hx("14 0C 05 06 0D FE 00 20 05 06 33 CD 00 40"), 8, modbus.ErrLongFrame, "after the last group"},
		{"fc20 reference type 7", hx("14 07 06 00 04 00 01 00 02"), hx("14 06 05 07 0D FE 00 20"), 3, modbus.ErrInconsistent, "reference type 7"},
		{"fc21 echo differs", hx("15 0D 06 00 04 00 07 00 03 06 AF 04 BE 10 0D"), hx("15 0D 06 00 04 00 08 00 03 06 AF 04 BE 10 0D"), 6, modbus.ErrInconsistent, "differs"},
		{"fc22 echo and mask", hx("16 00 04 00 F2 00 25"), hx("16 00 04 00 F3 00 25"), 3, modbus.ErrInconsistent, "and mask"},
		{"fc22 echo or mask", hx("16 00 04 00 F2 00 25"), hx("16 00 04 00 F2 00 26"), 5, modbus.ErrInconsistent, "or mask"},
		{"fc23 byte count for the write quantity", hx("17 00 03 00 06 00 0E 00 03 06 00 FF 00 FF 00 FF"), hx("17 06 00 FE 0A CD 00 01"), 1, modbus.ErrInconsistent, "for 6 registers, want 12"},
		{"fc17 byte count 0", hx("11"), hx("11 00 FF"), 1, modbus.ErrInconsistent, "byte count 0"},
		{"fc17 byte count past the end", hx("11"), hx("11 05 2A FF"), 4, modbus.ErrShortFrame, "want 7 (2 + byte count 5 at byte 1)"},
		{"fc24 count 32", hx("18 04 DE"), cat(hx("18 00 42 00 20"), zeros(64)), 3, modbus.ErrInconsistent, "fifo count 32 above 31"},
		{"fc24 count 0xFFFF", hx("18 04 DE"), hx("18 00 00 FF FF"), 3, modbus.ErrInconsistent, "65535"},
		{"fc24 byte count disagrees with count", hx("18 04 DE"), hx("18 00 08 00 02 01 B8 12 84"), 1, modbus.ErrInconsistent, "byte count 8 for fifo count 2, want 6"},
		{"fc43 mei type", dev, hx("2B 0D 04 81 00 00 00"), 1, modbus.ErrInconsistent, "mei type 13"},
		{"fc43 code echo", dev, hx("2B 0E 01 81 00 00 00"), 2, modbus.ErrInconsistent, "request had 4"},
		{"fc43 more follows 0x01", dev, hx("2B 0E 04 81 01 00 00"), 4, modbus.ErrInconsistent, "0x01 is neither"},
		{"fc43 more follows 0xFE", dev, hx("2B 0E 04 81 FE 00 00"), 4, modbus.ErrInconsistent, "0xfe is neither"},
		{"fc43 object count too high", dev, hx("2B 0E 04 81 00 00 02 02 05 56 32 2E 31 31"), 14, modbus.ErrShortFrame, "object 2 of 2"},
		{"fc43 255 objects announced", dev, hx("2B 0E 04 81 00 00 FF"), 7, modbus.ErrShortFrame, "object 1 of 255"},
		{"fc43 object value cut", dev, hx("2B 0E 04 81 00 00 01 02 06 56 32 2E 31 31"), 8, modbus.ErrShortFrame, "object 0x02 runs past"},
		{"fc43 object header cut", dev, hx("2B 0E 04 81 00 00 01 02"), 7, modbus.ErrShortFrame, "object 1 of 1"},
		{"fc43 bytes after the objects", dev, hx("2B 0E 04 81 00 00 01 02 05 56 32 2E 31 31 00 00"), 14, modbus.ErrLongFrame, "2 bytes after the last of 1 objects"},
		{"fc43 zero objects with data", dev, hx("2B 0E 04 81 00 00 00 02 00"), 7, modbus.ErrLongFrame, "after the last of 0 objects"},
		{"fc03 answered as fc04", hx("03 00 6B 00 01"), hx("04 02 00 00"), 0, modbus.ErrUnexpectedFunction, "0x04 (read input registers), request was 0x03 (read holding registers)"},
		{"fc03 answered with fc04 exception", hx("03 00 6B 00 01"), hx("84 02"), 0, modbus.ErrUnexpectedFunction, "0x84"},
		{"fc03 answered with fc 0", hx("03 00 6B 00 01"), hx("00"), 0, modbus.ErrUnexpectedFunction, "0x00"},
		{"fc03 answered with 0x80", hx("03 00 6B 00 01"), hx("80 02"), 0, modbus.ErrUnexpectedFunction, "0x80"},
		{"exception pdu too long", hx("03 00 6B 00 01"), hx("83 02 00"), 2, modbus.ErrLongFrame, "3 bytes, want 2"},
		{"exception pdu without code", hx("03 00 6B 00 01"), hx("83"), 1, modbus.ErrShortFrame, "1 bytes, want 2"},
		{"empty response", hx("03 00 6B 00 01"), nil, 0, modbus.ErrShortFrame, "empty"},
		{"response over 253 bytes", hx("41"), cat(hx("41"), zeros(253)), 253, modbus.ErrLongFrame, "254 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := mustRequest(t, tt.req)
			rsp, err := modbus.DecodeResponse(req, tt.rsp)
			if rsp != nil {
				t.Errorf("DecodeResponse(% x) = %#v, want nil", tt.rsp, rsp)
			}
			call := fmt.Sprintf("DecodeResponse(% x)", tt.rsp)
			wantFrameError(t, call, err, "pdu", tt.offset, tt.sentinel)
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("%s error %q does not say %q", call, err, tt.wantMsg)
			}
			var exc *modbus.ExceptionError
			if errors.As(err, &exc) {
				t.Errorf("%s = %v is an exception, want a framing fault", call, err)
			}
		})
	}
}

// TestDecodeResponseException: an exception response is an error the caller
// can test with errors.Is on the code and errors.As on *ExceptionError,
// however many layers wrapped it.
func TestDecodeResponseException(t *testing.T) {
	tests := []struct {
		name    string
		req     []byte
		rsp     []byte
		fc      modbus.FunctionCode
		code    modbus.ExceptionCode
		wantMsg string
	}{
		{"fc03 illegal data address", hx("03 27 0E 00 03"), hx("83 02"), modbus.FuncReadHoldingRegisters, modbus.IllegalDataAddress,
			"modbus: exception 02 illegal data address for read holding registers"},
		{"fc01 illegal data value", hx("01 00 00 07 D0"), hx("81 03"), modbus.FuncReadCoils, modbus.IllegalDataValue,
			"modbus: exception 03 illegal data value for read coils"},
		{"fc16 busy", writeRegsPDU(1, 2), hx("90 06"), modbus.FuncWriteMultipleRegisters, modbus.ServerDeviceBusy, "server device busy"},
		{"fc20 memory parity", readFilePDU(fileGroup(6, 4, 1, 2)), hx("94 08"), modbus.FuncReadFileRecord, modbus.MemoryParityError, "memory parity error"},
		{"fc43 gateway target", hx("2B 0E 01 00"), hx("AB 0B"), modbus.FuncEncapsulatedInterface, modbus.GatewayTargetDeviceFailedToRespond,
			"0B gateway target device failed to respond for encapsulated interface transport"},
		{"user-defined fc65", hx("41 01 02"), hx("C1 01"), 0x41, modbus.IllegalFunction, "01 illegal function for user-defined function 0x41"},
		{"undefined code 09", hx("06 00 01 00 03"), hx("86 09"), modbus.FuncWriteSingleRegister, 0x09, "09 unknown exception"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := mustRequest(t, tt.req)
			rsp, err := modbus.DecodeResponse(req, tt.rsp)
			if rsp != nil {
				t.Errorf("DecodeResponse(% x) = %#v, want nil PDU", tt.rsp, rsp)
			}
			if err == nil || err.Error() != tt.wantMsg && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("DecodeResponse(% x) error %v, want it to say %q", tt.rsp, err, tt.wantMsg)
			}
			wrapped := fmt.Errorf("plc: read tag flow: %w", fmt.Errorf("transport: %v from plc-3:502: %w", tt.fc, err))
			for _, e := range []error{err, wrapped} {
				if !errors.Is(e, tt.code) {
					t.Errorf("errors.Is(%v, %v) = false, want true", e, tt.code)
				}
				if other := tt.code ^ 0x01; errors.Is(e, other) {
					t.Errorf("errors.Is(%v, %v) = true, want false", e, other)
				}
				var exc *modbus.ExceptionError
				if !errors.As(e, &exc) || exc.Function != tt.fc || exc.Code != tt.code {
					t.Fatalf("errors.As(%v) = %+v, want function %v code %v", e, exc, tt.fc, tt.code)
				}
				var fe *modbus.FrameError
				if errors.As(e, &fe) {
					t.Errorf("errors.As(%v, *FrameError) = true: an exception is an answer, not a framing fault", e)
				}
			}
			var exc *modbus.ExceptionError
			errors.As(err, &exc)
			back, err := modbus.NewException(exc.Function, exc.Code).AppendPDU(nil)
			if err != nil || !bytes.Equal(back, tt.rsp) {
				t.Errorf("NewException(%v, %v) = % x, %v; want % x", exc.Function, exc.Code, back, err, tt.rsp)
			}
		})
	}
}

// TestExceptionCodeIsError: a bare code is itself an error and matches
// through wrapping, as syscall.Errno does.
func TestExceptionCodeIsError(t *testing.T) {
	err := fmt.Errorf("simulator: %w", modbus.IllegalDataValue)
	if !errors.Is(err, modbus.IllegalDataValue) || errors.Is(err, modbus.IllegalDataAddress) {
		t.Errorf("errors.Is on %v does not match exactly its own code", err)
	}
	if got, want := modbus.IllegalDataValue.Error(), "modbus: exception 03 illegal data value"; got != want {
		t.Errorf("IllegalDataValue.Error() = %q, want %q", got, want)
	}
	if got := modbus.NewException(modbus.FuncReadCoils|0x80, modbus.IllegalFunction).Function(); got != 0x81 {
		t.Errorf("NewException(0x81, 01).Function() = %v, want 0x81", got)
	}
}

// TestAppendRegisters: the values are appended after dst's, high byte
// first; an odd last byte is ignored; dst's own values stay.
func TestAppendRegisters(t *testing.T) {
	for _, tc := range []struct {
		name string
		dst  []uint16
		data []byte
		want []uint16
	}{
		{"empty", nil, nil, nil},
		{"one odd byte", nil, hx("12"), nil},
		{"two", nil, hx("12 34 00 FF"), []uint16{0x1234, 0x00FF}},
		{"odd last byte", nil, hx("12 34 56"), []uint16{0x1234}},
		{"after dst", []uint16{7, 8}, hx("FF FE"), []uint16{7, 8, 0xFFFE}},
		{"into room", make([]uint16, 1, 4), hx("00 01 00 02"), []uint16{0, 1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := modbus.AppendRegisters(tc.dst, tc.data)
			if !slices.Equal(got, tc.want) {
				t.Errorf("AppendRegisters(%v, % x) = %v, want %v", tc.dst, tc.data, got, tc.want)
			}
		})
	}
}

// TestAppendRegistersLengths: every length up to 20 values and the 125 of
// a full read, with and without an odd byte, gives the values one by one.
func TestAppendRegistersLengths(t *testing.T) {
	lengths := []int{125}
	for n := range 21 {
		lengths = append(lengths, n)
	}
	for _, n := range lengths {
		for _, odd := range []bool{false, true} {
			data := make([]byte, 2*n)
			want := []uint16{0xABCD}
			for i := range n {
				data[2*i], data[2*i+1] = byte(i*7+1), byte(i*13+2)
				want = append(want, uint16(i*7+1)<<8|uint16(byte(i*13+2)))
			}
			if odd {
				data = append(data, 0xEE)
			}
			if got := modbus.AppendRegisters([]uint16{0xABCD}, data); !slices.Equal(got, want) {
				t.Errorf("AppendRegisters(% x) = %v, want %v", data, got, want)
			}
		}
	}
}
