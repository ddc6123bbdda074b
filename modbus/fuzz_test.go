package modbus_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/plcctl/plcctl/internal/golden"
	"github.com/plcctl/plcctl/modbus"
)

var writeFuzzCorpus = flag.Bool("write-fuzz-corpus", false,
	"rewrite testdata/fuzz/<target>/golden-* from testdata/golden-frames.txt")

// fuzzSeed is one seed input of a fuzz target.
type fuzzSeed struct {
	name string
	args []any
}

// pduOf returns what follows the MBAP header, even of a frame that does not
// frame correctly, so that bad frames seed the PDU decoders too.
func pduOf(adu []byte) []byte { return adu[min(len(adu), modbus.MBAPHeaderLen):] }

// fuzzSeeds derives the seeds of target from the golden frames.
func fuzzSeeds(tb testing.TB, target string) []fuzzSeed {
	tb.Helper()
	frames := golden.MustLoad(tb)
	var seeds []fuzzSeed
	add := func(name string, args ...any) { seeds = append(seeds, fuzzSeed{"golden-" + name, args}) }
	var all []byte
	for _, f := range frames {
		switch target {
		case "FuzzDecodeRequest":
			add(f.Name+"-req", pduOf(f.Request))
			if !f.NoResponse() {
				add(f.Name+"-rsp", pduOf(f.Response))
			}
		case "FuzzDecodeResponse":
			if !f.NoResponse() {
				add(f.Name, pduOf(f.Request), pduOf(f.Response))
			}
		case "FuzzReadADU":
			add(f.Name+"-req", f.Request)
			if !f.NoResponse() {
				add(f.Name+"-rsp", f.Response)
				add(f.Name+"-txn", cat(f.Request, f.Response))
			}
			all = append(all, f.Request...)
			all = append(all, f.Response...)
		case "FuzzDecodeADU":
			add(f.Name+"-req", f.Request)
			if !f.NoResponse() {
				add(f.Name+"-rsp", f.Response)
			}
		default:
			tb.Fatalf("no seeds for %s", target)
		}
	}
	if target == "FuzzReadADU" {
		add("all", all)
	}
	return seeds
}

func addSeeds(f *testing.F) {
	for _, s := range fuzzSeeds(f, f.Name()) {
		f.Add(s.args...)
	}
}

// TestWriteFuzzCorpus rewrites the committed seed corpora from the golden
// frames when run with -write-fuzz-corpus; crashers (files not named
// golden-*) are left alone.
func TestWriteFuzzCorpus(t *testing.T) {
	if !*writeFuzzCorpus {
		t.Skip("run with -write-fuzz-corpus to rewrite testdata/fuzz")
	}
	for _, target := range []string{"FuzzDecodeRequest", "FuzzDecodeResponse", "FuzzReadADU", "FuzzDecodeADU"} {
		dir := filepath.Join("testdata", "fuzz", target)
		old, err := filepath.Glob(filepath.Join(dir, "golden-*"))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range old {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, s := range fuzzSeeds(t, target) {
			var b strings.Builder
			b.WriteString("go test fuzz v1\n")
			for _, a := range s.args {
				fmt.Fprintf(&b, "[]byte(%q)\n", a.([]byte))
			}
			if err := os.WriteFile(filepath.Join(dir, s.name), []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// checkDecodeError: a decoder refuses input only with a *FrameError that
// points inside (or just past) it, a *RequestError carrying the exception a
// server answers with, or, for a response, an *ExceptionError.
func checkDecodeError(t *testing.T, call string, err error, where string, n int) {
	t.Helper()
	var fe *modbus.FrameError
	var re *modbus.RequestError
	switch {
	case errors.As(err, &fe):
		if fe.Where != where || fe.Offset < 0 || fe.Offset > min(n, modbus.MaxADULen) || fe.Field == "" || fe.Reason == "" {
			t.Fatalf("%s = %v: where %q offset %d field %q, want a %s offset within the %d bytes", call, err, fe.Where, fe.Offset, fe.Field, where, n)
		}
		if !errors.Is(err, modbus.ErrShortFrame) && !errors.Is(err, modbus.ErrLongFrame) && !errors.Is(err, modbus.ErrBadLength) &&
			!errors.Is(err, modbus.ErrInconsistent) && !errors.Is(err, modbus.ErrUnexpectedFunction) {
			t.Fatalf("%s = %v wraps no sentinel", call, err)
		}
	case errors.As(err, &re):
		switch re.Code {
		case modbus.IllegalFunction, modbus.IllegalDataAddress, modbus.IllegalDataValue:
		default:
			t.Fatalf("%s = %v with code %v, want 01, 02 or 03", call, err, re.Code)
		}
	default:
		t.Fatalf("%s = %v (%T), want *FrameError or *RequestError", call, err, err)
	}
}

// FuzzDecodeRequest: a decoded request re-encodes to exactly its input, and
// when it validates, to the same bytes through AppendADU.
func FuzzDecodeRequest(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, pdu []byte) {
		req, err := modbus.DecodeRequest(pdu)
		if err != nil {
			if req != nil {
				t.Fatalf("DecodeRequest(% x) = %#v with error %v, want nil", pdu, req, err)
			}
			checkDecodeError(t, fmt.Sprintf("DecodeRequest(% x)", pdu), err, "pdu", len(pdu))
			return
		}
		if len(pdu) > modbus.MaxPDULen || req.Function() != modbus.FunctionCode(pdu[0]) {
			t.Fatalf("DecodeRequest(%d bytes % x) accepted function %v", len(pdu), pdu, req.Function())
		}
		back, err := req.AppendPDU(nil)
		if err != nil || !bytes.Equal(back, pdu) {
			t.Fatalf("AppendPDU(DecodeRequest(% x)) = % x, %v; want the input", pdu, back, err)
		}
		if err := req.Validate(); err != nil {
			var re *modbus.RequestError
			if !errors.As(err, &re) {
				t.Fatalf("Validate(% x) = %v (%T), want *RequestError", pdu, err, err)
			}
			return
		}
		adu, err := modbus.AppendADU(make([]byte, 0, modbus.MaxADULen), 0x1234, 0xFF, req)
		if err != nil || len(adu) > modbus.MaxADULen || !bytes.Equal(adu[modbus.MBAPHeaderLen:], pdu) {
			t.Fatalf("AppendADU(DecodeRequest(% x)) = % x, %v; want the PDU behind a header", pdu, adu, err)
		}
		h, got, err := modbus.DecodeADU(adu)
		if err != nil || !bytes.Equal(got, pdu) || h.TID != 0x1234 || h.UnitID != 0xFF || h.Protocol != 0 {
			t.Fatalf("DecodeADU(% x) = %+v, % x, %v", adu, h, got, err)
		}
	})
}

// FuzzDecodeResponse: a decoded response, or exception, re-encodes to its
// input; anything else is a *FrameError.
func FuzzDecodeResponse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, reqPDU, rspPDU []byte) {
		req, err := modbus.DecodeRequest(reqPDU)
		if err != nil {
			return
		}
		rsp, err := modbus.DecodeResponse(req, rspPDU)
		call := fmt.Sprintf("DecodeResponse(% x, % x)", reqPDU, rspPDU)
		if err != nil {
			if rsp != nil {
				t.Fatalf("%s = %#v with error %v, want nil", call, rsp, err)
			}
			var exc *modbus.ExceptionError
			if errors.As(err, &exc) {
				back, _ := modbus.NewException(exc.Function, exc.Code).AppendPDU(nil)
				if !bytes.Equal(back, rspPDU) || exc.Function != req.Function() || !errors.Is(err, exc.Code) {
					t.Fatalf("%s = %v re-encodes as % x", call, err, back)
				}
				return
			}
			var re *modbus.RequestError
			if errors.As(err, &re) {
				t.Fatalf("%s = %v: a response fault is not a *RequestError", call, err)
			}
			checkDecodeError(t, call, err, "pdu", len(rspPDU))
			return
		}
		if len(rspPDU) > modbus.MaxPDULen || rsp.Function() != req.Function() {
			t.Fatalf("%s accepted %d bytes, function %v", call, len(rspPDU), rsp.Function())
		}
		back, err := rsp.AppendPDU(nil)
		if err != nil || !bytes.Equal(back, rspPDU) {
			t.Fatalf("AppendPDU(%s) = % x, %v; want the input", call, back, err)
		}
		adu, err := modbus.AppendADU(nil, 1, 1, rsp)
		if err != nil || len(adu) > modbus.MaxADULen {
			t.Fatalf("AppendADU(%s) = %d bytes, %v", call, len(adu), err)
		}
	})
}

// FuzzReadADU reads ADUs from a stream until an error: each ADU is exactly
// the next bytes of the stream and no more is consumed; splitting the stream
// into one-byte reads changes nothing; the stream ends with io.EOF exactly
// at a boundary, else with a *FrameError.
func FuzzReadADU(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, stream []byte) {
		r := bytes.NewReader(stream)
		split := iotest.OneByteReader(bytes.NewReader(stream))
		buf := make([]byte, 0, modbus.MaxADULen)
		buf2 := make([]byte, 0, modbus.MaxADULen)
		for pos := 0; ; {
			h, adu, err := modbus.ReadADU(r, buf)
			h2, adu2, err2 := modbus.ReadADU(split, buf2)
			if h != h2 || !bytes.Equal(adu, adu2) || fmt.Sprint(err) != fmt.Sprint(err2) {
				t.Fatalf("at %d: ReadADU = %+v % x %v, but with one-byte reads %+v % x %v", pos, h, adu, err, h2, adu2, err2)
			}
			consumed := len(stream) - r.Len()
			if len(adu) > modbus.MaxADULen || !bytes.Equal(adu, stream[pos:pos+len(adu)]) {
				t.Fatalf("at %d: ReadADU returned %d bytes % x, not the stream's next bytes", pos, len(adu), adu)
			}
			if err != nil {
				checkStreamEnd(t, stream, pos, consumed, err)
				return
			}
			if consumed != pos+len(adu) || len(adu) != modbus.MBAPHeaderLen-1+int(h.Length) {
				t.Fatalf("at %d: ReadADU returned %d bytes for length %d and consumed %d", pos, len(adu), h.Length, consumed-pos)
			}
			h3, pdu, err := modbus.DecodeADU(adu)
			if err != nil || h3 != h || !bytes.Equal(modbus.AppendHeader(nil, h), adu[:modbus.MBAPHeaderLen]) || !bytes.Equal(pdu, adu[modbus.MBAPHeaderLen:]) {
				t.Fatalf("DecodeADU(% x) = %+v, %v; ReadADU said %+v", adu, h3, err, h)
			}
			pos = consumed
		}
	})
}

func checkStreamEnd(t *testing.T, stream []byte, pos, consumed int, err error) {
	t.Helper()
	if pos == len(stream) {
		if err != io.EOF {
			t.Fatalf("ReadADU at the end of the stream = %v, want io.EOF", err)
		}
		return
	}
	var fe *modbus.FrameError
	if !errors.As(err, &fe) || fe.Where != "adu" {
		t.Fatalf("ReadADU at %d = %v, want *FrameError", pos, err)
	}
	switch {
	case errors.Is(err, modbus.ErrBadLength):
		if fe.Offset != 4 || consumed != pos+modbus.MBAPHeaderLen {
			t.Fatalf("ReadADU at %d = %v after consuming %d bytes, want offset 4 after the header", pos, err, consumed-pos)
		}
	case errors.Is(err, io.ErrUnexpectedEOF):
		if fe.Offset != len(stream)-pos || consumed != len(stream) {
			t.Fatalf("ReadADU at %d = %v, want offset %d at the end of the stream", pos, err, len(stream)-pos)
		}
	default:
		t.Fatalf("ReadADU at %d = %v, want a bad length or an unexpected EOF", pos, err)
	}
}

// FuzzDecodeADU: a decoded ADU is at most 260 bytes and re-encodes to its
// input, and so does a request it carries.
func FuzzDecodeADU(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, adu []byte) {
		h, pdu, err := modbus.DecodeADU(adu)
		if err != nil {
			if pdu != nil {
				t.Fatalf("DecodeADU(% x) = % x with error %v, want nil", adu, pdu, err)
			}
			checkDecodeError(t, fmt.Sprintf("DecodeADU(% x)", adu), err, "adu", len(adu))
			return
		}
		if len(adu) > modbus.MaxADULen || len(pdu) < 1 || len(pdu) > modbus.MaxPDULen {
			t.Fatalf("DecodeADU accepted %d bytes with a %d-byte PDU", len(adu), len(pdu))
		}
		if back := append(modbus.AppendHeader(nil, h), pdu...); !bytes.Equal(back, adu) {
			t.Fatalf("DecodeADU(% x) re-encodes as % x", adu, back)
		}
		req, err := modbus.DecodeRequest(pdu)
		if err != nil || h.Protocol != 0 {
			return
		}
		back, err := modbus.AppendADU(nil, h.TID, h.UnitID, req)
		if err != nil || !bytes.Equal(back, adu) {
			t.Fatalf("AppendADU(DecodeRequest(DecodeADU(% x))) = % x, %v; want the input", adu, back, err)
		}
	})
}
