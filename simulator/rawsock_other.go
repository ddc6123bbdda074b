//go:build !linux

package simulator

import (
	"io"
	"net"
)

// rawSocket: raw reads and writes are used on Linux only
// (rawsock_linux.go); elsewhere the connection's own Read and Write serve.
type rawSocket struct {
	io.ReadWriter
	serveFn func(uintptr) bool
}

// newRawSocket returns nil: use tc itself.
func newRawSocket(*net.TCPConn) *rawSocket { return nil }

// serveIn is never called: c.rs is nil.
func (c *conn) serveIn() error { return nil }

// inRead is never called.
func (c *conn) inRead(uintptr) bool { return true }
