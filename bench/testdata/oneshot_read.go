//go:build linux

// Command oneshot_read is the floor of a one-shot read in Go, for
// bench/run.sh's one-shot table (issue 10): the hello-world plus the
// exchange plcctl read-holding-registers 0 10 makes with plcsim, and nothing
// else. It connects to ADDR (127.0.0.1:PORT), sends FC 3 for 10 registers at
// 0, reads the 29-byte answer, prints the registers as plcctl's text output
// does, half-closes, reads to the peer's FIN and closes: the graceful close
// plcctl makes. With package net (one goroutine, the netpoller) by default;
// with -syscall in blocking system calls on the one thread, no netpoller.
//
//	oneshot_read [-syscall] 127.0.0.1:PORT
//
// It lives under testdata because it is no package of the module: run.sh
// builds it with make build's flags. Every wait is bounded (1 s).
package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
)

var request = []byte{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 10} // tid 1, unit 1, FC 3, addr 0, 10 registers

const answerLen = 9 + 2*10

func main() {
	args := os.Args[1:]
	raw := len(args) == 2 && args[0] == "-syscall"
	if raw {
		args = args[1:]
	}
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: oneshot_read [-syscall] 127.0.0.1:PORT")
		os.Exit(2)
	}
	var answer []byte
	var err error
	if raw {
		answer, err = readSyscall(args[0])
	} else {
		answer, err = readNet(args[0])
	}
	if err == nil && (answer[7] != 3 || answer[8] != 20) {
		err = fmt.Errorf("unexpected answer % x", answer)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "oneshot_read:", err)
		os.Exit(1)
	}
	out := make([]byte, 0, 128)
	for i := 0; i < 10; i++ {
		out = fmt.Appendf(out, "%d  %d\n", i, binary.BigEndian.Uint16(answer[9+2*i:]))
	}
	os.Stdout.Write(out)
}

func readNet(addr string) ([]byte, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return nil, err
	}
	tc := c.(*net.TCPConn)
	defer tc.Close()
	tc.SetDeadline(time.Now().Add(time.Second))
	if _, err := tc.Write(request); err != nil {
		return nil, err
	}
	answer := make([]byte, answerLen)
	if _, err := io.ReadFull(tc, answer); err != nil {
		return nil, err
	}
	if err := tc.CloseWrite(); err != nil {
		return nil, err
	}
	var rest [64]byte
	for {
		if _, err := tc.Read(rest[:]); err == io.EOF {
			return answer, nil
		} else if err != nil {
			return nil, err
		}
	}
}

func readSyscall(addr string) ([]byte, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().Is4() {
		return nil, fmt.Errorf("%q: want 127.0.0.1:PORT", addr)
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	tv := syscall.Timeval{Sec: 1}
	for _, opt := range []int{syscall.SO_RCVTIMEO, syscall.SO_SNDTIMEO} { // bounds connect, read and write
		if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, opt, &tv); err != nil {
			return nil, err
		}
	}
	// A socket with a timeout is not restarted after a signal (signal(7)),
	// and the runtime's preemption signal can come at any time.
	read := func(p []byte) (int, error) {
		for {
			n, err := syscall.Read(fd, p)
			if err != syscall.EINTR {
				return n, err
			}
		}
	}
	if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1); err != nil {
		return nil, err
	}
	if err := syscall.Connect(fd, &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}); err != nil {
		return nil, err
	}
	if _, err := syscall.Write(fd, request); err != nil {
		return nil, err
	}
	answer := make([]byte, answerLen)
	for n := 0; n < len(answer); {
		m, err := read(answer[n:])
		if err != nil {
			return nil, err
		}
		if m == 0 {
			return nil, io.ErrUnexpectedEOF
		}
		n += m
	}
	if err := syscall.Shutdown(fd, syscall.SHUT_WR); err != nil {
		return nil, err
	}
	var rest [64]byte
	for {
		m, err := read(rest[:])
		if err != nil {
			return nil, err
		}
		if m == 0 {
			return answer, nil
		}
	}
}
