//go:build linux

package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// The epoll engine drives every connection from one goroutine locked to its
// thread: one epoll_wait per wakeup hands it every connection whose answer
// has come, and each is read (recvfrom), checked and sent its next request
// (sendto) with syscall.RawSyscall6; recvfrom and sendto skip the VFS layer
// that read and write go through. Raw system calls are safe only because every socket
// is non-blocking (SOCK_NONBLOCK): a read or write never waits in the
// kernel, so skipping the runtime's entersyscall costs nothing but the
// bookkeeping it would have done. Only epoll_wait blocks, and it goes
// through syscall.EpollWait (a normal system call) with a bounded timeout.
// The sockets are not Go net.Conns, so the runtime's netpoller never sees
// their events. What it costs per request is what a load generator cannot
// avoid: one send and one receive system call, the kernel's TCP work, and
// epoll_wait shared by the answers that came together.

const defaultEngine = "epoll"

// econn is one connection of the epoll engine: one request outstanding.
type econn struct {
	fd   int
	tid  uint16
	sent time.Time // when the outstanding request was written
	have int       // bytes of the answer read so far
	buf  [260]byte
	done bool
}

func runEpoll(addr string, conns int, dur time.Duration, regs int, maxReq int64) (result, error) {
	ap, err := netipAddrPort(addr)
	if err != nil {
		return result{}, err
	}
	cs := make([]*econn, 0, conns)
	defer func() {
		for _, c := range cs {
			syscall.Shutdown(c.fd, syscall.SHUT_WR)
			syscall.Close(c.fd)
		}
	}()
	for i := 0; i < conns; i++ {
		fd, err := dialRaw(ap)
		if err != nil {
			return result{}, fmt.Errorf("connection %d of %d: %w", i+1, conns, err)
		}
		cs = append(cs, &econn{fd: fd})
	}
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return result{}, fmt.Errorf("epoll_create1: %w", err)
	}
	defer syscall.Close(ep)
	for i, c := range cs {
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(i)}
		if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
			return result{}, fmt.Errorf("epoll_ctl: %w", err)
		}
	}

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	req := []byte{0, 0, 0, 0, 0, 6, 1, 3, 0, 0, 0, byte(regs)}
	want := 9 + 2*regs
	lat := make([]time.Duration, 0, min(maxReq, 1<<20))
	budget := maxReq
	var errs, wakeups int64
	cpu0 := processCPU()
	t0 := time.Now()
	deadline := t0.Add(dur)
	hardStop := deadline.Add(2 * time.Second) // answers still due then are errors
	active := 0
	for _, c := range cs {
		if budget > 0 {
			budget--
			if err := c.send(req, t0); err != nil {
				fmt.Fprintln(os.Stderr, "loadgen:", err)
				errs++
				c.done = true
				continue
			}
			active++
		} else {
			c.done = true
		}
	}
	evs := make([]syscall.EpollEvent, 256)
	for active > 0 {
		wait := time.Until(hardStop)
		if wait <= 0 {
			errs += int64(active)
			fmt.Fprintf(os.Stderr, "loadgen: %d connections had no answer 2 s after the end\n", active)
			break
		}
		n, err := syscall.EpollWait(ep, evs, int(wait/time.Millisecond)+1)
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			return result{}, fmt.Errorf("epoll_wait: %w", err)
		}
		wakeups++
		for _, ev := range evs[:n] {
			c := cs[ev.Fd]
			if c.done {
				continue
			}
			got, err := c.receive(want)
			if err == nil && !got {
				continue // the rest of the answer has not come yet
			}
			now := time.Now()
			if err == nil {
				if err = c.check(regs, want); err == nil {
					lat = append(lat, now.Sub(c.sent))
				}
			}
			if err == nil && now.Before(deadline) && budget > 0 {
				budget--
				err = c.send(req, now)
				if err == nil {
					continue
				}
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "loadgen:", err)
				errs++
			}
			c.done = true
			active--
			// Out of the set, so that a level-triggered hang-up or error
			// on it cannot spin the loop while the others finish.
			syscall.EpollCtl(ep, syscall.EPOLL_CTL_DEL, c.fd, nil)
		}
	}
	elapsed := time.Since(t0)
	cpu := processCPU() - cpu0
	r := summarize(conns, regs, lat, errs, elapsed)
	if len(lat) == 0 {
		return r, errors.New("no request was answered")
	}
	r.CPUus = float64(cpu.Nanoseconds()) / 1e3 / float64(len(lat))
	r.Wakeups = wakeups
	return r, nil
}

// send writes the next request, whole: 12 bytes always fit in the send
// buffer of a connection with nothing outstanding, so a short write is an
// error rather than something to wait for.
func (c *econn) send(req []byte, now time.Time) error {
	c.tid++
	binary.BigEndian.PutUint16(req, c.tid)
	n, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(c.fd), uintptr(unsafe.Pointer(&req[0])), uintptr(len(req)), 0, 0, 0)
	if e == syscall.EINTR {
		n, _, e = syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(c.fd), uintptr(unsafe.Pointer(&req[0])), uintptr(len(req)), 0, 0, 0)
	}
	switch {
	case e != 0:
		return fmt.Errorf("write request tid %d: %w", c.tid, e)
	case int(n) != len(req):
		return fmt.Errorf("write request tid %d: short write (%d of %d bytes)", c.tid, n, len(req))
	}
	c.sent, c.have = now, 0
	return nil
}

// receive reads what has come of the answer; true once want bytes are in.
// More than want is never read: with one request outstanding, a byte past
// the answer is an error that check or the next read reports.
func (c *econn) receive(want int) (bool, error) {
	n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, uintptr(c.fd), uintptr(unsafe.Pointer(&c.buf[c.have])), uintptr(want-c.have), 0, 0, 0)
	switch {
	case e == syscall.EAGAIN || e == syscall.EINTR:
		return false, nil // epoll (level-triggered) reports it again
	case e != 0:
		return false, fmt.Errorf("read answer to tid %d: %w", c.tid, e)
	case n == 0:
		return false, fmt.Errorf("read answer to tid %d: connection closed after %d bytes", c.tid, c.have)
	}
	c.have += int(n)
	return c.have == want, nil
}

func (c *econn) check(regs, want int) error {
	return checkAnswer(c.buf[:want], c.tid, regs)
}

// dialRaw connects a non-blocking TCP socket to ap with TCP_NODELAY, within
// 5 s (SO_SNDTIMEO bounds a blocking connect on Linux).
func dialRaw(ap net.TCPAddr) (int, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	tv := syscall.Timeval{Sec: 5}
	sa := &syscall.SockaddrInet4{Port: ap.Port}
	copy(sa.Addr[:], ap.IP.To4())
	if err = syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_SNDTIMEO, &tv); err == nil {
		err = syscall.Connect(fd, sa)
	}
	if err == nil {
		err = syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	}
	if err == nil {
		err = syscall.SetNonblock(fd, true)
	}
	if err != nil {
		syscall.Close(fd)
		return -1, fmt.Errorf("connect %v: %w", &ap, err)
	}
	return fd, nil
}

// netipAddrPort resolves addr (checked to be a loopback IPv4 address).
func netipAddrPort(addr string) (net.TCPAddr, error) {
	ta, err := net.ResolveTCPAddr("tcp4", addr)
	if err != nil || ta.IP.To4() == nil {
		return net.TCPAddr{}, fmt.Errorf("-addr %q: the epoll engine needs an IPv4 address (%v)", addr, err)
	}
	return *ta, nil
}
