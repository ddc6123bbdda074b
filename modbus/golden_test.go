package modbus_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/plcctl/plcctl/internal/golden"
	"github.com/plcctl/plcctl/modbus"
)

// TestGoldenFrames runs every line of testdata/golden-frames.txt through the
// decoder and back through the encoder, and checks that the codec's own
// verdict (malformed, illegal value, or valid) matches the expected answer.
func TestGoldenFrames(t *testing.T) {
	for _, f := range golden.MustLoad(t) {
		t.Run(f.Name, func(t *testing.T) {
			h, pdu, err := modbus.DecodeADU(f.Request)
			if f.NoResponse() {
				if err == nil && h.Protocol == 0 {
					t.Fatalf("DecodeADU(% X) = ok with protocol 0, want a framing fault or a foreign protocol id", f.Request)
				}
				var fe *modbus.FrameError
				if err != nil && !errors.As(err, &fe) {
					t.Fatalf("DecodeADU error %v is not a *FrameError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeADU(% X) = %v", f.Request, err)
			}
			_, rspPDU, err := modbus.DecodeADU(f.Response)
			if err != nil {
				t.Fatalf("DecodeADU(response % X) = %v", f.Response, err)
			}
			wantExc := modbus.FunctionCode(rspPDU[0]).IsException()
			req, err := modbus.DecodeRequest(pdu)
			var fe *modbus.FrameError
			var re *modbus.RequestError
			switch {
			case errors.As(err, &fe):
				// Structurally malformed: strict plcsim resets; in exception
				// mode it answers 03, which the golden file shows.
				if !wantExc || modbus.ExceptionCode(rspPDU[1]) != modbus.IllegalDataValue {
					t.Fatalf("DecodeRequest(% X) = %v, but the golden answer is % X", pdu, err, rspPDU)
				}
				return
			case errors.As(err, &re):
				checkExc(t, err, rspPDU)
				return
			case err != nil:
				t.Fatalf("DecodeRequest(% X) = unexpected error type %T %v", pdu, err, err)
			}
			adu, err := modbus.AppendADU(make([]byte, 0, modbus.MaxADULen), h.TID, h.UnitID, req)
			if err != nil || !bytes.Equal(adu, f.Request) {
				t.Fatalf("AppendADU(%#v) = % X, %v; want % X", req, adu, err, f.Request)
			}
			if err := req.Validate(); err != nil {
				checkExc(t, err, rspPDU)
				return
			}
			rsp, err := modbus.DecodeResponse(req, rspPDU)
			if wantExc {
				var exc *modbus.ExceptionError
				if !errors.As(err, &exc) || exc.Code != modbus.ExceptionCode(rspPDU[1]) || exc.Function != req.Function() {
					t.Fatalf("DecodeResponse(% X) = %v, want exception %02X", rspPDU, err, rspPDU[1])
				}
				if !errors.Is(err, exc.Code) {
					t.Fatalf("errors.Is(%v, %v) = false", err, exc.Code)
				}
				// What remains is the server's to judge: addresses (02),
				// unsupported functions (01), unknown units (0B).
				switch exc.Code {
				case modbus.IllegalDataAddress, modbus.IllegalFunction, modbus.GatewayTargetDeviceFailedToRespond:
				default:
					t.Fatalf("codec accepted a request the golden file refuses with %v", exc.Code)
				}
				back, _ := modbus.AppendADU(nil, h.TID, h.UnitID, modbus.NewException(exc.Function, exc.Code))
				if !bytes.Equal(back, f.Response) {
					t.Fatalf("exception re-encoded as % X, want % X", back, f.Response)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeResponse(% X) = %v", rspPDU, err)
			}
			back, err := modbus.AppendADU(nil, h.TID, h.UnitID, rsp)
			if err != nil || !bytes.Equal(back, f.Response) {
				t.Fatalf("response re-encoded as % X, %v; want % X", back, err, f.Response)
			}
		})
	}
}

func checkExc(t *testing.T, err error, rspPDU []byte) {
	t.Helper()
	if !modbus.FunctionCode(rspPDU[0]).IsException() {
		t.Fatalf("codec refused the request (%v) but the golden answer is normal: % X", err, rspPDU)
	}
	want := modbus.ExceptionCode(rspPDU[1])
	if !errors.Is(err, want) {
		t.Fatalf("codec refused the request with %v, golden answer is exception %v", err, want)
	}
}
