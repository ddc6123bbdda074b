//go:build !linux

package testutil

import (
	"net"
	"testing"
)

// HeldAddr returns a loopback address whose port was free a moment ago
// (bound on port 0 and closed again). Holding a port for a later bind works
// as heldaddr_linux.go says only on Linux (BSD and Windows give
// SO_REUSEADDR other meanings), so elsewhere another process can take the
// port before the test's server binds it.
func HeldAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// CheckHeld does nothing: see HeldAddr.
func CheckHeld(t testing.TB, addr string) {}
