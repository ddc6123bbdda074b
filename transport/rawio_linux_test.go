//go:build linux

package transport

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tcpPair returns both ends of a loopback TCP connection, closed at the
// end of the test.
func tcpPair(t *testing.T) (client, server *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept() // nil on error: the Dial below fails too
		acc <- c
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sc := recv(t, acc, "the accepted connection")
	if sc == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { nc.Close(); sc.Close() })
	return nc.(*net.TCPConn), sc.(*net.TCPConn)
}

// rawLink is a link over a fresh loopback connection that uses raw I/O.
func rawLink(t *testing.T) (*link, *net.TCPConn) {
	t.Helper()
	nc, sc := tcpPair(t)
	o := Options{}.withDefaults()
	l := newLink(&Conn{opts: o, log: *o.Logger}, nc)
	if l.readFn == nil || l.writeFn == nil {
		t.Fatal("raw I/O is off for a plain TCP connection on Linux")
	}
	return l, sc
}

// anon replaces the addresses of nc in s, so that the errors of two
// connections compare.
func anon(s string, nc net.Conn) string {
	return strings.ReplaceAll(s, nc.LocalAddr().String()+"->"+nc.RemoteAddr().String(), "L->R")
}

// sameError checks that raw, from the raw link l, is what net.Conn gave on
// its own connection nc: the same message and the same errors.Is answers.
func sameError(t *testing.T, what string, l *link, raw error, nc net.Conn, want error) {
	t.Helper()
	if want == nil || raw == nil {
		if raw != want {
			t.Errorf("%s: raw %v, net.Conn %v", what, raw, want)
		}
		return
	}
	if a, b := anon(raw.Error(), l.nc), anon(want.Error(), nc); a != b {
		t.Errorf("%s: raw error %q, net.Conn's %q", what, a, b)
	}
	for _, target := range []error{io.EOF, os.ErrDeadlineExceeded, net.ErrClosed, syscall.ECONNRESET, syscall.EPIPE} {
		if errors.Is(raw, target) != errors.Is(want, target) {
			t.Errorf("%s: errors.Is(raw, %v) = %v, net.Conn's %v", what, target, errors.Is(raw, target), !errors.Is(raw, target))
		}
	}
	var a, b net.Error
	if errors.As(raw, &a) != errors.As(want, &b) || (a != nil && a.Timeout() != b.Timeout()) {
		t.Errorf("%s: raw %#v, net.Conn %#v: not the same net.Error", what, raw, want)
	}
}

// TestRawIOErrors: what a raw read or write returns, for each way a socket
// fails, is what net.Conn's Read or Write returns on the same failure, so
// the errors callers see and test (errors.Is, messages) are unchanged.
func TestRawIOErrors(t *testing.T) {
	buf := make([]byte, 300)
	adu := []byte{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1}
	type step func(t *testing.T, sc *net.TCPConn)
	reset := func(t *testing.T, sc *net.TCPConn) {
		sc.SetLinger(0)
		sc.Close() // a read waits for the RST; a write may go out before it comes (see below)
	}
	cases := []struct {
		name  string
		setup step
		read  bool // else write
		dl    time.Time
	}{
		{"read deadline", nil, true, aLongTimeAgo},
		{"read FIN", func(t *testing.T, sc *net.TCPConn) { sc.Close() }, true, time.Time{}},
		{"read reset", reset, true, time.Time{}},
		{"write deadline", nil, false, aLongTimeAgo},
		{"write reset", reset, false, time.Time{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, lsc := rawLink(t)
			nc, sc := tcpPair(t)
			if tc.setup != nil {
				tc.setup(t, lsc)
				tc.setup(t, sc)
			}
			var raw, want error
			if tc.read {
				l.nc.SetReadDeadline(tc.dl)
				nc.SetReadDeadline(tc.dl)
				raw = l.fill()
				_, want = nc.Read(buf)
			} else {
				l.nc.SetWriteDeadline(tc.dl)
				nc.SetWriteDeadline(tc.dl)
				var n, m int
				for range 3 { // after a reset the first write may still succeed
					if n, raw = l.connWrite(adu); raw != nil {
						break
					}
				}
				for range 3 {
					if m, want = nc.Write(adu); want != nil {
						break
					}
				}
				if n != m {
					t.Errorf("raw write %d bytes, net.Conn's %d", n, m)
				}
			}
			sameError(t, tc.name, l, raw, nc, want)
			if !tc.read && errors.Is(want, syscall.EPIPE) != errors.Is(raw, syscall.EPIPE) {
				t.Errorf("EPIPE: raw %v, net.Conn %v", raw, want)
			}
		})
	}
	t.Run("closed", func(t *testing.T) {
		l, _ := rawLink(t)
		nc, _ := tcpPair(t)
		l.nc.Close()
		nc.Close()
		_, want := nc.Read(buf)
		sameError(t, "read", l, l.fill(), nc, want)
		_, raw := l.connWrite(adu)
		_, want = nc.Write(adu)
		sameError(t, "write", l, raw, nc, want)
	})
}

// TestRawWritePartial: a raw write that fills the send buffer waits on the
// poller (it does not spin, and does not block the thread), returns at its
// deadline with the bytes that went out, and every byte it reports went
// out arrives.
func TestRawWritePartial(t *testing.T) {
	l, sc := rawLink(t)
	big := make([]byte, 64<<20) // far more than loopback's buffers hold
	for i := range big {
		big[i] = byte(i)
	}
	l.nc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	n, err := l.connWrite(big)
	if !isDeadline(err) || n == 0 || n == len(big) {
		t.Fatalf("write = %d of %d bytes, %v; want some, then the deadline", n, len(big), err)
	}
	if !strings.HasPrefix(anon(err.Error(), l.nc), "write tcp L->R: i/o timeout") {
		t.Errorf("error %q, want net.Conn's timeout", err)
	}
	l.nc.Close()
	got, err := io.ReadAll(sc)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("peer got %d bytes, the write reported %d", len(got), n)
	}
	for i, b := range got {
		if b != byte(i) {
			t.Fatalf("peer's byte %d = %d, want %d", i, b, byte(i))
		}
	}
}

// TestRawReadWaits: a raw read gets the bytes that come, and a read of an
// empty socket waits on the poller until a cancelled wait (the deadline moved to the
// past, as a kick does) ends it at once.
func TestRawReadWaits(t *testing.T) {
	l, sc := rawLink(t)
	go sc.Write([]byte{1, 2, 3})
	l.nc.SetReadDeadline(time.Now().Add(waitTimeout))
	if err := l.fill(); err != nil || l.rs.w != 3 {
		t.Fatalf("fill = %v with %d bytes, want 3 bytes", err, l.rs.w)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stop := context.AfterFunc(ctx, func() { l.nc.SetReadDeadline(aLongTimeAgo) })
	defer stop()
	time.AfterFunc(20*time.Millisecond, cancel)
	if err := l.fill(); !isDeadline(err) {
		t.Fatalf("fill after the kick = %v, want the deadline", err)
	}
}
