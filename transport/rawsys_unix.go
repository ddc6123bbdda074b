//go:build unix && !linux

package transport

import "syscall"

// rawWriteOK: writeInPoll and peek are used.
const rawWriteOK = true

// rawIOOK: the answer reads and the plain writes go through net.Conn here
// (see rawio.go for Linux).
const rawIOOK = false

// rawWrite writes b to the socket fd with one write system call (retried on
// EINTR). It is called from inside syscall.RawConn.Read (writeInPoll).
func rawWrite(fd uintptr, b []byte) (int, error) {
	for {
		n, err := syscall.Write(int(fd), b)
		if err != syscall.EINTR {
			return max(n, 0), err
		}
	}
}

// rawRead reads from the socket fd with one read system call (retried on
// EINTR), without waiting: 0 bytes and a nil error is EOF.
func rawRead(fd uintptr, b []byte) (int, error) {
	for {
		n, err := syscall.Read(int(fd), b)
		if err != syscall.EINTR {
			return max(n, 0), err
		}
	}
}

// nonBlocking is not needed here: rawIOOK is false.
func nonBlocking(syscall.RawConn) bool { return false }

// wouldBlock reports whether a raw read found nothing to read.
func wouldBlock(err error) bool { return err == syscall.EAGAIN || err == syscall.EWOULDBLOCK }
