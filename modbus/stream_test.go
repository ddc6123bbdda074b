package modbus_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/plcctl/plcctl/internal/golden"
	"github.com/plcctl/plcctl/modbus"
)

// goldenADUs returns every golden request and response ADU that frames
// correctly, in file order.
func goldenADUs(t testing.TB) [][]byte {
	t.Helper()
	var adus [][]byte
	for _, f := range golden.MustLoad(t) {
		for _, adu := range [][]byte{f.Request, f.Response} {
			if _, _, err := modbus.DecodeADU(adu); err == nil {
				adus = append(adus, adu)
			}
		}
	}
	if len(adus) < 100 {
		t.Fatalf("only %d golden ADUs frame correctly", len(adus))
	}
	return adus
}

// TestReadADUStream reads every golden ADU back-to-back from one stream,
// whatever the segmentation, and then io.EOF.
func TestReadADUStream(t *testing.T) {
	adus := goldenADUs(t)
	stream := bytes.Join(adus, nil)
	readers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"one buffer", func(r io.Reader) io.Reader { return r }},
		{"one byte per read", iotest.OneByteReader},
		{"half per read", iotest.HalfReader},
		{"eof with the last data", iotest.DataErrReader},
		{"one byte and eof with the last data", func(r io.Reader) io.Reader { return iotest.DataErrReader(iotest.OneByteReader(r)) }},
	}
	for _, rd := range readers {
		t.Run(rd.name, func(t *testing.T) {
			r := rd.wrap(bytes.NewReader(stream))
			buf := make([]byte, 0, modbus.MaxADULen)
			for i, want := range adus {
				h, adu, err := modbus.ReadADU(r, buf)
				if err != nil {
					t.Fatalf("ADU %d: ReadADU = %v, want % x", i, err, want)
				}
				if !bytes.Equal(adu, want) {
					t.Fatalf("ADU %d: ReadADU = % x, want % x", i, adu, want)
				}
				if int(h.Length) != len(want)-6 || h.TID != uint16(want[0])<<8|uint16(want[1]) || h.UnitID != want[6] {
					t.Fatalf("ADU %d: ReadADU header %+v does not match % x", i, h, want)
				}
				if &adu[0] != &buf[:1][0] {
					t.Fatalf("ADU %d: ReadADU did not reuse a buffer of cap %d", i, cap(buf))
				}
			}
			h, adu, err := modbus.ReadADU(r, buf)
			if err != io.EOF {
				t.Fatalf("ReadADU at the end = %+v, % x, %v; want io.EOF", h, adu, err)
			}
		})
	}
}

// TestReadADUStopsAtBoundary: ReadADU consumes exactly one ADU, so the next
// ADU's bytes, even a partial or malformed one, stay in the reader.
func TestReadADUStopsAtBoundary(t *testing.T) {
	first := hx("00 40 00 00 00 06 01 03 00 00 00 01")
	tests := []struct {
		name string
		next []byte
	}{
		{"second adu", hx("00 41 00 00 00 06 01 04 00 00 00 01")},
		{"one byte", hx("00")},
		{"garbage", bytes.Repeat([]byte{0xFF}, 300)},
		{"nothing", nil},
	}
	for _, tt := range tests {
		for _, wrap := range []func(io.Reader) io.Reader{
			func(r io.Reader) io.Reader { return r }, iotest.OneByteReader, iotest.HalfReader,
		} {
			t.Run(tt.name, func(t *testing.T) {
				br := bytes.NewReader(cat(first, tt.next))
				_, adu, err := modbus.ReadADU(wrap(br), nil)
				if err != nil || !bytes.Equal(adu, first) {
					t.Fatalf("ReadADU(% x) = % x, %v; want % x", cat(first, tt.next), adu, err, first)
				}
				if br.Len() != len(tt.next) {
					t.Fatalf("ReadADU left %d bytes in the reader, want %d", br.Len(), len(tt.next))
				}
			})
		}
	}
}

// TestReadADUCut: a stream that ends inside a frame gives a *FrameError at
// the first missing byte wrapping io.ErrUnexpectedEOF; one that ends before
// the frame gives io.EOF itself.
func TestReadADUCut(t *testing.T) {
	full := hx("00 08 00 00 00 0B 01 10 00 01 00 02 04 00 0A 01 02")
	t.Run("empty", func(t *testing.T) {
		h, adu, err := modbus.ReadADU(bytes.NewReader(nil), nil)
		var fe *modbus.FrameError
		if err != io.EOF || errors.As(err, &fe) || adu != nil || h != (modbus.Header{}) {
			t.Fatalf("ReadADU(empty) = %+v, % x, %v; want io.EOF", h, adu, err)
		}
	})
	for n := 1; n < len(full); n++ {
		cut := full[:n]
		for _, wrap := range []func(io.Reader) io.Reader{iotest.OneByteReader, iotest.DataErrReader} {
			t.Run(fmt.Sprintf("%d bytes", n), func(t *testing.T) {
				_, adu, err := modbus.ReadADU(wrap(bytes.NewReader(cut)), nil)
				call := fmt.Sprintf("ReadADU(% x)", cut)
				fe := wantFrameError(t, call, err, "adu", n, io.ErrUnexpectedEOF)
				wantField := "pdu"
				if n < modbus.MBAPHeaderLen {
					wantField = "mbap header"
				}
				if fe.Field != wantField || !strings.Contains(err.Error(), "stream ended after") {
					t.Errorf("%s error %q, field %q; want field %q and 'stream ended after'", call, err, fe.Field, wantField)
				}
				if len(adu) > n {
					t.Errorf("%s returned %d bytes, more than the %d read", call, len(adu), n)
				}
			})
		}
	}
}

// TestReadADUBadLength: a length field outside 2..254 is refused at byte 4
// after reading only the header, whatever follows.
func TestReadADUBadLength(t *testing.T) {
	for _, length := range []int{0, 1, 255, 256, 0x7FFF, 0xFFFF} {
		t.Run(fmt.Sprint(length), func(t *testing.T) {
			hdr := u16s(hx("00 F1 00 00"), length)
			hdr = append(hdr, 0x01)
			br := bytes.NewReader(cat(hdr, zeros(300)))
			h, adu, err := modbus.ReadADU(br, make([]byte, 0, modbus.MaxADULen))
			fe := wantFrameError(t, fmt.Sprintf("ReadADU(% x ...)", hdr), err, "adu", 4, modbus.ErrBadLength)
			if fe.Field != "length" || !strings.Contains(err.Error(), fmt.Sprintf("length %d outside 2..254", length)) {
				t.Errorf("ReadADU error %q does not name the length field and value", err)
			}
			if int(h.Length) != length || !bytes.Equal(adu, hdr) {
				t.Errorf("ReadADU = %+v, % x; want the header read so far", h, adu)
			}
			if br.Len() != 300 {
				t.Errorf("ReadADU consumed %d body bytes after a bad length, want 0", 300-br.Len())
			}
		})
	}
	for _, tt := range []struct {
		name string
		adu  []byte
	}{
		{"length 2", hx("00 01 00 00 00 02 01 41")},
		{"length 254", cat(hx("00 01 00 00 00 FE 01 41"), zeros(252))},
		{"protocol id 1 is the caller's to judge", hx("00 F0 00 01 00 06 01 03 00 00 00 01")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, adu, err := modbus.ReadADU(bytes.NewReader(tt.adu), nil)
			if err != nil || !bytes.Equal(adu, tt.adu) || h.Protocol != uint16(tt.adu[3]) {
				t.Fatalf("ReadADU(% x) = %+v, % x, %v; want the whole ADU", tt.adu, h, adu, err)
			}
		})
	}
}

// TestReadADUReadError: a read error inside a frame is wrapped in a
// *FrameError that still matches it; before the frame it is returned as is.
func TestReadADUReadError(t *testing.T) {
	full := hx("00 04 00 00 00 06 01 04 00 08 00 01")
	// TimeoutReader: the first read takes the header, the second fails.
	_, _, err := modbus.ReadADU(iotest.TimeoutReader(bytes.NewReader(full)), nil)
	wantFrameError(t, "ReadADU(TimeoutReader)", err, "adu", 7, iotest.ErrTimeout)
	if msg := err.Error(); !strings.Contains(msg, "read failed after 7 of 12 bytes") || !strings.Contains(msg, iotest.ErrTimeout.Error()) {
		t.Errorf("ReadADU(TimeoutReader) error %q does not say where the read failed and why", msg)
	}

	boom := errors.New("connection reset")
	_, _, err = modbus.ReadADU(iotest.ErrReader(boom), nil)
	var fe *modbus.FrameError
	if !errors.Is(err, boom) || errors.As(err, &fe) {
		t.Errorf("ReadADU(ErrReader) = %v, want the read error itself", err)
	}
	r := io.MultiReader(bytes.NewReader(full[:3]), iotest.ErrReader(boom))
	_, _, err = modbus.ReadADU(r, nil)
	wantFrameError(t, "ReadADU(3 bytes then error)", err, "adu", 3, boom)
}

// TestReadADUDeadline: a socket deadline that expires before or inside a
// frame still matches os.ErrDeadlineExceeded, and inside a frame names the
// byte where it stopped.
func TestReadADUDeadline(t *testing.T) {
	full := hx("00 03 00 00 00 06 01 03 00 6B 00 03")
	for _, n := range []int{0, 3, 7, 9} {
		t.Run(fmt.Sprintf("after %d bytes", n), func(t *testing.T) {
			server, client := net.Pipe()
			defer server.Close()
			defer client.Close()
			wrote := make(chan error, 1)
			go func() {
				_, err := client.Write(full[:n])
				wrote <- err
			}()
			if err := server.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			_, _, err := modbus.ReadADU(server, nil)
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("ReadADU after %d bytes and a deadline = %v, want os.ErrDeadlineExceeded", n, err)
			}
			if n > 0 {
				wantFrameError(t, fmt.Sprintf("ReadADU(% x, then deadline)", full[:n]), err, "adu", n, os.ErrDeadlineExceeded)
				if strings.Contains(err.Error(), "stream ended") {
					t.Errorf("ReadADU error %q says the stream ended; it timed out", err)
				}
			}
			select {
			case err := <-wrote:
				if err != nil {
					t.Fatalf("writing %d bytes: %v", n, err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("writer still blocked: ReadADU did not consume the bytes sent")
			}
		})
	}
}

// TestDecodeADU: one complete ADU, no more, no less.
func TestDecodeADU(t *testing.T) {
	full := hx("00 03 00 00 00 06 01 03 00 6B 00 03")
	h, pdu, err := modbus.DecodeADU(full)
	if err != nil || !bytes.Equal(pdu, full[7:]) || h != (modbus.Header{TID: 3, Length: 6, UnitID: 1}) {
		t.Fatalf("DecodeADU(% x) = %+v, % x, %v", full, h, pdu, err)
	}
	for n := 0; n < len(full); n++ {
		_, _, err := modbus.DecodeADU(full[:n])
		wantFrameError(t, fmt.Sprintf("DecodeADU(% x)", full[:n]), err, "adu", n, modbus.ErrShortFrame)
	}
	long := cat(full, []byte{0})
	_, _, err = modbus.DecodeADU(long)
	wantFrameError(t, fmt.Sprintf("DecodeADU(% x)", long), err, "adu", len(full), modbus.ErrLongFrame)
	bad := hx("00 03 00 00 00 01 01")
	_, _, err = modbus.DecodeADU(bad)
	wantFrameError(t, fmt.Sprintf("DecodeADU(% x)", bad), err, "adu", 4, modbus.ErrBadLength)
}
