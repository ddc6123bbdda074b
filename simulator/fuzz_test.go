package simulator

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/plcctl/plcctl/internal/golden"
	"github.com/plcctl/plcctl/modbus"
)

// FuzzHandle writes an arbitrary byte stream into a connection served by the
// real connection code (Server.accept over a net.Pipe) and checks every
// answer against its request: the same transaction id, protocol id 0, the
// same unit id, the request's function code or its exception form, and the
// exact length the request implies (modbus.DecodeResponse). The stream is
// framed here with the codec plcsim reads with, so the test knows which
// requests must be answered: every complete frame with protocol id 0 up to
// the first framing fault. Malformed PDUs are answered (PDUException), so
// only a framing fault ends the stream.
func FuzzHandle(f *testing.F) {
	frames, err := golden.Load(golden.Path())
	if err != nil {
		f.Fatal(err)
	}
	var all []byte
	for _, fr := range frames {
		if len(fr.Request) >= modbus.MBAPHeaderLen {
			f.Add(fr.Request)
			all = append(all, fr.Request...)
		}
	}
	f.Add(all)                                                                            // every golden request on one connection
	f.Add([]byte{0, 1, 0, 7, 0, 6, 1, 3, 0, 0, 0, 1, 0, 2, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1}) // foreign protocol, then a read
	f.Add([]byte{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0})                   // a read, then length 0
	f.Fuzz(func(t *testing.T, stream []byte) {
		if len(stream) > 16*modbus.MaxADULen {
			return
		}
		reqs := framedRequests(stream)
		s, err := New(Config{Coils: 1000, DiscreteInputs: 1000, HoldingRegisters: 1000, InputRegisters: 1000,
			MalformedPDU: PDUException, FrameTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		cli, srv := net.Pipe()
		s.accept(srv)
		wrote := make(chan struct{})
		go func() { defer close(wrote); cli.Write(stream) }()
		cli.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, modbus.MaxADULen)
		for i, req := range reqs {
			h, adu, err := modbus.ReadADU(cli, buf)
			if err != nil {
				t.Fatalf("request %d (% X): no answer: %v", i, req, err)
			}
			checkAnswer(t, i, req, h, adu)
		}
		cli.Close()
		<-wrote
		s.Close() // waits for the connection goroutine
	})
}

// framedRequests returns the requests in stream that plcsim must answer.
func framedRequests(stream []byte) [][]byte {
	var out [][]byte
	r := bytes.NewReader(stream)
	buf := make([]byte, modbus.MaxADULen)
	for {
		h, adu, err := modbus.ReadADU(r, buf)
		if err != nil {
			return out
		}
		if h.Protocol == 0 {
			out = append(out, append([]byte(nil), adu...))
		}
	}
}

// checkAnswer checks one answer against its request.
func checkAnswer(t *testing.T, i int, req []byte, h modbus.Header, adu []byte) {
	t.Helper()
	rq, _ := modbus.DecodeHeader(req)
	pdu, rpdu := req[modbus.MBAPHeaderLen:], adu[modbus.MBAPHeaderLen:]
	fc, rfc := modbus.FunctionCode(pdu[0]), modbus.FunctionCode(rpdu[0])
	switch {
	case h.TID != rq.TID || h.Protocol != 0 || h.UnitID != rq.UnitID:
		t.Fatalf("request %d (% X): answer % X has another tid, protocol or unit id", i, req, adu)
	case rfc == (fc&0x7F)|0x80:
		if len(rpdu) != 2 || rpdu[1] == 0 {
			t.Fatalf("request %d (% X): exception answer % X is not 2 bytes with a code", i, req, adu)
		}
		return
	case rfc != fc:
		t.Fatalf("request %d (% X): answer % X has function code %#02x", i, req, adu, uint8(rfc))
	}
	r, err := modbus.DecodeRequest(pdu)
	if err != nil {
		t.Fatalf("request %d (% X): not decodable, yet answered normally: % X", i, req, adu)
	}
	if _, raw := r.(*modbus.Raw); raw {
		t.Fatalf("request %d (% X): unsupported function answered normally: % X", i, req, adu)
	}
	if _, err := modbus.DecodeResponse(r, rpdu); err != nil {
		var ee *modbus.ExceptionError
		if !errors.As(err, &ee) {
			t.Fatalf("request %d (% X): answer % X does not fit it: %v", i, req, adu, err)
		}
	}
}
