package transport

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/internal/golden"
	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/modbus"
)

// TestGoldenFrames sends every golden request the client can build and
// checks that the bytes on the wire are exactly the golden ADU (transaction
// id aside) and that the golden answer decodes to the same PDU or exception.
// Requests the codec refuses, or whose range runs past address 65535, must
// not reach the wire.
func TestGoldenFrames(t *testing.T) {
	type step struct {
		want []byte // request ADU expected on the wire
		rsp  []byte // response ADU to send back
	}
	steps := make(chan step, 1)
	got := make(chan []byte, 1)
	f := startFake(t, func(c *fakeConn) {
		for {
			_, adu, err := modbus.ReadADU(c, nil)
			if err != nil {
				return
			}
			got <- bytes.Clone(adu)
			s := <-steps
			rsp := bytes.Clone(s.rsp)
			copy(rsp, adu[:2]) // the client's transaction id
			c.Write(rsp)
		}
	})
	c := dial(t, f.addr, testOptions(t))
	for _, fr := range golden.MustLoad(t) {
		if fr.NoResponse() {
			continue
		}
		h, pdu, err := modbus.DecodeADU(fr.Request)
		if err != nil || h.Protocol != 0 {
			continue
		}
		req, err := modbus.DecodeRequest(pdu)
		if err != nil {
			continue // structurally malformed: the client cannot even build it
		}
		t.Run(fr.Name, func(t *testing.T) {
			refused := validate(req) != nil // the codec's checks, and the address space
			if !refused {
				steps <- step{want: fr.Request, rsp: fr.Response}
			}
			rsp, err := c.Send(t.Context(), h.UnitID, req)
			if refused {
				checkRefused(t, err)
				return
			}
			wire := recv(t, got, "request on the wire")
			if !bytes.Equal(wire[2:], fr.Request[2:]) {
				t.Errorf("wire = % x, want % x", wire, fr.Request)
			}
			checkGoldenAnswer(t, rsp, err, fr.Response)
		})
	}
}

func checkRefused(t *testing.T, err error) {
	t.Helper()
	var re *modbus.RequestError
	if !errors.As(err, &re) {
		t.Fatalf("Send of an invalid request = %v, want a *modbus.RequestError", err)
	}
	if oe := opError(t, err); oe.Sent {
		t.Errorf("OpError.Sent = true for a refused request")
	}
}

func checkGoldenAnswer(t *testing.T, rsp modbus.PDU, err error, want []byte) {
	t.Helper()
	wantPDU := want[modbus.MBAPHeaderLen:]
	if modbus.FunctionCode(wantPDU[0]).IsException() {
		var exc *modbus.ExceptionError
		if !errors.As(err, &exc) || exc.Code != modbus.ExceptionCode(wantPDU[1]) {
			t.Fatalf("Send = %v, want exception %02x", err, wantPDU[1])
		}
		if !errors.Is(err, modbus.ExceptionCode(wantPDU[1])) {
			t.Errorf("errors.Is(%v, code %02x) = false", err, wantPDU[1])
		}
		return
	}
	if err != nil {
		t.Fatalf("Send = %v, want % x", err, wantPDU)
	}
	b, err := rsp.AppendPDU(nil)
	if err != nil || !bytes.Equal(b, wantPDU) {
		t.Errorf("answer re-encodes to % x (%v), want % x", b, err, wantPDU)
	}
}

func TestSendBasics(t *testing.T) {
	f := startFake(t, servePLC)
	c := dial(t, f.addr, testOptions(t))
	tests := []struct {
		name    string
		req     modbus.Request
		wantErr error
	}{
		{"read holding", modbus.NewReadHoldingRegisters(100, 3), nil},
		{"read input max", modbus.NewReadInputRegisters(0, 125), nil},
		{"read coils", modbus.NewReadCoils(7, 20), nil},
		{"write register", &modbus.WriteSingleRegister{Address: 1, Value: 2}, nil},
		{"exception", &modbus.ReadFIFOQueue{Address: 1}, modbus.IllegalFunction},
		{"quantity 0 refused", modbus.NewReadHoldingRegisters(0, 0), modbus.IllegalDataValue},
		{"quantity 126 refused", modbus.NewReadHoldingRegisters(0, 126), modbus.IllegalDataValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rsp, err := c.Send(t.Context(), 1, tt.req)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Send(%v) = %v, want %v", tt.req.Function(), err, tt.wantErr)
			}
			if err == nil && rsp == nil {
				t.Fatal("nil response without error")
			}
			if err != nil && !strings.HasPrefix(err.Error(), "transport: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
	if s := c.Stats(); s.Exceptions != 1 || s.LinkDowns != 0 || s.Requests != 5 {
		t.Errorf("Stats = %+v, want 5 requests, 1 exception, no link down", s)
	}
}

// TestUnitIDPerRequest: one connection, many unit ids at once (a gateway).
func TestUnitIDPerRequest(t *testing.T) {
	f := startFake(t, func(c *fakeConn) {
		for {
			h, req, err := c.readRequest()
			if err != nil {
				return
			}
			// register value = unit id, so a mix-up shows
			r := req.(*modbus.ReadRegisters)
			c.answer(h, &modbus.RegistersResponse{FC: r.FC, Data: []byte{0, h.UnitID}})
		}
	})
	o := testOptions(t)
	o.MaxInFlight = 4
	c := dial(t, f.addr, o)
	var wg sync.WaitGroup
	for unit := range uint8(8) {
		wg.Go(func() {
			for range 20 {
				rsp, err := c.Send(t.Context(), unit, modbus.NewReadHoldingRegisters(0, 1))
				if err != nil {
					t.Errorf("unit %d: %v", unit, err)
					return
				}
				if v := rsp.(*modbus.RegistersResponse).Registers()[0]; v != uint16(unit) {
					t.Errorf("unit %d got the answer for unit %d", unit, v)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestTraceFrames: every frame is logged at trace level in hex.
func TestTraceFrames(t *testing.T) {
	f := startFake(t, servePLC)
	var buf syncBuffer
	log := zerolog.New(&buf).Level(zerolog.TraceLevel)
	o := testOptions(t)
	o.Logger = &log
	c := dial(t, f.addr, o)
	if _, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(1, 1)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		`"tx":"000100000006010300010001"`, `"rx":"00010000000501030200`, `"message":"frame"`,
		`"message":"transaction"`, `"unit_id":1`, `"fc":"read holding registers"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

type syncBuffer = testutil.SyncBuffer

func TestOptions(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		ok   bool
	}{
		{"zero", Options{}, true},
		{"max in flight 16", Options{MaxInFlight: 16}, true},
		{"max in flight 17", Options{MaxInFlight: 17}, false},
		{"negative timeout", Options{Timeout: -1}, false},
		{"negative dial timeout", Options{DialTimeout: -1}, false},
		{"negative retries", Options{Retries: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.o.validate(); (err == nil) != tt.ok {
				t.Errorf("validate(%+v) = %v, want ok %v", tt.o, err, tt.ok)
			}
		})
	}
	d := Options{}.withDefaults()
	if d.Timeout != time.Second || d.DialTimeout != 5*time.Second || d.KeepAlive != 15*time.Second ||
		d.UserTimeout != 45*time.Second || d.DeadAfterTimeouts != 3 ||
		d.MaxInFlight != 1 || d.Backoff == nil || d.Logger == nil {
		t.Errorf("withDefaults() = %+v", d)
	}
	if d := (Options{UserTimeout: -1, DeadAfterTimeouts: -1}).withDefaults(); d.UserTimeout != -1 || d.DeadAfterTimeouts != -1 {
		t.Errorf("withDefaults() turned negative UserTimeout, DeadAfterTimeouts back on: %+v", d)
	}
}

func TestDefaultBackoff(t *testing.T) {
	for _, tt := range []struct {
		attempt  int
		min, max time.Duration
	}{
		{1, 25 * time.Millisecond, 50 * time.Millisecond},
		{2, 50 * time.Millisecond, 100 * time.Millisecond},
		{7, 1600 * time.Millisecond, 3200 * time.Millisecond},
		{8, 2500 * time.Millisecond, 5 * time.Second},
		{1000, 2500 * time.Millisecond, 5 * time.Second},
	} {
		for range 50 {
			if d := DefaultBackoff(tt.attempt); d < tt.min || d > tt.max {
				t.Fatalf("DefaultBackoff(%d) = %v, want %v..%v", tt.attempt, d, tt.min, tt.max)
			}
		}
	}
}

func TestDialFailure(t *testing.T) {
	f := startFake(t, servePLC)
	addr := f.addr
	f.stop() // nothing listens there now
	var got []State
	o := testOptions(t)
	o.OnStateChange = func(s State) { got = append(got, s) }
	_, err := Dial(t.Context(), addr, o)
	if err == nil || !strings.HasPrefix(err.Error(), "transport: dial ") {
		t.Fatalf("Dial = %v, want a dial error", err)
	}
	if len(got) != 2 || got[0] != StateConnecting || got[1] != StateClosed {
		t.Errorf("states = %v, want [connecting closed]", got)
	}
}

func TestSendAfterClose(t *testing.T) {
	f := startFake(t, servePLC)
	c := dial(t, f.addr, testOptions(t))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	_, err := c.Send(context.Background(), 1, modbus.NewReadHoldingRegisters(0, 1))
	if !errors.Is(err, ErrClosed) || opError(t, err).Sent {
		t.Errorf("Send after Close = %v, want ErrClosed, not sent", err)
	}
	if c.State() != StateClosed {
		t.Errorf("State = %v, want closed", c.State())
	}
}

// TestOneWritePerADU: each request leaves in one write, so on loopback the
// server's single read returns exactly one whole ADU, never a piece or a
// padded buffer (the ECONNRESET story).
func TestOneWritePerADU(t *testing.T) {
	sizes := make(chan int, 1)
	f := startFake(t, func(c *fakeConn) {
		buf := make([]byte, 1024)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			sizes <- n
			h, req, err := c.decode(buf[:n])
			if err != nil {
				return
			}
			c.answer(h, plcAnswer(req))
		}
	})
	c := dial(t, f.addr, testOptions(t))
	for _, tt := range []struct {
		req  modbus.Request
		want int
	}{
		{modbus.NewReadHoldingRegisters(0, 1), 12},
		{&modbus.WriteSingleRegister{Address: 1, Value: 2}, 12},
		{modbus.NewWriteMultipleRegisters(0, make([]uint16, 123)), 7 + 6 + 246},
	} {
		for range 20 {
			if _, err := c.Send(t.Context(), 1, tt.req); err != nil {
				t.Fatal(err)
			}
			if n := recv(t, sizes, "server read"); n != tt.want {
				t.Fatalf("server read %d bytes for %v, want one %d-byte ADU", n, tt.req.Function(), tt.want)
			}
		}
	}
}
