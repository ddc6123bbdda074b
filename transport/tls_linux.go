//go:build linux

package transport

import (
	"net"

	"golang.org/x/sys/unix"
)

// peerEnded reports, without reading or waiting, whether the peer's FIN or
// reset has arrived on tc (poll(2) with POLLRDHUP), whatever bytes may
// still be unread before it.
func peerEnded(tc *net.TCPConn) bool {
	rc, err := tc.SyscallConn()
	if err != nil {
		return false
	}
	var ended bool
	rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
		for {
			n, err := unix.Poll(fds, 0)
			if err == unix.EINTR {
				continue
			}
			ended = err == nil && n > 0 && fds[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR) != 0
			return
		}
	})
	return ended
}
