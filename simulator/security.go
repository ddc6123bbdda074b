package simulator

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/access"
	"github.com/plcctl/plcctl/modbus"
)

// Security is the server's access control: Modbus/TCP Security (TLS with
// client certificates and roles, MODBUS-NOTES §4.4), and on every
// connection an IP allow-list, a per-IP connection cap and a read-only
// switch. The zero value is an open plain-TCP server.
type Security struct {
	// TLS, when set, makes the server speak Modbus/TCP Security: it needs
	// Certificates (the server's) and ClientCAs. Every client must show a
	// certificate signed by one of ClientCAs (RequireAndVerifyClientCert is
	// forced); TLS 1.2 is the minimum. The role in the certificate
	// (access.Role) is checked against Policy for every request.
	TLS *tls.Config
	// HandshakeTimeout bounds a TLS handshake. Default 5 s.
	HandshakeTimeout time.Duration
	// Policy maps roles to rights on TLS connections (zero value: the
	// default roles operator and viewer). Policy.ReadOnly applies to every
	// connection, plain TCP too: every write gets exception 01.
	// Server.SetPolicy replaces it while serving.
	Policy access.Policy
	// Allow, when not empty, accepts connections only from these networks
	// (e.g. 127.0.0.1/32); others are closed at once and counted.
	Allow []netip.Prefix
	// MaxConnsPerIP caps concurrent connections from one IP address; more
	// are closed at once and counted. Zero: no cap beyond MaxConns.
	MaxConnsPerIP int
}

// DefaultHandshakeTimeout bounds a TLS handshake unless configured.
const DefaultHandshakeTimeout = 5 * time.Second

func (sc Security) withDefaults() Security {
	if sc.HandshakeTimeout == 0 {
		sc.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if sc.TLS != nil {
		cfg := sc.TLS.Clone()
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		if cfg.MinVersion < tls.VersionTLS12 {
			cfg.MinVersion = tls.VersionTLS12
		}
		sc.TLS = cfg
	}
	return sc
}

func (sc Security) validate() error {
	var errs []error
	if sc.TLS != nil && len(sc.TLS.Certificates) == 0 && sc.TLS.GetCertificate == nil {
		errs = append(errs, errors.New("simulator: tls: no server certificate"))
	}
	if sc.TLS != nil && sc.TLS.ClientCAs == nil {
		errs = append(errs, errors.New("simulator: tls: no client CA: client certificates cannot be verified"))
	}
	if sc.HandshakeTimeout < 0 || sc.MaxConnsPerIP < 0 {
		errs = append(errs, errors.New("simulator: security: negative handshake timeout or per-IP cap"))
	}
	if err := sc.Policy.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// SecurityStats counts what access control refused.
type SecurityStats struct {
	HandshakeFailures uint64 // TLS handshakes that failed: plain TCP client, wrong CA, expired certificate...
	NotAllowed        uint64 // connections from an address outside Security.Allow
	PerIPRefused      uint64 // connections over Security.MaxConnsPerIP
	Denied            uint64 // requests refused with exception 01 by the policy or the read-only switch
}

// security is a Server's access-control state.
type security struct {
	cfg       Security
	policy    atomic.Pointer[access.Policy] // cfg.Policy until SetPolicy replaces it
	handshake atomic.Uint64
	notAllow  atomic.Uint64
	perIP     atomic.Uint64
	denied    atomic.Uint64
	hsLog     logLimiter // failed handshakes, refused connections
}

func newSecurity(cfg Security) *security {
	s := &security{cfg: cfg}
	p := cfg.Policy
	s.policy.Store(&p)
	return s
}

// SetPolicy replaces the access policy while the server serves (plcsim's
// SIGHUP reload of --access): every request judged after it returns, on
// open connections too, is judged by p as a whole, never by a mix of the
// old and the new rules. A p that does not validate is refused with the
// reason and the policy in force stays. p's rules must not be changed
// afterwards.
func (s *Server) SetPolicy(p access.Policy) error {
	if err := p.Validate(); err != nil {
		return err // access.Errors: a line per mistake, each complete (a prefix would be on the first only)
	}
	s.sec.policy.Store(&p)
	return nil
}

// Policy returns the access policy in force.
func (s *Server) Policy() access.Policy { return *s.sec.policy.Load() }

// SecurityStats returns the access-control counters.
func (s *Server) SecurityStats() SecurityStats {
	return SecurityStats{HandshakeFailures: s.sec.handshake.Load(), NotAllowed: s.sec.notAllow.Load(),
		PerIPRefused: s.sec.perIP.Load(), Denied: s.sec.denied.Load()}
}

// admit applies the allow-list and the per-IP cap to a new connection and
// wraps it in TLS when configured. A refused connection is closed at once
// (it has not been answered anything) and admit returns false.
func (s *Server) admit(c *conn) bool {
	sec := s.sec
	if len(sec.cfg.Allow) == 0 && sec.cfg.MaxConnsPerIP == 0 && sec.cfg.TLS == nil {
		return true
	}
	ip := remoteIP(c.nc)
	if len(sec.cfg.Allow) > 0 && !allowed(sec.cfg.Allow, ip) {
		sec.notAllow.Add(1)
		if n, ok := sec.hsLog.allow(); ok {
			s.log.Warn().Str("remote", c.remote).Uint64("suppressed", n).Msg("connection refused: address not in the allow-list")
		}
		c.nc.Close()
		return false
	}
	if max := sec.cfg.MaxConnsPerIP; max > 0 && s.connsFrom(ip) >= max {
		sec.perIP.Add(1)
		if n, ok := sec.hsLog.allow(); ok {
			s.log.Warn().Str("remote", c.remote).Int("max_conns_per_ip", max).Uint64("suppressed", n).
				Msg("connection refused: too many connections from this address")
		}
		c.nc.Close()
		return false
	}
	if sec.cfg.TLS != nil {
		tc, _ := c.nc.(*net.TCPConn)
		sc := &secureConn{tcp: tc}
		cfg := sec.cfg.TLS.Clone()
		cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			sc.oldOnly = !slices.ContainsFunc(hello.SupportedVersions, func(v uint16) bool { return v >= tls.VersionTLS12 })
			if sc.oldOnly {
				sc.offered = hello.SupportedVersions
			}
			return nil, nil
		}
		sc.Conn = tls.Server(c.nc, cfg)
		c.nc = sc
	}
	return true
}

// connsFrom counts the open connections from ip. The accept loop is the
// only goroutine that adds connections, so the count cannot grow before
// the new one is added.
func (s *Server) connsFrom(ip netip.Addr) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.conns {
		if remoteIP(c.nc) == ip {
			n++
		}
	}
	return n
}

func remoteIP(nc net.Conn) netip.Addr {
	if ap, err := netip.ParseAddrPort(nc.RemoteAddr().String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

func allowed(prefixes []netip.Prefix, ip netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// secureConn is a TLS server connection and what its client certificate
// says.
type secureConn struct {
	*tls.Conn
	tcp       *net.TCPConn
	handshook atomic.Bool             // reads and writes go through TLS; before, only the TCP socket is touched
	peer      atomic.Pointer[tlsPeer] // set once the handshake is done; Connections reads it
	oldOnly   bool                    // the client offered no TLS version plcsim accepts (1.2, 1.3)
	offered   []uint16                // its versions then
}

// tlsPeer is who a TLS client proved to be.
type tlsPeer struct {
	role    string // "" = none
	roleErr error  // why there is no role
	subject string // of its certificate
}

// peerOf returns who the client of sc is; the zero tlsPeer (no role)
// before its handshake is done.
func (sc *secureConn) peerOf() tlsPeer {
	if p := sc.peer.Load(); p != nil {
		return *p
	}
	return tlsPeer{}
}

// Read reads through TLS once the handshake has begun; before, from the
// TCP socket (a connection refused before its handshake is drained raw).
func (sc *secureConn) Read(p []byte) (int, error) {
	if !sc.handshook.Load() {
		return sc.tcp.Read(p)
	}
	return sc.Conn.Read(p)
}

// Close closes the TCP socket at once, not through tls.Conn.Close: that
// sends close_notify first, which may block on a peer that stopped reading,
// and would put an alert before the reset of a reset fault. A graceful close
// has sent close_notify already (closeWrite).
func (sc *secureConn) Close() error { return sc.tcp.Close() }

// tcp returns the connection's TCP socket, under TLS or not.
func (c *conn) tcp() *net.TCPConn {
	switch nc := c.nc.(type) {
	case *net.TCPConn:
		return nc
	case *secureConn:
		return nc.tcp
	}
	return nil
}

// closeWrite ends our side of the stream: close_notify first over TLS,
// then the TCP half-close. Called with wmu held.
func (c *conn) closeWrite() {
	if sc, ok := c.nc.(*secureConn); ok && sc.handshook.Load() {
		sc.Conn.CloseWrite()
	}
	if tc := c.tcp(); tc != nil {
		tc.CloseWrite()
	}
}

// handshake runs the TLS handshake of a new connection within
// HandshakeTimeout and reads the client's role. A failure is counted,
// logged (rate-limited) and ends only this connection, gracefully, so a
// plain TCP client gets a FIN, not a reset. Plain TCP: nothing to do.
func (c *conn) handshake() bool {
	sc, ok := c.nc.(*secureConn)
	if !ok {
		return true
	}
	s := c.s
	ctx, cancel := context.WithTimeout(context.Background(), s.sec.cfg.HandshakeTimeout)
	defer cancel()
	sc.handshook.Store(true)
	if err := sc.HandshakeContext(ctx); err != nil {
		s.sec.handshake.Add(1)
		if n, ok := s.sec.hsLog.allow(); ok {
			s.log.Warn().Str("remote", c.remote).Uint64("suppressed", n).Str("problem", sc.problem(err)).
				Err(err).Msg("tls handshake failed; closing this connection")
		}
		sc.handshook.Store(false) // drain the TCP socket, not TLS
		c.closeGracefully()
		return false
	}
	st := sc.ConnectionState()
	var p tlsPeer
	if len(st.PeerCertificates) > 0 {
		p.subject = st.PeerCertificates[0].Subject.String()
		p.role, p.roleErr = access.Role(st.PeerCertificates[0])
	}
	sc.peer.Store(&p)
	e := s.log.Info()
	if p.roleErr != nil {
		e = s.log.Warn().AnErr("role_error", p.roleErr)
	}
	e.Uint64("conn", c.id).Str("remote", c.remote).Str("tls_version", tls.VersionName(st.Version)).Str("subject", p.subject).
		Str("role", p.role).Msg("tls client authenticated")
	return true
}

// problem names, for the log, why a handshake failed.
func (sc *secureConn) problem(err error) string {
	var rec tls.RecordHeaderError
	var verr *tls.CertificateVerificationError
	var ope *net.OpError
	switch {
	case sc.oldOnly:
		var vs []string
		for _, v := range sc.offered {
			vs = append(vs, tls.VersionName(v))
		}
		return "client offers only TLS versions older than 1.2: " + strings.Join(vs, ", ")
	case errors.As(err, &rec):
		return "not a TLS client (plain Modbus/TCP on the TLS port?)"
	case errors.Is(err, context.DeadlineExceeded):
		return "handshake not completed in time"
	case errors.As(err, &ope) && ope.Op == "remote error":
		return "the client refused the handshake (" + err.Error() + "): our server certificate is not what it expects?"
	case errors.As(err, &verr):
		return "client certificate refused: " + verr.Err.Error()
	}
	return "handshake failed"
}

// refused applies the policy to a request for unit; when it refuses, it
// sets oc to exception 01, logs the refusal with the client's role and
// certificate subject, and returns true. req is nil when the request did
// not pass validation: then only its function code and unit are judged.
func (c *conn) refused(unit uint8, fc modbus.FunctionCode, req modbus.Request, oc *outcome) bool {
	sec := c.s.sec
	pol := sec.policy.Load() // one policy for the whole decision
	if sec.cfg.TLS == nil && !pol.ReadOnly {
		return false
	}
	var d access.Decision
	var p tlsPeer
	sc, isTLS := c.nc.(*secureConn)
	if isTLS {
		p = sc.peerOf()
	}
	switch {
	case isTLS && req != nil:
		d = pol.Decide(p.role, unit, req)
	case isTLS:
		d = pol.MayUse(p.role, unit, fc)
	case pol.ReadOnly && access.IsWrite(fc):
		d = access.Decision{Reason: "read-only server: " + fc.String() + " is a write"}
	default:
		return false
	}
	if d.Allow {
		return false
	}
	sec.denied.Add(1)
	// Rate-limited like every per-request line: a client sending refused
	// requests in a loop cannot flood the log (Denied counts them all).
	if e := c.s.event(logDenied, zerolog.WarnLevel); e != nil {
		e = e.Uint64("conn", c.id).Str("remote", c.remote).Uint8("unit_id", unit).Uint8("fc", uint8(fc))
		if isTLS {
			e = e.Str("role", p.role).Str("subject", p.subject).AnErr("role_error", p.roleErr)
		}
		e.Str("reason", d.Reason).Msg("request refused: exception 01")
	}
	*oc = exception(fc&0x7F, modbus.IllegalFunction, "access denied: "+d.Reason)
	return true
}

// logLimiter lets one log line through per second and counts the others,
// so a flood of bad handshakes cannot flood the log.
type logLimiter struct {
	mu         sync.Mutex
	last       time.Time
	suppressed uint64
}

// allow reports whether to log now, and how many lines were suppressed
// since the last one that was.
func (l *logLimiter) allow() (uint64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if !l.last.IsZero() && now.Sub(l.last) < time.Second {
		l.suppressed++
		return 0, false
	}
	n := l.suppressed
	l.last, l.suppressed = now, 0
	return n, true
}
