package transport

import (
	"io"
	"net"
	"os"
)

// Raw socket I/O for a plain TCP link on Linux (rawIOOK; see rawsys_linux.go
// for why). The answer reads (fill) and the writes that writeInPoll does not
// make (connWrite) go through the socket's syscall.RawConn: its Read and
// Write call our function, which makes one raw, non-blocking system call,
// and park the goroutine on the poller when it returns EAGAIN, honouring the
// socket's deadlines exactly as net.Conn's Read and Write do. Errors are
// made into what net.Conn returns (*net.OpError around an *os.SyscallError,
// bare io.EOF), so that everything above sees the same errors either way.
// A TLS link, or another OS, uses net.Conn (readFn and writeFn nil).
//
// The buffers: rawReadIn fills l.rs.buf, owned by the holder of rlock (in
// fill, and in writeInPoll once the answer is readable);
// rawWriteIn writes l.rw.b, set by the holder of wlock for one connWrite.
// The functions run on the calling goroutine, inside RawConn.Read or Write,
// and nothing keeps a buffer after they return.

// rawWriteState is one raw write in progress.
type rawWriteState struct {
	b   []byte // what to write
	n   int    // bytes written so far
	err error  // the system call's error
}

// useRaw gives a plain TCP link its raw connection, for writeInPoll and
// peek, and on Linux for raw I/O too; the method values are bound once, so
// that a request allocates nothing for them. On Linux every raw system call
// needs the socket to be non-blocking (rawsys_linux.go): net makes it so,
// and a socket that is not keeps net.Conn for everything (no peek either:
// its read would wait).
func (l *link) useRaw(tc *net.TCPConn) {
	rc, err := tc.SyscallConn()
	if err != nil || (rawIOOK && !nonBlocking(rc)) {
		return
	}
	l.rc, l.pollFn, l.peekFn = rc, l.inPoll, l.peekIn
	if rawIOOK {
		l.readFn, l.writeFn = l.rawReadIn, l.rawWriteIn
		l.laddr, l.raddr = tc.LocalAddr(), tc.RemoteAddr()
	}
}

// fill reads what the socket has into the buffer, in one system call
// (waiting for the socket to be readable, within the read deadline). An
// error or EOF that the raw read in writeInPoll found is returned first.
func (l *link) fill() error {
	if l.readFn == nil {
		return l.rs.fill(l.nc)
	}
	err := l.rerr
	if err == nil {
		l.rs.compact()
		if err = l.rc.Read(l.readFn); err == nil {
			err = l.rerr
		}
	}
	l.rerr = nil
	switch err {
	case nil, io.EOF:
		return err
	}
	return l.sockError("read", err)
}

// rawReadIn is the function fill gives the raw read, also called by inPoll:
// false (wait) while the socket has nothing. What it read is in the buffer;
// an error or EOF in l.rerr, for fill.
func (l *link) rawReadIn(fd uintptr) bool {
	rs := &l.rs
	n, err := rawRead(fd, rs.buf[rs.w:])
	switch {
	case n > 0:
		rs.w += n
	case err == nil:
		l.rerr = io.EOF
	case wouldBlock(err):
		return false
	default:
		l.rerr = os.NewSyscallError("read", err)
	}
	return true
}

// connWrite writes all of b, as net.Conn.Write does: it returns fewer bytes
// only with an error (a deadline, the socket closed, a reset...).
func (l *link) connWrite(b []byte) (int, error) {
	l.writes++
	if l.writeFn == nil {
		return l.nc.Write(b)
	}
	l.rw = rawWriteState{b: b}
	err := l.rc.Write(l.writeFn)
	n := l.rw.n
	if err == nil {
		err = l.rw.err
	}
	l.rw = rawWriteState{}
	if err != nil {
		return n, l.sockError("write", err)
	}
	return n, nil
}

// rawWriteIn is the function connWrite gives the raw write: it writes
// until all of l.rw.b is out or an error, false (wait) when the send buffer
// is full.
func (l *link) rawWriteIn(fd uintptr) bool {
	w := &l.rw
	for w.n < len(w.b) {
		n, err := rawWrite(fd, w.b[w.n:])
		switch {
		case n > 0:
			w.n += n
		case wouldBlock(err):
			return false
		case err == nil: // as internal/poll's Write
			w.err = io.ErrUnexpectedEOF
			return true
		default:
			w.err = os.NewSyscallError("write", err)
			return true
		}
	}
	return true
}

// sockError is err from a raw read or write as net.Conn's Read or Write
// would return it: RawConn reports the poller's errors (the deadline, the
// socket closed) as a *net.OpError with Op "raw-read" or "raw-write".
func (l *link) sockError(op string, err error) error {
	if oe, ok := err.(*net.OpError); ok {
		err = oe.Err
	}
	return &net.OpError{Op: op, Net: "tcp", Source: l.laddr, Addr: l.raddr, Err: err}
}
