package simulator_test

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// The server keeps a read or write deadline armed for an earlier request
// while at least half of its timeout is left, instead of moving it for every
// request. These tests put a request in the window where a kept deadline
// expires before the real one: the connection must live out its whole
// timeout, counted from its own request or answer.

// TestIdleTimeoutFromLastRequest: a request at t0 arms the idle deadline
// t0+4s; a second one at t0+1s keeps it (more than half is left). The
// connection is idle from t0+1s, so it must still be open at t0+4.5s, and
// closed (a FIN, counted as idle) after that. (0.5 s of margin either side
// of t0+4.5s, 1 s for the second request to keep the deadline.)
func TestIdleTimeoutFromLastRequest(t *testing.T) {
	const idle = 4 * time.Second
	s := simtest.Start(t, simulator.Config{IdleTimeout: idle, Logger: nopLogger()})
	c := dialRaw(t, s.Addr)
	t0 := time.Now()
	c.roundTrip(readReq(1))
	time.Sleep(time.Until(t0.Add(time.Second)))
	c.roundTrip(readReq(2))
	c.nc.SetReadDeadline(t0.Add(idle + 500*time.Millisecond))
	var ne net.Error
	if _, err := c.nc.Read(make([]byte, 1)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read before the connection was idle %v: %v, want our own read timeout (still open)", idle, err)
	}
	if n := s.Stats().IdleClosed; n != 0 {
		t.Fatalf("%d connections closed as idle before %v without a request", n, idle)
	}
	if err := c.readUntilError(5 * time.Second); !errors.Is(err, io.EOF) { // due at t0+5s
		t.Fatalf("idle connection: %v, want EOF", err)
	}
	waitFor(t, 2*time.Second, "idle close counted", func() bool { return s.Stats().IdleClosed == 1 })
}

// TestWriteTimeoutFromItsWrite: an answer at t0 arms the write deadline
// t0+4s; at t0+1s the client sends 8000 pipelined requests without
// reading, so an answer's write blocks from about t0+1s, under the kept
// deadline. The client starts reading at t0+4.5s, within that write's
// WriteTimeout: every answer must arrive, with no reset.
func TestWriteTimeoutFromItsWrite(t *testing.T) {
	const wt = 4 * time.Second
	s := simtest.Start(t, simulator.Config{WriteTimeout: wt, Logger: nopLogger()})
	c := dialRaw(t, s.Addr)
	c.nc.SetReadBuffer(128 << 10) // 8000 answers of 257 bytes (2 MB) do not fit: the server's writes block
	t0 := time.Now()
	c.roundTrip(readReq(1))
	const n = 8000
	var batch []byte
	for i := 0; i < n; i++ {
		batch = append(batch, adu(uint16(i), 1, modbus.NewReadHoldingRegisters(0, 125))...)
	}
	time.Sleep(time.Until(t0.Add(time.Second)))
	c.write(batch)
	time.Sleep(time.Until(t0.Add(wt + 500*time.Millisecond)))
	if r := s.Stats().ResetsBy[simulator.ResetWriteTimeout]; r != 0 {
		t.Fatalf("%d write-timeout resets before a write was blocked for %v", r, wt)
	}
	buf := make([]byte, modbus.MaxADULen)
	for i := 0; i < n; i++ {
		c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		h, _, err := modbus.ReadADU(c.nc, buf)
		if err != nil {
			t.Fatalf("answer %d of %d: %v (stats %+v)", i+1, n, err, s.Stats())
		}
		if h.TID != uint16(i) {
			t.Fatalf("answer %d has tid %d", i+1, h.TID)
		}
	}
	c.roundTrip(readReq(2))
	if st := s.Stats(); st.Resets != 0 {
		t.Fatalf("stats %+v: want no reset", st)
	}
}
