//go:build linux

package transport

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On Linux the socket calls of a plain TCP link's request path are made with
// syscall.RawSyscall, not syscall.Syscall: no entersyscall/exitsyscall. Those
// tell the scheduler that a goroutine may block in the kernel, and when every
// P was idle (sysmon is then in its deep sleep, sched.sysmonwait), the next
// entersyscall wakes sysmon with a futex: on one CPU two more context
// switches per idle spell, i.e. per request of a sequential client. A raw
// system call is only correct if it cannot block: the P it runs on is not
// handed off meanwhile. It does not block because the socket is
// non-blocking (net makes every socket it polls O_NONBLOCK, and newLink
// checks it with nonBlocking before a link uses rawIO); a call that would
// block returns EAGAIN and the caller waits on the poller, through
// syscall.RawConn.Read or Write, which honour the socket's deadlines.

// rawWriteOK: writeInPoll and peek are used.
const rawWriteOK = true

// rawIOOK: the answer reads and the plain writes of a plain TCP link use
// raw system calls too (rawio.go).
const rawIOOK = true

// rawWrite writes b to the non-blocking socket fd with one write system
// call (retried on EINTR): n > 0 and a nil error, or 0 and the error
// (syscall.EAGAIN when the send buffer is full).
func rawWrite(fd uintptr, b []byte) (int, error) {
	raceReleaseMerge()
	for {
		r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
		switch e {
		case syscall.EINTR:
			continue
		case 0:
			raceReadRange(b[:r])
			return int(r), nil
		}
		return 0, e // an Errno below 256 in an interface: no allocation
	}
}

// rawRead reads from the non-blocking socket fd into b with one read system
// call (retried on EINTR), without waiting: n > 0 and a nil error; 0 and a
// nil error is EOF; syscall.EAGAIN when nothing came. The kernel writes b[:n]
// behind the race detector's back; raceWriteRange tells it, as
// syscall.Read does.
func rawRead(fd uintptr, b []byte) (int, error) {
	for {
		r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
		switch e {
		case syscall.EINTR:
			continue
		case 0:
			raceWriteRange(b[:r])
			raceAcquire()
			return int(r), nil
		}
		return 0, e
	}
}

// nonBlocking reports whether the socket behind rc is O_NONBLOCK, which the
// raw system calls need (see above).
func nonBlocking(rc syscall.RawConn) bool {
	nb := false
	err := rc.Control(func(fd uintptr) {
		fl, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
		nb = err == nil && fl&unix.O_NONBLOCK != 0
	})
	return err == nil && nb
}

// wouldBlock reports whether a raw read or write found the socket not ready.
func wouldBlock(err error) bool { return err == syscall.EAGAIN || err == syscall.EWOULDBLOCK }
