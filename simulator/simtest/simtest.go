// Package simtest starts an in-process plcsim for tests, shaped like
// net/http/httptest: it listens on 127.0.0.1:0 and stops in t.Cleanup.
package simtest

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/simulator"
)

// Server is a running simulator.
type Server struct {
	*simulator.Server
	Addr string // host:port, always on 127.0.0.1

	cfg  simulator.Config
	errc chan error
}

// Start starts a simulator on 127.0.0.1:0 (or cfg.Listen if it is set to a
// loopback address), logging to the test log unless cfg.Logger is set.
func Start(t testing.TB, cfg simulator.Config) *Server {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Logger == nil {
		l := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.DebugLevel)
		cfg.Logger = &l
	}
	s := &Server{cfg: cfg}
	s.start(t, nil)
	return s
}

func (s *Server) start(t testing.TB, keep *simulator.Server) {
	t.Helper()
	srv := keep
	if srv == nil {
		var err error
		if srv, err = simulator.New(s.cfg); err != nil {
			t.Fatal(err)
		}
	}
	// Go listeners set SO_REUSEADDR, so a restart can bind the same port
	// at once even while old connections linger in TIME_WAIT.
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		t.Fatalf("simtest: listen %s: %v", s.cfg.Listen, err)
	}
	s.Server = srv
	s.Addr = ln.Addr().String()
	s.cfg.Listen = s.Addr
	s.errc = make(chan error, 1)
	go func() { s.errc <- srv.Serve(ln) }()
	t.Cleanup(func() { s.stop(t) })
	// Serve records the listener in its own goroutine; until it has, Addr
	// is nil and /readyz says "not listening yet". Return a server that is
	// serving, as httptest does.
	for deadline := time.Now().Add(10 * time.Second); srv.Addr() == nil; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("simtest: Serve on %s did not start within 10s", s.Addr)
		}
	}
}

func (s *Server) stop(t testing.TB) {
	if s.errc == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Server.Shutdown(ctx); err != nil {
		t.Errorf("simtest: shutdown: %v", err)
	}
	if err := <-s.errc; !errors.Is(err, simulator.ErrServerClosed) {
		t.Errorf("simtest: serve: %v", err)
	}
	s.errc = nil
}

// Restart shuts the simulator down gracefully and serves again on the same
// port with the same data, as a PLC that rebooted with retained memory.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.stop(t)
	old := s.Server
	next, err := simulator.New(s.cfg)
	if err != nil {
		t.Fatal(err)
	}
	next.CopyData(old)
	s.start(t, next)
}

// Stop shuts the simulator down now (Cleanup would otherwise do it), e.g. to
// test a client against a dead PLC.
func (s *Server) Stop(t testing.TB) { s.stop(t) }
