//go:build !linux

package simulator

import (
	"io"
	"net"
)

// newRawSocket: raw reads and writes are used on Linux only
// (rawsock_linux.go); elsewhere the connection's own Read and Write serve.
func newRawSocket(*net.TCPConn) io.ReadWriter { return nil }
