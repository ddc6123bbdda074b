//go:build linux

package transport

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// sockopts reads SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_NODELAY
// back from the Conn's current link.
func sockopts(t *testing.T, c *Conn) (keepalive bool, idle, intvl time.Duration, nodelay bool) {
	t.Helper()
	return linkSockopt(t, c, unix.SOL_SOCKET, unix.SO_KEEPALIVE) != 0,
		time.Duration(linkSockopt(t, c, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE)) * time.Second,
		time.Duration(linkSockopt(t, c, unix.IPPROTO_TCP, unix.TCP_KEEPINTVL)) * time.Second,
		linkSockopt(t, c, unix.IPPROTO_TCP, unix.TCP_NODELAY) != 0
}

// TestKeepAliveAndNoDelay: every link has TCP keepalive with the configured
// period (so a PLC behind a pulled cable is noticed on an idle link) and
// TCP_NODELAY (one ADU per segment, no Nagle delay [IG §4.3.2]); KeepAlive
// < 0 turns keepalive off.
func TestKeepAliveAndNoDelay(t *testing.T) {
	for _, tt := range []struct {
		name      string
		keepAlive time.Duration
		wantOn    bool
		wantIdle  time.Duration
	}{
		{"default", 0, true, 15 * time.Second},
		{"explicit", 7 * time.Second, true, 7 * time.Second},
		{"off", -1, false, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t, servePLC)
			o := testOptions(t)
			o.KeepAlive = tt.keepAlive
			st := states(&o)
			c := dial(t, f.addr, o)
			for _, when := range []string{"first link", "after a reconnect"} {
				on, idle, intvl, nodelay := sockopts(t, c)
				if on != tt.wantOn || (on && (idle != tt.wantIdle || intvl != tt.wantIdle)) {
					t.Errorf("%s: keepalive %v idle %v interval %v, want %v %v", when, on, idle, intvl, tt.wantOn, tt.wantIdle)
				}
				if !nodelay {
					t.Errorf("%s: TCP_NODELAY off", when)
				}
				if when == "first link" {
					f.restart()
					waitState(t, st, StateReconnecting)
					waitState(t, st, StateConnected)
				}
			}
		})
	}
}
