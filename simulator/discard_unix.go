//go:build unix

package simulator

import (
	"net"
	"syscall"
)

// discardBuffered reads and throws away, without blocking, what the peer has
// already sent on tc (at most 64 KiB), so that closing tc sends a FIN rather
// than the reset the kernel sends for unread data. It reads the socket
// directly, outside Go's read lock and deadlines, so it is safe while
// another goroutine is blocked reading tc.
func discardBuffered(tc *net.TCPConn) {
	rc, err := tc.SyscallConn()
	if err != nil {
		return
	}
	var buf [4096]byte
	rc.Control(func(fd uintptr) {
		for range 16 {
			if n, err := syscall.Read(int(fd), buf[:]); n <= 0 || err != nil {
				break // EAGAIN: nothing (more) received
			}
		}
	})
}

// hasInput reports whether tc has bytes received and not yet read. It
// peeks without blocking and without the read lock a blocked Read holds.
func hasInput(tc *net.TCPConn) bool {
	rc, err := tc.SyscallConn()
	if err != nil {
		return false
	}
	var b [1]byte
	var n int
	rc.Control(func(fd uintptr) {
		n, _, _ = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	})
	return n > 0
}
