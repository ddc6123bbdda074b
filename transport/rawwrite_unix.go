//go:build unix

package transport

import "syscall"

// rawWriteOK: writeInPoll is used.
const rawWriteOK = true

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
