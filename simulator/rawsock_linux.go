//go:build linux

package simulator

import (
	"io"
	"net"
	"os"
	"syscall"
	"time"
	"unsafe"

	"github.com/plcctl/plcctl/modbus"
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

	serveFn func(fd uintptr) bool // conn.inRead, bound once
	rerr    error                 // how the raw read of serveIn ended, for serve
	werr    error                 // a write error found there, for the next Write
}

// newRawSocket returns tc's raw reader and writer, or nil (use tc itself).
func newRawSocket(tc *net.TCPConn) *rawSocket {
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
	n, e := rawRead(fd, s.p)
	switch e {
	case 0:
		s.n = n
	case syscall.EAGAIN:
		return false
	default:
		s.errno = e
	}
	return true
}

// write is the RawConn.Write callback: write(2) until all of s.p is out;
// false (wait for writability) when the send buffer is full.
func (s *rawSocket) write(fd uintptr) bool {
	n, e := rawWriteAll(fd, s.p[s.n:])
	s.n += n
	switch e {
	case 0:
		return true
	case syscall.EAGAIN:
		return false
	}
	s.errno = e
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
	if err := s.werr; err != nil {
		s.werr = nil
		return 0, err
	}
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

// serveIn serves plain requests from inside the socket's raw read
// (syscall.RawConn.Read), answering each batch there too, until it meets
// what only serve's loop may do: a request is read, handled and answered
// without leaving the raw read, and the next read is the one that finds
// the socket empty and waits (one read that comes back EAGAIN per wait,
// as in a net.Conn-style loop, but no raw read to set up per request).
//
// After a read that came back short it still reads again before waiting:
// a short read says every byte that had arrived was taken, but not
// whether the peer's FIN came with them (only a read reports it, as 0),
// and the wake-up that brought both is spent, so a wait would never see
// the FIN (TestFINWithRequest).
//
// The socket cannot be closed, nor waited on for writing, from inside its
// raw read (a close waits for the read to end), so serveIn handles only
// requests that need neither (plainNext), writes answers only as far as
// the socket takes them at once, and leaves everything else to serve: the
// rest of a write, a frame cut short, a framing fault, a stopping
// connection, fault rules, user functions, a malformed PDU's drop (later).
// It returns nil when serve is to go on with what it left in br (or in
// wbuf), else the read error that ends the connection, as ReadADU would
// return it: io.EOF, a reset, the idle deadline.
func (c *conn) serveIn() error {
	rs := c.rs
	if !c.armIdle(time.Now()) {
		return errStopping
	}
	c.inRaw = true
	for {
		err := rs.rc.Read(rs.serveFn)
		if err == nil {
			err, rs.rerr = rs.rerr, nil
		} else if c.idleKept(err) {
			if c.setReadDeadline(c.idleDue) {
				continue
			}
			err = errStopping
		}
		c.inRaw = false
		return err
	}
}

// inRead is serveIn's RawConn.Read callback; br is empty when it is called.
// It returns false to wait for readability, true to leave the raw read.
func (c *conn) inRead(fd uintptr) bool {
	rs, br := c.rs, c.br
	for {
		br.r, br.w = 0, 0
		n, e := rawRead(fd, br.buf)
		switch {
		case e == syscall.EAGAIN:
			return false // the idle deadline is armed
		case e != 0:
			rs.rerr = rs.opError("read", e)
			return true
		case n == 0:
			rs.rerr = io.EOF
			return true
		}
		br.w = n
		c.now = time.Now() // the batch's time: its requests', answers' and the next idle wait's start
		if !c.serveBuffered(fd) {
			return true
		}
		if !c.armIdle(c.now) {
			rs.rerr = errStopping
			return true
		}
		// Read again, the buffer filled or not: only a read finds a FIN
		// that came with the requests just answered (serveIn).
	}
}

// serveBuffered handles the complete frames in br and writes their
// answers; false when serve must take over (see serveIn).
func (c *conn) serveBuffered(fd uintptr) bool {
	br := c.br
	for br.complete() {
		if !c.plainNext() {
			return false
		}
		if len(c.wbuf) > wbufLen-modbus.MaxADULen && !c.flushIn(fd) {
			return false // room for the longest answer first
		}
		// Decoded where it lies: br is not read again before it is
		// handled.
		b := br.buf[br.r:br.w]
		h, err := modbus.DecodeHeader(b)
		if err != nil {
			return false // a framing fault: serve reads it again and says so
		}
		adu := b[:modbus.MBAPHeaderLen-1+int(h.Length)] // complete: all there
		br.r += len(adu)
		c.more = true // answers wait in wbuf for flushIn
		if !c.handle(h, adu) {
			return false
		}
	}
	return c.flushIn(fd) && br.r == br.w // a frame begun: serve reads the rest
}

// plainNext says the next frame in br can be handled inside the raw read:
// the connection is not stopping, no fault rule is set (transact does not
// look for one there), no coalesced answer is held back, and the function
// is not a user function (which may take its time).
func (c *conn) plainNext() bool {
	s := c.s
	if c.stopping() || s.fx.n.Load() != 0 || len(c.held) > 0 {
		return false
	}
	if len(s.cfg.UserFunctions) > 0 {
		b := c.br.buf[c.br.r:c.br.w]
		if len(b) <= modbus.MBAPHeaderLen || s.cfg.UserFunctions[modbus.FunctionCode(b[modbus.MBAPHeaderLen])] != nil {
			return false
		}
	}
	return true
}

// flushIn writes the answers held in wbuf from inside the raw read, as far
// as the socket takes them without waiting; false leaves the rest (and a
// write error, for rawSocket.Write) to serve's flush, which waits within
// WriteTimeout and ends the connection on an error.
func (c *conn) flushIn(fd uintptr) bool {
	b := c.wbuf
	if len(b) == 0 {
		return true
	}
	c.busy.Store(false)
	c.lastActive.Store(c.now.UnixNano()) // before the write, as in write
	n, e := rawWriteAll(fd, b)
	if n > 0 {
		c.traceTx(b[:n]) // what went out; write logs the rest
	}
	if n == len(b) {
		c.wbuf = b[:0]
		c.answered(c.wn)
		c.wn = 0
		return true
	}
	c.wbuf = b[:copy(b, b[n:])]
	if e != syscall.EAGAIN {
		c.rs.werr = c.rs.opError("write", e)
	}
	return false
}

// rawRead is one read(2), retried on EINTR.
func rawRead(fd uintptr, p []byte) (int, syscall.Errno) {
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		if e != syscall.EINTR {
			return int(n), e
		}
	}
}

// rawWriteAll write(2)s p until all of it is out, the socket would block
// (EAGAIN) or fails; it returns how much went out and the error.
func rawWriteAll(fd uintptr, p []byte) (int, syscall.Errno) {
	n := 0
	for n < len(p) {
		m, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[n])), uintptr(len(p)-n))
		switch e {
		case 0:
			if m == 0 {
				return n, syscall.EAGAIN
			}
			n += int(m)
		case syscall.EINTR:
		default:
			return n, e
		}
	}
	return n, 0
}
