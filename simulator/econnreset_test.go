package simulator_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// fc6 is a valid Write Single Register request: 12 bytes.
var fc6 = []byte{0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x06, 0x00, 0x01, 0x00, 0x03}

// TestPaddedRequestIsReset reproduces the ECONNRESET story: a client that
// sends a valid FC 6 request inside a fixed 256-byte buffer is reset by the
// strict simulator, and the simulator's log names the fault.
func TestPaddedRequestIsReset(t *testing.T) {
	cases := []struct {
		name      string
		frame     func() []byte
		wantReply bool   // the exact 12-byte prefix is answered first
		wantLog   string // the fault the log must name
	}{
		{
			// MBAP length says 6: the first 12 bytes are a good request; the
			// 244 zero bytes after it parse as a header with length 0.
			name:      "length field 6, zero padding",
			frame:     func() []byte { b := make([]byte, 256); copy(b, fc6); return b },
			wantReply: true,
			wantLog:   "length 0 outside 2..254",
		},
		{
			// MBAP length covers the whole buffer: an FC 6 PDU of 249 bytes.
			name: "length field covers the padding",
			frame: func() []byte {
				b := make([]byte, 256)
				copy(b, fc6)
				b[5] = 250
				return b
			},
			wantLog: "write single register pdu is 249 bytes, want 5",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			log, buf := captureLogger(t)
			s := simtest.Start(t, simulator.Config{Logger: log})
			c := dialRaw(t, s.Addr)
			c.write(tc.frame())
			if tc.wantReply {
				rsp, err := c.readADU(2 * time.Second)
				if err != nil && !isReset(err) {
					t.Fatalf("read: %v", err)
				}
				if err == nil && !bytes.Equal(rsp, fc6) {
					t.Fatalf("answer to the exact prefix = % X, want echo % X", rsp, fc6)
				}
			}
			err := c.readUntilError(2 * time.Second)
			if !isReset(err) {
				t.Fatalf("client read error = %v, want ECONNRESET", err)
			}
			waitFor(t, 2*time.Second, "reset counted", func() bool { return s.Stats().Resets == 1 })
			if got := buf.String(); !strings.Contains(got, tc.wantLog) || !strings.Contains(got, `"action":"reset"`) {
				t.Fatalf("simulator log does not name the fault %q:\n%s", tc.wantLog, got)
			}
		})
	}
}

// TestExactFramesOneConnection sends 10,000 exactly framed requests on one
// connection: every one is answered, nothing is reset, and a graceful client
// close reaches the simulator as EOF.
func TestExactFramesOneConnection(t *testing.T) {
	const n = 10000
	s := simtest.Start(t, simulator.Config{Logger: nopLogger()})
	c := dialRaw(t, s.Addr)
	req := make([]byte, 0, modbus.MaxADULen)
	buf := make([]byte, modbus.MaxADULen)
	c.nc.SetDeadline(time.Now().Add(60 * time.Second))
	for i := 0; i < n; i++ {
		tid := uint16(i)
		var err error
		req, err = modbus.AppendADU(req[:0], tid, 1, &modbus.WriteSingleRegister{Address: uint16(i % 100), Value: uint16(i)})
		if err != nil {
			t.Fatal(err)
		}
		if len(req) != 12 {
			t.Fatalf("request is %d bytes, want exactly 12", len(req))
		}
		c.write(req)
		h, rsp, err := modbus.ReadADU(c.nc, buf)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if h.TID != tid || !bytes.Equal(rsp, req) {
			t.Fatalf("request %d: answer % X, want echo % X", i, rsp, req)
		}
	}
	if err := c.closeGracefully(); err != nil {
		t.Fatalf("graceful close: %v", err)
	}
	waitFor(t, 2*time.Second, "peer EOF", func() bool { return s.Stats().PeerEOF == 1 })
	st := s.Stats()
	if st.Requests != n || st.Responses != n || st.Exceptions != 0 || st.Resets != 0 ||
		st.PeerResets != 0 || st.FramingFaults != 0 || st.MalformedPDUs != 0 || st.Accepted != 1 {
		t.Fatalf("stats = %+v, want %d requests answered on 1 connection, no faults, no resets", st, n)
	}
}

// TestFramingFaults covers each kind of framing fault and both actions.
func TestFramingFaults(t *testing.T) {
	cases := []struct {
		name    string
		action  simulator.MalformedAction
		send    []byte
		wantLog string
	}{
		{"length 0 reset", simulator.ActionReset, []byte{0, 1, 0, 0, 0, 0, 1}, "length 0 outside 2..254"},
		{"length 1 reset", simulator.ActionReset, []byte{0, 1, 0, 0, 0, 1, 1}, "length 1 outside 2..254"},
		{"length 255 reset", simulator.ActionReset, append([]byte{0, 1, 0, 0, 0, 0xFF, 1}, make([]byte, 254)...), "length 255 outside 2..254"},
		{"cut short reset", simulator.ActionReset, []byte{0, 1, 0, 0, 0, 6, 1, 3, 0}, "frame not completed within"},
		{"length 0 close", simulator.ActionClose, []byte{0, 1, 0, 0, 0, 0, 1}, "length 0 outside 2..254"},
		{"cut short close", simulator.ActionClose, []byte{0, 1, 0}, "frame not completed within"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			log, buf := captureLogger(t)
			s := simtest.Start(t, simulator.Config{Logger: log, OnMalformed: tc.action, FrameTimeout: 50 * time.Millisecond})
			c := dialRaw(t, s.Addr)
			c.write(tc.send)
			err := c.readUntilError(3 * time.Second)
			switch tc.action {
			case simulator.ActionReset:
				if !isReset(err) {
					t.Fatalf("read error %v, want ECONNRESET", err)
				}
			case simulator.ActionClose:
				if !errors.Is(err, io.EOF) {
					t.Fatalf("read error %v, want EOF (FIN)", err)
				}
			}
			waitFor(t, 2*time.Second, "fault counted", func() bool { return s.Stats().FramingFaults == 1 })
			if !strings.Contains(buf.String(), tc.wantLog) {
				t.Fatalf("log lacks %q:\n%s", tc.wantLog, buf.String())
			}
		})
	}
}

// TestMalformedBeforeUnit: in gateway mode a malformed PDU addressed to a
// unit that is not served is still a malformed PDU (reset), not an 0B answer:
// the stream's structure is judged before its routing.
func TestMalformedBeforeUnit(t *testing.T) {
	s := simtest.Start(t, simulator.Config{UnitIDs: []uint8{5}})
	c := dialRaw(t, s.Addr)
	b := make([]byte, 256)
	copy(b, fc6) // unit 1, not served
	b[5] = 250
	c.write(b)
	if err := c.readUntilError(2 * time.Second); !isReset(err) {
		t.Fatalf("read error %v, want ECONNRESET", err)
	}
	waitFor(t, 2*time.Second, "malformed counted", func() bool { return s.Stats().MalformedPDUs == 1 })
}

// TestExceptionsLoggedAtInfo: a refused request is logged with its reason at
// the default level, not only at debug.
func TestExceptionsLoggedAtInfo(t *testing.T) {
	buf := &syncBuffer{}
	l := zerolog.New(buf).Level(zerolog.InfoLevel)
	s := simtest.Start(t, simulator.Config{Logger: &l, HoldingRegisters: 10})
	c := dialRaw(t, s.Addr)
	c.roundTrip(adu(1, 1, modbus.NewReadHoldingRegisters(8, 5)))
	if !strings.Contains(buf.String(), "items 8..12 outside table of 10") {
		t.Fatalf("no reason logged at info:\n%s", buf.String())
	}
}

// TestMalformedPDUPolicies: under --malformed-pdu exception the connection
// survives the 03 answer and serves the next request; under --on-malformed
// close a malformed PDU ends the connection with a FIN, not a reset.
func TestMalformedPDUPolicies(t *testing.T) {
	padded := append(append([]byte(nil), fc6...), 0x00)
	padded[5] = 7 // FC 6 PDU of 6 bytes instead of 5
	t.Run("exception keeps the connection", func(t *testing.T) {
		s := simtest.Start(t, simulator.Config{MalformedPDU: simulator.PDUException})
		c := dialRaw(t, s.Addr)
		if got := c.roundTrip(padded); !bytes.Equal(got[7:], []byte{0x86, 0x03}) {
			t.Fatalf("malformed PDU answered % X, want 86 03", got)
		}
		if got := c.roundTrip(fc6); !bytes.Equal(got, fc6) {
			t.Fatalf("next request answered % X, want the echo % X", got, fc6)
		}
		st := s.Stats()
		if st.MalformedPDUs != 1 || st.Exceptions != 1 || st.Resets != 0 || st.Accepted != 1 {
			t.Fatalf("stats %+v: want 1 malformed PDU answered with 1 exception on 1 connection", st)
		}
	})
	t.Run("close sends a FIN", func(t *testing.T) {
		s := simtest.Start(t, simulator.Config{OnMalformed: simulator.ActionClose})
		c := dialRaw(t, s.Addr)
		c.write(padded)
		if err := c.readUntilError(2 * time.Second); !errors.Is(err, io.EOF) {
			t.Fatalf("read error %v, want EOF (FIN)", err)
		}
		waitFor(t, 2*time.Second, "malformed counted", func() bool { return s.Stats().MalformedPDUs == 1 })
		if st := s.Stats(); st.Resets != 0 {
			t.Fatalf("stats %+v: want no reset", st)
		}
	})
}

// TestExceptionsCounted: every exception answer is counted.
func TestExceptionsCounted(t *testing.T) {
	s := simtest.Start(t, simulator.Config{HoldingRegisters: 10})
	c := dialRaw(t, s.Addr)
	for i, req := range []modbus.PDU{
		modbus.NewReadHoldingRegisters(9, 2),             // 02
		modbus.NewReadHoldingRegisters(0, 0),             // 03
		&modbus.Raw{FC: 0x41},                            // 01
		modbus.NewReadHoldingRegisters(0, 1),             // ok
		&modbus.WriteSingleCoil{Address: 0, Value: 0x12}, // 03
	} {
		c.roundTrip(adu(uint16(i), 1, req))
	}
	waitFor(t, 2*time.Second, "responses counted", func() bool { return s.Stats().Responses == 5 })
	if st := s.Stats(); st.Exceptions != 4 || st.Requests != 5 {
		t.Fatalf("stats %+v: want 5 requests, 4 exceptions", st)
	}
}
