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

// econn is one connection of the epoll engine, with up to depth requests
// outstanding (1: the load shape of a polling client).
type econn struct {
	fd   int
	next uint16      // transaction id of the next request to send
	due  uint16      // transaction id of the next answer due
	out  int         // requests outstanding
	sent []time.Time // when each outstanding request went out, by tid % depth
	have int         // bytes read and not yet checked
	buf  []byte      // depth answers
	req  []byte      // depth requests, written together
	done bool
}

// epollRun is one run of the epoll engine.
type epollRun struct {
	regs, want, depth int
	deadline          time.Time
	budget            int64
	lat               []time.Duration
}

func runEpoll(addr string, conns int, dur time.Duration, regs int, maxReq int64, depth int) (result, error) {
	ap, err := netipAddrPort(addr)
	if err != nil {
		return result{}, err
	}
	er := &epollRun{regs: regs, want: 9 + 2*regs, depth: depth, budget: maxReq,
		lat: make([]time.Duration, 0, min(maxReq, 1<<20))}
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
		c := &econn{fd: fd, next: 1, due: 1, sent: make([]time.Time, depth), buf: make([]byte, depth*er.want),
			req: make([]byte, 0, 12*depth)}
		cs = append(cs, c)
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
	var errs, wakeups int64
	cpu0 := processCPU()
	t0 := time.Now()
	er.deadline = t0.Add(dur)
	hardStop := er.deadline.Add(2 * time.Second) // answers still due then are errors
	active := 0
	end := func(c *econn, err error) {
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			errs++
		}
		c.done = true
		active--
		// Out of the set, so that a level-triggered hang-up or error on
		// it cannot spin the loop while the others finish.
		syscall.EpollCtl(ep, syscall.EPOLL_CTL_DEL, c.fd, nil)
	}
	for _, c := range cs {
		active++
		if err := er.refill(c, t0); err != nil || c.out == 0 {
			end(c, err)
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
			got, err := c.receive()
			if err == nil && got > 0 {
				err = er.answers(c)
			}
			if err != nil || c.out == 0 {
				end(c, err)
			}
		}
	}
	elapsed := time.Since(t0)
	cpu := processCPU() - cpu0
	r := summarize(conns, regs, er.lat, errs, elapsed)
	if len(er.lat) == 0 {
		return r, errors.New("no request was answered")
	}
	r.CPUus = float64(cpu.Nanoseconds()) / 1e3 / float64(len(er.lat))
	r.Wakeups = wakeups
	return r, nil
}

// answers checks the complete answers read on c, in order, then sends as
// many new requests as were answered (while the run lasts).
func (er *epollRun) answers(c *econn) error {
	if c.have < er.want {
		return nil // the rest of the answer has not come yet
	}
	now := time.Now()
	off := 0
	for ; c.have-off >= er.want; off += er.want {
		if c.out == 0 {
			return fmt.Errorf("%d bytes with no request outstanding: % x", c.have-off, c.buf[off:c.have])
		}
		if err := checkAnswer(c.buf[off:off+er.want], c.due, er.regs); err != nil {
			return err
		}
		er.lat = append(er.lat, now.Sub(c.sent[int(c.due)%er.depth]))
		c.due++
		c.out--
	}
	c.have = copy(c.buf, c.buf[off:c.have])
	return er.refill(c, now)
}

// refill sends requests until depth are outstanding, in one write, unless
// the run is over. They always fit in the send buffer (at most depth x 12
// bytes are outstanding), so a short write is an error, not a wait.
func (er *epollRun) refill(c *econn, now time.Time) error {
	if !now.Before(er.deadline) {
		return nil
	}
	c.req = c.req[:0]
	for c.out+len(c.req)/12 < er.depth && er.budget > 0 {
		er.budget--
		c.sent[int(c.next)%er.depth] = now
		c.req = binary.BigEndian.AppendUint16(c.req, c.next)
		c.req = append(c.req, 0, 0, 0, 6, 1, 3, 0, 0, 0, byte(er.regs))
		c.next++
	}
	if len(c.req) == 0 {
		return nil
	}
	n, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(c.fd), uintptr(unsafe.Pointer(&c.req[0])), uintptr(len(c.req)), 0, 0, 0)
	if e == syscall.EINTR {
		n, _, e = syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(c.fd), uintptr(unsafe.Pointer(&c.req[0])), uintptr(len(c.req)), 0, 0, 0)
	}
	switch {
	case e != 0:
		return fmt.Errorf("write requests from tid %d: %w", c.next-uint16(len(c.req)/12), e)
	case int(n) != len(c.req):
		return fmt.Errorf("write requests from tid %d: short write (%d of %d bytes)", c.next-uint16(len(c.req)/12), n, len(c.req))
	}
	c.out += len(c.req) / 12
	return nil
}

// receive reads what has come of the answers outstanding, never more than
// they can fill: a byte past them shows as the start of a wrong answer.
func (c *econn) receive() (int, error) {
	if c.have == len(c.buf) {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, uintptr(c.fd), uintptr(unsafe.Pointer(&c.buf[c.have])), uintptr(len(c.buf)-c.have), 0, 0, 0)
	switch {
	case e == syscall.EAGAIN || e == syscall.EINTR:
		return 0, nil // epoll (level-triggered) reports it again
	case e != 0:
		return 0, fmt.Errorf("read answer to tid %d: %w", c.due, e)
	case n == 0:
		return 0, fmt.Errorf("read answer to tid %d: connection closed after %d bytes", c.due, c.have)
	}
	c.have += int(n)
	return int(n), nil
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
