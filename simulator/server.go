package simulator

import (
	"cmp"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// sendBuffer is each connection's kernel send buffer (SO_SNDBUF).
const sendBuffer = 64 << 10

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("simulator: server closed")

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
	ln       net.Listener       // the last listener Serve was given (Addr)
	lns      []net.Listener     // every listener being served, closed by Shutdown and Close
	conns    map[*conn]struct{} // open: serving or draining
	serving  int                // conns in a MaxConns slot
	nextID   uint64
	closing  bool
	done     chan struct{} // closed on Shutdown/Close
	ready    chan struct{} // closed when Serve first has its listener (Ready)
	wg       sync.WaitGroup
	stats    counters
	logs     rateLog
	shutOnce sync.Once
	runOnce  sync.Once
}

// New returns a server for cfg; Serve or ListenAndServe starts it.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, obs: cfg.Observer, conns: make(map[*conn]struct{}), done: make(chan struct{}),
		ready: make(chan struct{}), logs: rateLog{limit: cfg.LogLimit}}
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

// Ready is closed once Serve has its listener: Addr is the address
// connections are accepted on from then on (they wait in the listener's
// backlog until the accept loop takes them), as the "plcsim ready" log
// line says, whatever the log level.
func (s *Server) Ready() <-chan struct{} { return s.ready }

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
// ErrServerClosed. It may be called for several listeners at once; Shutdown
// and Close end them all, and Addr is the last one's.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	ln = s.wrapListener(ln) // stop-accepting and reboot faults (faultlisten.go)
	s.ln = ln
	s.lns = append(s.lns, ln)
	s.runOnce.Do(func() {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.logs.run(s.log, s.done) }()
		close(s.ready)
	})
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
				s.event(logAcceptError, zerolog.WarnLevel).Err(err).Dur("backoff", tempDelay).Msg("accept")
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

// accept admits nc. It never blocks on a peer: when MaxConns connections
// are served, the one idle longest is told to close (its own goroutine
// drains it) and nc takes its slot; only if every connection is busy with a
// request is nc refused, closed at once without holding a descriptor.
func (s *Server) accept(nc net.Conn) {
	s.stats.accepted.Add(1)
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
		tc.SetKeepAlive(true)
		// Answers are at most 260 bytes: a small send buffer still holds
		// hundreds, and a peer that stops reading pins at most this much
		// kernel memory per connection (autotuning grows it to 4 MiB) and
		// meets WriteTimeout sooner.
		tc.SetWriteBuffer(sendBuffer)
	}
	now := time.Now()
	c := &conn{s: s, nc: nc, remote: nc.RemoteAddr().String(), opened: now, inSlot: true}
	c.gone = make(chan struct{})
	c.lastActive.Store(now.UnixNano())
	if !s.admit(c) { // allow-list, per-IP cap, TLS (security.go)
		return
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		c.quickClose()
		return
	}
	var victim *conn
	closeNow := false
	if s.serving >= s.cfg.MaxConns {
		if victim = s.idlest(); victim == nil {
			s.mu.Unlock()
			s.stats.refused.Add(1)
			s.obsConn(c.remote, ConnRefused)
			s.event(logRefused, zerolog.WarnLevel).Str("remote", c.remote).Int("max_conns", s.cfg.MaxConns).
				Msg("connection refused: max conns reached and every connection is busy")
			c.quickClose()
			return
		}
		victim.inSlot = false
		s.serving--
		// Closing connections (drains) are bounded too: past MaxConns of
		// them the victim is closed here and now, without a drain, so an
		// attack cannot pile up descriptors faster than drains end.
		closeNow = len(s.conns)-s.serving > s.cfg.MaxConns
	}
	s.nextID++
	c.id = s.nextID
	s.conns[c] = struct{}{}
	s.serving++
	s.wg.Add(1)
	s.mu.Unlock()
	s.stats.conns.Add(1)
	if victim != nil {
		s.stats.evicted.Add(1)
		s.obsConn(victim.remote, ConnEvicted)
		s.event(logEvicted, zerolog.InfoLevel).Uint64("conn", victim.id).Str("remote", victim.remote).
			Dur("idle", now.Sub(time.Unix(0, victim.lastActive.Load()))).Uint64("for_conn", c.id).Int("max_conns", s.cfg.MaxConns).
			Msg("max conns reached: closing the connection idle longest")
	}
	s.obsConn(c.remote, ConnAccepted)
	s.event(logAccepted, zerolog.InfoLevel).Uint64("conn", c.id).Str("remote", c.remote).Msg("connection accepted")
	if victim != nil && victim.signalStop(stopEvict) && closeNow { // after the events: its end is reported after them
		victim.quickClose()
	}
	go func() {
		defer s.wg.Done()
		c.serve()
		s.leaveSlot(c)
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.stats.conns.Add(-1)
		s.obsConn(c.remote, ConnClosed)
	}()
}

// idlest picks the connection to evict [IG §4.2.1 p.11: close the oldest
// unused connection]: among the served ones not busy with a request and
// with no request waiting unread, one that never sent a request (oldest
// first), else the one idle longest. Nil if every one is in use. Called
// with s.mu held; it never blocks.
func (s *Server) idlest() *conn {
	type cand struct {
		c    *conn
		used bool  // it has sent a request
		at   int64 // last activity
	}
	var cands []cand
	for c := range s.conns {
		if c.inSlot && !c.busy.Load() {
			cands = append(cands, cand{c, c.requests.Load() > 0, c.lastActive.Load()})
		}
	}
	slices.SortFunc(cands, func(a, b cand) int {
		if a.used != b.used {
			if a.used {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.at, b.at)
	})
	for _, k := range cands {
		if tc := k.c.tcp(); tc == nil || !hasInput(tc) {
			return k.c
		}
		// A request has arrived, not yet read: this one is about to be busy.
	}
	return nil
}

// leaveSlot frees c's MaxConns slot: it is draining or gone.
func (s *Server) leaveSlot(c *conn) {
	s.mu.Lock()
	if c.inSlot {
		c.inSlot = false
		s.serving--
	}
	s.mu.Unlock()
}

// Shutdown stops accepting, then closes every connection gracefully, all in
// parallel: each answers the complete requests it has already read (each
// write bounded by the write timeout), reads nothing more, half-closes its
// write side, drains until the peer's FIN (bounded by the drain timeout)
// and closes. It returns nil when every connection is gone. If ctx ends
// first, what remains is reset at once (counted as ResetShutdown) and
// Shutdown returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.beginClose()
	s.mu.Lock()
	for c := range s.conns {
		c.signalStop(stopShutdown)
	}
	s.mu.Unlock()
	idle := make(chan struct{})
	go func() { s.wg.Wait(); close(idle) }()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
	}
	s.forceClose()
	<-idle
	return ctx.Err()
}

// Close closes the listener and resets every connection at once (counted
// as ResetShutdown); Shutdown is the graceful way.
func (s *Server) Close() error {
	s.beginClose()
	s.forceClose()
	s.wg.Wait()
	return nil
}

// forceClose resets every connection still open. The resets are made
// without s.mu held: closing a socket waits for a raw read under way on it
// (serveIn), whose handling must not wait for s.mu meanwhile.
func (s *Server) forceClose() {
	s.mu.Lock()
	cs := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	for _, c := range cs {
		c.signalStop(stopShutdown)
		c.reset(ResetShutdown)
	}
}

func (s *Server) beginClose() {
	s.shutOnce.Do(func() {
		close(s.done)
		s.mu.Lock()
		s.closing = true
		for _, ln := range s.lns {
			ln.Close()
		}
		s.mu.Unlock()
	})
}

// isReset reports whether err is a TCP reset from the peer.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

var _ io.Reader = (*frameReader)(nil)
