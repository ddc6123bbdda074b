//go:build linux

package transport

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// linkSockopt reads one integer socket option from the Conn's current link.
func linkSockopt(t *testing.T, c *Conn, level, opt int) int {
	t.Helper()
	c.mu.Lock()
	l := c.link
	c.mu.Unlock()
	if l == nil {
		t.Fatal("no link")
	}
	rc, err := l.nc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	if err := rc.Control(func(fd uintptr) { v, gerr = unix.GetsockoptInt(int(fd), level, opt) }); err != nil {
		t.Fatal(err)
	}
	if gerr != nil {
		t.Fatal(gerr)
	}
	return v
}

// userTimeout reads TCP_USER_TIMEOUT back from the Conn's current link.
func userTimeout(t *testing.T, c *Conn) time.Duration {
	t.Helper()
	return time.Duration(linkSockopt(t, c, unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT)) * time.Millisecond
}

// TestUserTimeout: every link, the first and each re-dialled one, carries
// TCP_USER_TIMEOUT from Options, so a pulled cable with requests in flight
// ends the link in seconds rather than after ~15 minutes of retransmission.
func TestUserTimeout(t *testing.T) {
	for _, tt := range []struct {
		name string
		o    Options
		want time.Duration // 0: not set, the kernel's default
	}{
		{"default", Options{}, 45 * time.Second},
		{"short keepalive", Options{KeepAlive: 2 * time.Second}, MinUserTimeout},
		{"long keepalive", Options{KeepAlive: time.Minute}, 3 * time.Minute},
		{"keepalive off", Options{KeepAlive: -1}, MinUserTimeout},
		{"explicit", Options{UserTimeout: 3 * time.Second}, 3 * time.Second},
		{"off", Options{UserTimeout: -1}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t, servePLC)
			o := tt.o
			o.Backoff, o.Logger = testOptions(t).Backoff, testOptions(t).Logger
			st := states(&o)
			c := dial(t, f.addr, o)
			if got := userTimeout(t, c); got != tt.want {
				t.Errorf("TCP_USER_TIMEOUT = %v, want %v", got, tt.want)
			}
			f.restart()
			waitState(t, st, StateReconnecting)
			waitState(t, st, StateConnected)
			if got := userTimeout(t, c); got != tt.want {
				t.Errorf("TCP_USER_TIMEOUT after a reconnect = %v, want %v", got, tt.want)
			}
		})
	}
}
