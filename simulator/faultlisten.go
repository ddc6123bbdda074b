package simulator

import (
	"net"
	"sync"
	"time"
)

// faultListener carries out the server-wide faults on the listener: for
// stop-accepting it hands out no connection until the pause ends (the
// kernel's backlog fills, as with a PLC whose Modbus task hangs), and for a
// reboot it
// closes the listening socket, so connection attempts are refused, and
// listens again on the same address when the reboot is over.
type faultListener struct {
	s    *Server
	addr string

	mu     sync.Mutex
	ln     net.Listener
	down   bool // closed for a reboot
	closed bool // closed for good
}

func (s *Server) wrapListener(ln net.Listener) net.Listener {
	l := &faultListener{s: s, ln: ln, addr: ln.Addr().String()}
	s.fx.mu.Lock()
	s.fx.listener = l
	s.fx.mu.Unlock()
	return l
}

func (l *faultListener) Accept() (net.Conn, error) {
	for {
		l.mu.Lock()
		ln := l.ln
		l.mu.Unlock()
		nc, err := ln.Accept()
		if err != nil {
			if l.reopen() {
				continue
			}
			return nil, err
		}
		// The loop may have been waiting in Accept when the pause began:
		// hold what it took until the pause ends, then the rest queue.
		if !l.s.waitAcceptPause() {
			nc.Close()
			return nil, net.ErrClosed
		}
		return nc, nil
	}
}

// Close closes the listener for good.
func (l *faultListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	return l.ln.Close()
}

func (l *faultListener) Addr() net.Addr {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ln.Addr()
}

// reboot closes the listening socket until reopen listens again.
func (l *faultListener) reboot() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.down = true
		l.ln.Close()
	}
}

// reopen waits out a reboot and listens again on the same address. It
// reports false when the listener was not closed for a reboot, when the
// server closed meanwhile, or when the address cannot be bound again
// within a second (logged).
func (l *faultListener) reopen() bool {
	l.mu.Lock()
	down := l.down && !l.closed
	l.mu.Unlock()
	if !down {
		return false
	}
	s := l.s
	for {
		s.fx.mu.Lock()
		wait := time.Until(s.fx.downUntil)
		s.fx.mu.Unlock()
		if wait <= 0 {
			break
		}
		if !sleepUnlessDone(s, wait) {
			return false
		}
	}
	var err error
	for try := 0; try < 20; try++ {
		var ln net.Listener
		if ln, err = net.Listen("tcp", l.addr); err == nil {
			l.mu.Lock()
			defer l.mu.Unlock()
			if l.closed {
				ln.Close()
				return false
			}
			l.ln, l.down = ln, false
			s.log.Info().Str("addr", l.addr).Msg("reboot over: listening again")
			return true
		}
		if !sleepUnlessDone(s, 50*time.Millisecond) {
			return false
		}
	}
	s.log.Error().Err(err).Str("addr", l.addr).Msg("reboot: cannot listen again")
	return false
}

// waitAcceptPause waits out a stop-accepting fault; false means the server
// closed meanwhile.
func (s *Server) waitAcceptPause() bool {
	for {
		s.fx.mu.Lock()
		wait := time.Until(s.fx.pausedUntil)
		s.fx.mu.Unlock()
		if wait <= 0 {
			return true
		}
		s.log.Info().Dur("for", wait).Msg("stop-accepting: accept paused")
		if !sleepUnlessDone(s, wait) {
			return false
		}
	}
}

func sleepUnlessDone(s *Server, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.done:
		return false
	}
}
