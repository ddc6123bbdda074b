//go:build linux

package transport

import (
	"math"
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// setUserTimeout sets TCP_USER_TIMEOUT on tc (tcp(7)): the kernel closes the
// connection with ETIMEDOUT when written data stays unacknowledged for d,
// which wakes our reader and takes the link down.
func setUserTimeout(tc *net.TCPConn, d time.Duration) error {
	ms := min(d.Milliseconds(), math.MaxInt32)
	rc, err := tc.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(ms))
	}); err != nil {
		return err
	}
	return serr
}
