package simulator

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("simulator: server closed")

// Stats are the server's counters since it started.
type Stats struct {
	Conns           int64  // open now
	Accepted        uint64 // connections accepted
	Refused         uint64 // connections closed at once: MaxConns reached
	Requests        uint64 // ADUs with protocol id 0 received
	Responses       uint64 // responses sent, normal or exception
	Exceptions      uint64 // exception responses sent
	FramingFaults   uint64 // bad MBAP length, frame cut short
	MalformedPDUs   uint64 // PDU length inconsistent with its function code
	ForeignProtocol uint64 // protocol id != 0, discarded
	Resets          uint64 // connections we dropped with a TCP reset
	PeerEOF         uint64 // connections the peer closed with a FIN
	PeerResets      uint64 // connections the peer reset
	Faults          uint64 // fault rules applied

	// FaultsByAction is Faults per action; actions never applied are left out.
	FaultsByAction map[FaultAction]uint64
}

type counters struct {
	conns                                                          atomic.Int64
	accepted, refused, requests, responses, exceptions, framing    atomic.Uint64
	malformed, foreign, resets, peerEOF, peerResets, faultsApplied atomic.Uint64
	byFunction                                                     [256]atomic.Uint64
}

// FunctionRequests returns how many requests with function code fc arrived
// (protocol id 0, whatever the answer).
func (s *Server) FunctionRequests(fc uint8) uint64 { return s.stats.byFunction[fc].Load() }

// Server is a strict Modbus TCP server over a simulated data model. It is safe
// for concurrent use; each connection is served by its own goroutine.
type Server struct {
	cfg Config
	log *zerolog.Logger
	obs Observer // nil = none
	m   *Memory  // the default memory
	// units maps each unit id served to its memory; nil: every unit id
	// shares m.
	units map[uint8]*Memory

	fx  faultSet
	sec *security // access control (security.go)

	mu       sync.Mutex
	ln       net.Listener
	conns    map[*conn]struct{}
	closing  bool
	done     chan struct{} // closed on Shutdown/Close
	wg       sync.WaitGroup
	stats    counters
	shutOnce sync.Once
}

// New returns a server for cfg; Serve or ListenAndServe starts it.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, obs: cfg.Observer, conns: make(map[*conn]struct{}), done: make(chan struct{})}
	s.m, s.units = newMemories(cfg)
	s.sec = newSecurity(cfg.Security)
	s.SetFaults(cfg.Faults...)
	return s, nil
}

// Listen binds cfg.Listen and returns the listener (use its Addr for the
// real port when listening on port 0).
func (s *Server) Listen() (net.Listener, error) {
	var lc net.ListenConfig
	return lc.Listen(context.Background(), "tcp", s.cfg.Listen)
}

// ListenAndServe listens on cfg.Listen and serves until ctx ends, then shuts
// down gracefully (bounded by the drain timeout) and returns nil.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := s.Listen()
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*s.cfg.DrainTimeout+time.Second)
	defer cancel()
	err = s.Shutdown(sctx)
	if e := <-errc; !errors.Is(e, ErrServerClosed) && err == nil {
		err = e
	}
	return err
}

// Addr returns the listening address, or nil before Serve.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Serve accepts connections on ln until Shutdown or Close; it then returns
// ErrServerClosed.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	ln = s.wrapListener(ln) // stop-accepting and reboot faults (faultlisten.go)
	s.ln = ln
	s.mu.Unlock()
	s.log.Info().Str("addr", ln.Addr().String()).Str("on_malformed", s.cfg.OnMalformed.String()).
		Str("malformed_pdu", s.cfg.MalformedPDU.String()).Msg("plcsim ready")
	var tempDelay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return ErrServerClosed
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ECONNABORTED) {
				tempDelay = min(max(2*tempDelay, 5*time.Millisecond), time.Second)
				s.log.Warn().Err(err).Dur("backoff", tempDelay).Msg("accept")
				select {
				case <-time.After(tempDelay):
				case <-s.done:
					return ErrServerClosed
				}
				continue
			}
			return err
		}
		tempDelay = 0
		s.accept(nc)
	}
}

func (s *Server) accept(nc net.Conn) {
	s.stats.accepted.Add(1)
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
		tc.SetKeepAlive(true)
	}
	c := &conn{s: s, nc: nc, remote: nc.RemoteAddr().String(), draining: make(chan struct{})}
	if !s.admit(c) { // allow-list, per-IP cap, TLS (security.go)
		return
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if len(s.conns) >= s.cfg.MaxConns {
		s.mu.Unlock()
		s.stats.refused.Add(1)
		s.obsConn(c.remote, ConnRefused)
		s.log.Warn().Str("remote", c.remote).Int("max_conns", s.cfg.MaxConns).Msg("connection refused: max conns reached")
		s.wg.Add(1)
		go func() { defer s.wg.Done(); c.closeGracefully() }()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	s.stats.conns.Add(1)
	s.obsConn(c.remote, ConnAccepted)
	s.log.Info().Str("remote", c.remote).Msg("connection accepted")
	go func() {
		defer s.wg.Done()
		c.serve()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.stats.conns.Add(-1)
		s.obsConn(c.remote, ConnClosed)
	}()
}

// Shutdown stops accepting, then closes every connection gracefully: it
// half-closes the write side, drains until the peer's FIN (bounded by the
// drain timeout) and closes. It returns when every connection goroutine has
// exited, or ctx's error if ctx ends first.
func (s *Server) Shutdown(ctx context.Context) error {
	s.beginClose()
	s.mu.Lock()
	for c := range s.conns {
		c.startDrain()
	}
	s.mu.Unlock()
	idle := make(chan struct{})
	go func() { s.wg.Wait(); close(idle) }()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		s.Close()
		return ctx.Err()
	}
}

// Close closes the listener and every connection at once.
func (s *Server) Close() error {
	s.beginClose()
	s.mu.Lock()
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

func (s *Server) beginClose() {
	s.shutOnce.Do(func() {
		close(s.done)
		s.mu.Lock()
		s.closing = true
		if s.ln != nil {
			s.ln.Close()
		}
		s.mu.Unlock()
	})
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	c := &s.stats
	return Stats{Conns: c.conns.Load(), Accepted: c.accepted.Load(), Refused: c.refused.Load(),
		Requests: c.requests.Load(), Responses: c.responses.Load(), Exceptions: c.exceptions.Load(),
		FramingFaults: c.framing.Load(), MalformedPDUs: c.malformed.Load(), ForeignProtocol: c.foreign.Load(),
		Resets: c.resets.Load(), PeerEOF: c.peerEOF.Load(), PeerResets: c.peerResets.Load(), Faults: c.faultsApplied.Load(),
		FaultsByAction: s.FaultCounts()}
}

// isReset reports whether err is a TCP reset from the peer.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

var _ io.Reader = (*frameReader)(nil)
