//go:build !unix

package simulator

import "net"

// discardBuffered is a no-op where the socket cannot be read without
// blocking; closing with unread data may then send a reset.
func discardBuffered(*net.TCPConn) {}

// hasInput cannot peek here: it reports false.
func hasInput(*net.TCPConn) bool { return false }
