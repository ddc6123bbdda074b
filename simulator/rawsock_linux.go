//go:build linux

package simulator

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// rawSocket reads requests from and writes answers to a plain TCP
// connection with syscall.RawSyscall inside the callbacks of its
// syscall.RawConn. The waits are RawConn's: the goroutine parks on Go's
// netpoller and the connection's read and write deadlines apply exactly as
// for net.Conn (SetReadDeadline, SetWriteDeadline and Close from another
// goroutine end them), so idle, frame and write timeouts, stops and closes
// behave the same. What it saves is net.Conn's syscall.Syscall, whose
// entersyscall wakes the runtime's sysmon thread with a futex whenever it
// went into its deep sleep (every P idle, which a pinned plcsim is between
// requests): two context switches per idle spell, measured at 6 µs per
// request with plcsim on one CPU.
//
// A raw system call is invisible to the scheduler, so it must never block:
// that holds only because Go's net package opens every socket non-blocking
// (O_NONBLOCK), so read and write return EAGAIN at once instead of
// waiting, and the callback then returns false to let RawConn park.
//
// read(2) and write(2), not recvfrom and sendto (which skip the VFS layer
// but measured no different within the noise): TestPipelinedAnswersOneWrite
// counts plcsim's writes in /proc/self/io, which sees only the former.
//
// Both callbacks are bound once per connection (readFn, writeFn), so a
// read or write allocates nothing; only an error allocates.
type rawSocket struct {
	tc              *net.TCPConn
	rc              syscall.RawConn
	readFn, writeFn func(fd uintptr) bool
	p               []byte        // the buffer of the read or write under way
	n               int           // bytes read, or written so far
	errno           syscall.Errno // the system call's error, 0 if none
}

// newRawSocket returns tc's raw reader and writer, or nil (use tc itself).
func newRawSocket(tc *net.TCPConn) io.ReadWriter {
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	s := &rawSocket{tc: tc, rc: rc}
	s.readFn, s.writeFn = s.read, s.write
	return s
}

// read is the RawConn.Read callback: one read(2) into s.p; false (wait for
// readability) on EAGAIN.
func (s *rawSocket) read(fd uintptr) bool {
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&s.p[0])), uintptr(len(s.p)))
		switch e {
		case 0:
			s.n = int(n)
			return true
		case syscall.EAGAIN:
			return false
		case syscall.EINTR:
			continue
		}
		s.errno = e
		return true
	}
}

// write is the RawConn.Write callback: write(2) until all of s.p is out;
// false (wait for writability) when the send buffer is full.
func (s *rawSocket) write(fd uintptr) bool {
	for s.n < len(s.p) {
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&s.p[s.n])), uintptr(len(s.p)-s.n))
		switch e {
		case 0:
			s.n += int(n)
		case syscall.EAGAIN:
			return false
		case syscall.EINTR:
		default:
			s.errno = e
			return true
		}
	}
	return true
}

// Read is net.Conn's Read: at least one byte, io.EOF after the peer's FIN,
// the deadline's os.ErrDeadlineExceeded, or the system call's error.
func (s *rawSocket) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.p, s.n, s.errno = p, 0, 0
	err := s.rc.Read(s.readFn)
	n := s.n
	s.p = nil
	switch {
	case err != nil:
		return 0, err
	case s.errno != 0:
		return 0, s.opError("read", s.errno)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// Write is net.Conn's Write: all of p, or how much went out before the
// deadline or the error.
func (s *rawSocket) Write(p []byte) (int, error) {
	s.p, s.n, s.errno = p, 0, 0
	err := s.rc.Write(s.writeFn)
	n := s.n
	s.p = nil
	if err == nil && s.errno != 0 {
		err = s.opError("write", s.errno)
	}
	return n, err
}

// opError wraps e as net.Conn would, so errors.Is finds the errno and log
// lines read the same.
func (s *rawSocket) opError(op string, e syscall.Errno) error {
	return &net.OpError{Op: op, Net: "tcp", Source: s.tc.LocalAddr(), Addr: s.tc.RemoteAddr(), Err: os.NewSyscallError(op, e)}
}
