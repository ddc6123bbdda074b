//go:build linux

package transport

import (
	"io"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/plcctl/plcctl/modbus"
)

// waitTCPState waits until the kernel's state of c's current link is want
// (unix.BPF_TCP_CLOSE_WAIT: the peer's FIN has arrived), without reading the
// socket.
func waitTCPState(t *testing.T, c *Conn, want uint8) {
	t.Helper()
	l := currentLink(t, c)
	rc, err := l.nc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	timeout := time.After(waitTimeout)
	for {
		var info *unix.TCPInfo
		var gerr error
		if err := rc.Control(func(fd uintptr) { info, gerr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO) }); err != nil {
			t.Fatal(err)
		}
		if gerr != nil {
			t.Fatal(gerr)
		}
		if info.State == want {
			return
		}
		select {
		case <-tick.C:
		case <-timeout:
			t.Fatalf("TCP state %d, want %d", info.State, want)
		}
	}
}

// TestFINBetweenRequests: the server closes (FIN) while the link idles, and
// the next request comes before the link's watcher would read it (a poller
// at a short interval). The request must not be written into the half-closed
// connection: it goes to a new connection at once and succeeds, and the old
// connection receives nothing after its FIN. The same for a reset.
func TestFINBetweenRequests(t *testing.T) {
	for _, rst := range []bool{false, true} {
		name := map[bool]string{false: "FIN", true: "RST"}[rst]
		t.Run(name, func(t *testing.T) {
			after := make(chan int, 1) // bytes the first connection got after closing
			f := startFake(t, func(c *fakeConn) {
				if c.n > 0 {
					servePLC(c)
					return
				}
				h, req, err := c.readRequest()
				if err != nil {
					return
				}
				c.answer(h, plcAnswer(req))
				if rst {
					c.reset()
					after <- 0
					return
				}
				c.CloseWrite()
				c.SetReadDeadline(time.Now().Add(waitTimeout))
				n, _ := io.Copy(io.Discard, c)
				after <- int(n)
			})
			o := testOptions(t)
			o.idleWatch = time.Hour // the watcher never reads: requests come too often
			c := dial(t, f.addr, o)
			if _, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(0, 1)); err != nil {
				t.Fatal(err)
			}
			state := uint8(unix.BPF_TCP_CLOSE_WAIT)
			if rst {
				state = unix.BPF_TCP_CLOSE
			}
			waitTCPState(t, c, state)
			rsp, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(10, 2))
			if err != nil {
				t.Fatalf("request after the close = %v", err)
			}
			checkRegs(t, rsp, 10, 2)
			if n := recv(t, after, "the first connection's end"); n != 0 {
				t.Errorf("%d bytes written into the connection after the server's FIN", n)
			}
			if s := c.Stats(); s.LinkDowns != 1 || s.Reconnects != 1 || s.Retries != 0 {
				t.Errorf("Stats = %+v, want 1 link down, 1 reconnect, no retry", s)
			}
		})
	}
}
