package testutil

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"testing"
)

// HeldAddr returns a loopback address whose port the test keeps until it
// ends, so that a server (in-process or a child process) can listen on
// it, stop, and listen on it again (a replay on a recorded address, a
// plant file naming its devices' addresses) without another process
// taking the port in between. A port bound on 0 and closed again is free
// for anyone until the server binds it.
//
// The port is held by a socket bound to it with SO_REUSEADDR that never
// listens: Linux lets a listener that also sets SO_REUSEADDR (every Go
// listener) bind the port while that socket holds it, but never gives the
// port to a socket bound to port 0 (inet_csk_find_open_port skips a bound
// port unless net.ipv4.ip_autobind_reuse is set and every port is taken)
// nor to an outgoing connection (__inet_hash_connect skips ports bound by
// bind). Only an explicit bind of this very port could.
func HeldAddr(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
}

// CheckHeld fails the test unless addr's port is still reserved while
// nothing listens on it: a socket without SO_REUSEADDR cannot bind it (one
// bound to port 0 is refused it the same way). A port that was merely
// closed, as a port-0 listener's is, binds here: another process could
// have taken it.
func CheckHeld(t testing.TB, addr string) {
	t.Helper()
	if err := held(addr); err != nil {
		t.Fatal(err)
	}
}

// held is CheckHeld's test: nil when addr's port is reserved.
func held(addr string) error {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return err
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	err = syscall.Bind(fd, &syscall.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())})
	if !errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("bind %s (no SO_REUSEADDR) while nothing listens there: %v, want EADDRINUSE: the port is not held, another process could take it", addr, err)
	}
	return nil
}
