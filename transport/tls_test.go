package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/internal/certgen"
	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

func testPKI(t testing.TB) *certgen.PKI {
	t.Helper()
	p, err := certgen.TestPKI()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startTLSSim starts plcsim speaking Modbus/TCP Security with the named
// server certificate.
func startTLSSim(t testing.TB, server string, cfg simulator.Config) *simtest.Server {
	cfg.Security.TLS = testPKI(t).ServerTLS(server)
	return simtest.Start(t, cfg)
}

func tlsOptions(t testing.TB, client string, version uint16) Options {
	o := testOptions(t)
	o.TLS = testPKI(t).ClientTLS(client)
	o.TLS.MaxVersion = version
	return o
}

var tlsVersions = []struct {
	name string
	v    uint16
}{{"TLS1.2", tls.VersionTLS12}, {"TLS1.3", tls.VersionTLS13}}

// TestTLSRoundTrip: over TLS 1.2 and 1.3 the same frames go both ways,
// pipelined too, and Close ends the session with close_notify and a FIN:
// plcsim counts a peer EOF, no reset.
func TestTLSRoundTrip(t *testing.T) {
	for _, tv := range tlsVersions {
		t.Run(tv.name, func(t *testing.T) {
			sim := startTLSSim(t, "valid", simulator.Config{})
			o := tlsOptions(t, "operator", tv.v)
			o.MaxInFlight = 4
			c, err := Dial(t.Context(), sim.Addr, o)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Send(t.Context(), 1, &modbus.WriteSingleRegister{Address: 10, Value: 0xBEEF}); err != nil {
				t.Fatal(err)
			}
			errc := make(chan error, 8)
			for range 8 {
				go func() {
					rsp, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(10, 1))
					if err == nil && rsp.(*modbus.RegistersResponse).Registers()[0] != 0xBEEF {
						err = errors.New("wrong value")
					}
					errc <- err
				}()
			}
			for range 8 {
				if err := recv(t, errc, "pipelined answer"); err != nil {
					t.Errorf("pipelined read over TLS = %v", err)
				}
			}
			c.Close()
			waitFor(t, "plcsim sees our FIN", func() bool { return sim.Stats().PeerEOF == 1 })
			if st := sim.Stats(); st.PeerResets != 0 || st.Resets != 0 {
				t.Errorf("plcsim Stats = %+v: a reset on a graceful close", st)
			}
		})
	}
}

// TestTLSCertProblems: every certificate problem fails with its own kind
// and a message that says what was wrong, on TLS 1.2 and 1.3.
func TestTLSCertProblems(t *testing.T) {
	tests := []struct {
		name, server, client string
		serverName           string
		want                 error
		atDial13             bool // in TLS 1.3 the server judges our certificate after our handshake: the first request fails
	}{
		{"server cert expired", "expired", "operator", "", ErrTLSCertExpired, true},
		{"server cert not yet valid", "not-yet-valid", "operator", "", ErrTLSCertNotYetValid, true},
		{"server cert from unknown CA", "other-ca", "operator", "", ErrTLSUnknownCA, true},
		{"wrong host name", "wrong-host", "operator", "", ErrTLSWrongHost, true},
		{"wrong host name given", "valid", "operator", "plc9.example", ErrTLSWrongHost, true},
		{"no client certificate", "valid", "", "", ErrTLSClientCertRequired, false},
		{"client cert expired", "valid", "expired", "", ErrTLSClientCertRejected, false},
		{"client cert from another CA", "valid", "other-ca", "", ErrTLSClientCertRejected, false},
	}
	for _, tv := range tlsVersions {
		for _, tt := range tests {
			t.Run(tv.name+"/"+tt.name, func(t *testing.T) {
				sim := startTLSSim(t, tt.server, simulator.Config{})
				o := tlsOptions(t, tt.client, tv.v)
				o.TLS.ServerName = tt.serverName
				c, err := Dial(t.Context(), sim.Addr, o)
				if err == nil {
					if tv.v == tls.VersionTLS12 || tt.atDial13 {
						c.Close()
						t.Fatalf("Dial succeeded, want %v", tt.want)
					}
					_, err = c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(0, 1))
					c.Close()
				}
				var te *TLSError
				if !errors.Is(err, tt.want) || !errors.As(err, &te) {
					t.Fatalf("error = %v, want %v", err, tt.want)
				}
				t.Logf("%s: %v", tt.name, err)
				waitFor(t, "plcsim counts the failed handshake", func() bool {
					return tt.want == ErrTLSWrongHost || sim.SecurityStats().HandshakeFailures >= 1
				})
			})
		}
	}
}

// TestPlainClientOnTLSPort: a plain Modbus/TCP client on the TLS port gets
// a clean failure (the server closes with a FIN), and plcsim goes on
// serving a TLS client that was already connected.
func TestPlainClientOnTLSPort(t *testing.T) {
	sim := startTLSSim(t, "valid", simulator.Config{})
	good := dial(t, sim.Addr, tlsOptions(t, "operator", 0))
	if _, err := good.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(0, 1)); err != nil {
		t.Fatal(err)
	}
	o := testOptions(t)
	o.Retries = 0
	plain := dial(t, sim.Addr, o)
	_, err := plain.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(0, 1))
	if err == nil || !isEOFish(err) {
		t.Fatalf("plain request on the TLS port = %v, want EOF (a FIN, not a reset)", err)
	}
	plain.Close()
	waitFor(t, "handshake failure counted", func() bool { return sim.SecurityStats().HandshakeFailures >= 1 }) // the plain client may have re-dialled once
	if _, err := good.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(0, 1)); err != nil {
		t.Fatalf("TLS client after a plain one was refused = %v", err)
	}
	if s := good.Stats(); s.LinkDowns != 0 {
		t.Errorf("TLS client Stats = %+v: its link was disturbed", s)
	}
}

// TestTLSClientOnPlainPort: TLS to a plain Modbus/TCP server fails at dial
// with a TLS error, not a hang.
func TestTLSClientOnPlainPort(t *testing.T) {
	sim := simtest.Start(t, simulator.Config{})
	_, err := Dial(t.Context(), sim.Addr, tlsOptions(t, "operator", 0))
	var te *TLSError
	if !errors.As(err, &te) {
		t.Fatalf("Dial = %v, want a *TLSError", err)
	}
	t.Log(err)
}

// TestTLSLinkFaults: the link faults of plain TCP, over TLS: the server
// closes with a FIN or a reset instead of answering, drops an answer, or
// restarts; and a FIN between polls is noticed by the idle watcher. The
// link recovers each time.
func TestTLSLinkFaults(t *testing.T) {
	for _, tt := range []struct {
		name    string
		rule    simulator.FaultRule
		retries int
	}{
		{"close-fin", simulator.FaultRule{Action: simulator.FaultCloseFIN, Count: 1}, 1},
		{"close-rst", simulator.FaultRule{Action: simulator.FaultCloseRST, Count: 1}, 1},
		{"cut-mid-frame", simulator.FaultRule{Action: simulator.FaultCutMidFrame, Count: 1}, 1},
		{"split", simulator.FaultRule{Action: simulator.FaultSplit, Count: 1}, 0},
		{"duplicate", simulator.FaultRule{Action: simulator.FaultDuplicate, Count: 1}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sim := startTLSSim(t, "valid", simulator.Config{Faults: []simulator.FaultRule{tt.rule}})
			o := tlsOptions(t, "operator", 0)
			o.Retries = tt.retries
			for a := range uint16(8) {
				sim.SetHoldingRegisters(a, a) // what checkRegs expects
			}
			c := dial(t, sim.Addr, o)
			for i := range 3 {
				rsp, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(uint16(i), 2))
				if err != nil {
					t.Fatalf("read %d = %v", i, err)
				}
				checkRegs(t, rsp, uint16(i), 2)
			}
		})
	}
	t.Run("drop", func(t *testing.T) {
		sim := startTLSSim(t, "valid", simulator.Config{Faults: []simulator.FaultRule{{Action: simulator.FaultDrop, Count: 1}}})
		o := tlsOptions(t, "operator", 0)
		o.Timeout = 200 * time.Millisecond
		c := dial(t, sim.Addr, o)
		if _, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(0, 1)); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("dropped answer = %v, want a timeout", err)
		}
		// Its answer comes while the dropped one is unanswered: refused, and
		// the read goes again on a new link, after a new handshake.
		ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
		defer cancel()
		if _, err := c.Send(ctx, 1, modbus.NewReadHoldingRegisters(0, 1)); err != nil {
			t.Fatalf("read after a dropped answer = %v", err)
		}
	})
	t.Run("restart", func(t *testing.T) {
		sim := startTLSSim(t, "valid", simulator.Config{})
		o := tlsOptions(t, "operator", 0)
		st := states(&o)
		c := dial(t, sim.Addr, o)
		if _, err := c.Send(t.Context(), 1, &modbus.WriteSingleRegister{Address: 3, Value: 33}); err != nil {
			t.Fatal(err)
		}
		sim.Restart(t) // a graceful shutdown: close_notify and FIN between polls
		waitState(t, st, StateReconnecting)
		waitState(t, st, StateConnected)
		rsp, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(3, 1))
		if err != nil {
			t.Fatalf("read after restart = %v", err)
		}
		if v := rsp.(*modbus.RegistersResponse).Registers()[0]; v != 33 {
			t.Errorf("register 3 after restart = %d, want 33", v)
		}
	})
}

// TestTLSConfigDefaults: TLS 1.2 at least, the server name from the address.
func TestTLSConfigDefaults(t *testing.T) {
	for _, tt := range []struct{ addr, want string }{
		{"127.0.0.1:802", "127.0.0.1"}, {"[::1]:802", "::1"}, {"plc1.example:802", "plc1.example"}, {"plc1", "plc1"},
	} {
		cfg := tlsConfig(&tls.Config{MinVersion: tls.VersionTLS10}, tt.addr)
		if cfg.ServerName != tt.want || cfg.MinVersion != tls.VersionTLS12 {
			t.Errorf("tlsConfig(%q) = ServerName %q MinVersion %x, want %q and TLS 1.2", tt.addr, cfg.ServerName, cfg.MinVersion, tt.want)
		}
	}
	if _, ok := any(&tlsConn{}).(net.Conn); !ok {
		t.Error("tlsConn is not a net.Conn")
	}
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testutil.WaitFor(t, waitTimeout, what, cond)
}

// BenchmarkSendTLS: BenchmarkSend's sequential case over TLS 1.3, to show
// what the encryption costs next to plain TCP (BenchmarkSend).
func BenchmarkSendTLS(b *testing.B) {
	nop := zerolog.Nop()
	sim := startTLSSim(b, "valid", simulator.Config{Logger: &nop})
	o := Options{TLS: testPKI(b).ClientTLS("operator")}
	c, err := Dial(b.Context(), sim.Addr, o)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req := modbus.NewReadHoldingRegisters(0, 10)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Send(b.Context(), 1, req); err != nil {
			b.Fatal(err)
		}
	}
}
