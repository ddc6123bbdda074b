package transport

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/modbus"
)

// waitTimeout bounds every wait on a channel in these tests.
const waitTimeout = 5 * time.Second

// fake is a scripted Modbus TCP server on 127.0.0.1:0 for the faults a
// well-behaved simulator cannot make. Each accepted connection runs serve in
// its own goroutine; Close (run by t.Cleanup) closes everything and waits.
type fake struct {
	t     testing.TB
	addr  string
	serve func(*fakeConn)

	mu     sync.Mutex
	ln     net.Listener
	conns  []*fakeConn
	nconns int
	wg     sync.WaitGroup
	// accepted receives every accepted connection (buffered, never blocks
	// the server: extra ones are dropped).
	accepted chan *fakeConn
}

type fakeConn struct {
	*net.TCPConn
	n int // 0 for the first accepted connection
}

func startFake(t testing.TB, serve func(*fakeConn)) *fake {
	t.Helper()
	f := &fake{t: t, serve: serve, accepted: make(chan *fakeConn, 64)}
	f.listen("127.0.0.1:0")
	t.Cleanup(f.Close)
	return f
}

func (f *fake) listen(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		f.t.Fatalf("listen %s: %v", addr, err)
	}
	f.mu.Lock()
	f.ln, f.addr = ln, ln.Addr().String()
	f.mu.Unlock()
	f.wg.Add(1)
	go f.acceptLoop(ln)
}

func (f *fake) acceptLoop(ln net.Listener) {
	defer f.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		if f.ln != ln { // stopped after this connection was queued
			f.mu.Unlock()
			nc.Close()
			continue
		}
		c := &fakeConn{TCPConn: nc.(*net.TCPConn), n: f.nconns}
		f.nconns++
		f.conns = append(f.conns, c)
		f.mu.Unlock()
		select {
		case f.accepted <- c:
		default:
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer c.Close()
			f.serve(c)
		}()
	}
}

// stop closes the listener and every connection (with a FIN).
func (f *fake) stop() {
	f.mu.Lock()
	ln, conns := f.ln, f.conns
	f.ln, f.conns = nil, nil
	f.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	for _, c := range conns {
		c.Close()
	}
	f.wg.Wait()
}

// restart stops the server and listens again on the same port.
func (f *fake) restart() {
	f.stop()
	f.listen(f.addr)
}

func (f *fake) Close() { f.stop() }

// readRequest reads one request ADU.
func (c *fakeConn) readRequest() (modbus.Header, modbus.Request, error) {
	h, adu, err := modbus.ReadADU(c, nil)
	if err != nil {
		return h, nil, err
	}
	req, err := modbus.DecodeRequest(adu[modbus.MBAPHeaderLen:])
	return h, req, err
}

// answer writes the response ADU for h in one write.
func (c *fakeConn) answer(h modbus.Header, p modbus.PDU) error {
	adu, err := modbus.AppendADU(nil, h.TID, h.UnitID, p)
	if err != nil {
		return err
	}
	_, err = c.Write(adu)
	return err
}

// reset drops the connection with a TCP reset.
func (c *fakeConn) reset() {
	c.SetLinger(0)
	c.Close()
}

// plcAnswer is how the fakes' PLC answers: holding and input register i
// holds i, coil i is on when i is odd, writes are echoed.
func plcAnswer(req modbus.Request) modbus.PDU {
	switch r := req.(type) {
	case *modbus.ReadRegisters:
		data := make([]byte, 0, 2*int(r.Quantity))
		for i := range int(r.Quantity) {
			data = binary.BigEndian.AppendUint16(data, r.Address+uint16(i))
		}
		return &modbus.RegistersResponse{FC: r.FC, Data: data}
	case *modbus.ReadBits:
		bits := make([]bool, r.Quantity)
		for i := range bits {
			bits[i] = (int(r.Address)+i)%2 == 1
		}
		return &modbus.BitsResponse{FC: r.FC, Data: modbus.PackBits(nil, bits)}
	case *modbus.WriteSingleRegister, *modbus.WriteSingleCoil, *modbus.MaskWriteRegister:
		return r
	case *modbus.WriteMultipleRegisters:
		return &modbus.WriteMultipleResponse{FC: r.Function(), Address: r.Address, Quantity: r.Quantity}
	}
	return modbus.NewException(req.Function(), modbus.IllegalFunction)
}

// servePLC answers every request with plcAnswer until the stream ends.
func servePLC(c *fakeConn) {
	for {
		h, req, err := c.readRequest()
		if err != nil {
			return
		}
		if c.answer(h, plcAnswer(req)) != nil {
			return
		}
	}
}

// readN reads holding registers and checks the fake PLC's values.
func checkRegs(t testing.TB, rsp modbus.PDU, addr uint16, n int) {
	t.Helper()
	rr, ok := rsp.(*modbus.RegistersResponse)
	if !ok {
		t.Fatalf("response %T, want *modbus.RegistersResponse", rsp)
	}
	regs := rr.Registers()
	if len(regs) != n {
		t.Fatalf("got %d registers, want %d", len(regs), n)
	}
	for i, v := range regs {
		if v != addr+uint16(i) {
			t.Fatalf("register %d = %d, want %d (an answer routed to the wrong request?)", int(addr)+i, v, int(addr)+i)
		}
	}
}

func testLogger(t testing.TB, level zerolog.Level) *zerolog.Logger {
	l := zerolog.New(zerolog.NewTestWriter(t)).Level(level).With().Timestamp().Logger()
	return &l
}

// testOptions are quick options for tests: 1 ms backoff, debug logs.
func testOptions(t testing.TB) Options {
	return Options{Timeout: 2 * time.Second, Backoff: func(int) time.Duration { return time.Millisecond },
		Logger: testLogger(t, zerolog.DebugLevel)}
}

// states collects state changes on a channel.
func states(o *Options) chan State {
	ch := make(chan State, 64)
	o.OnStateChange = func(s State) {
		select {
		case ch <- s:
		default:
		}
	}
	return ch
}

// waitState waits for state want on ch.
func waitState(t testing.TB, ch chan State, want State) {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		select {
		case s := <-ch:
			if s == want {
				return
			}
		case <-timer.C:
			t.Fatalf("state %v not reached within %v", want, waitTimeout)
		}
	}
}

// recv waits for a value on ch.
func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// send sends v on ch, failing t if no one takes it within waitTimeout.
func send[T any](t testing.TB, ch chan<- T, what string) {
	t.Helper()
	var v T
	select {
	case ch <- v:
	case <-time.After(waitTimeout):
		t.Fatalf("timed out handing over %s", what)
	}
}

func dial(t testing.TB, addr string, o Options) *Conn {
	t.Helper()
	c, err := Dial(t.Context(), addr, o)
	if err != nil {
		t.Fatalf("Dial(%s) = %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func opError(t testing.TB, err error) *OpError {
	t.Helper()
	var oe *OpError
	if !errors.As(err, &oe) {
		t.Fatalf("error %v (%T) is not an *OpError", err, err)
	}
	return oe
}

// isEOFish reports whether err is the peer closing or resetting.
func isEOFish(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// decode splits one whole request ADU.
func (c *fakeConn) decode(b []byte) (modbus.Header, modbus.Request, error) {
	h, pdu, err := modbus.DecodeADU(b)
	if err != nil {
		return h, nil, err
	}
	req, err := modbus.DecodeRequest(pdu)
	return h, req, err
}
