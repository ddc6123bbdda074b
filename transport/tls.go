package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"syscall"
	"time"
)

// Modbus/TCP Security (MODBUS-NOTES §4.4): the MBAP frames travel unchanged
// inside TLS 1.2 or 1.3, on port 802 by default, and both ends show X.509
// certificates. TLS enters the link as one more net.Conn: a *tlsConn over
// the *net.TCPConn. Everything above it (framing, transaction ids,
// pipelining, reconnect, deadlines) is the same code as on plain TCP; only
// the plain-TCP fast path that writes from inside the socket's poller
// (writeInPoll) needs the raw socket and is not used over TLS, nor are
// peek's raw read and, on Linux, the raw system calls of rawio.go.

// DefaultTLSPort is the Modbus/TCP Security port, IANA "mbap-s".
const DefaultTLSPort = "802"

// linkConn is what a link needs of its connection: a *net.TCPConn, or a
// *tlsConn over one.
type linkConn interface {
	net.Conn
	// CloseWrite ends our side of the stream: a TCP FIN; over TLS the
	// close_notify alert first, then the FIN.
	CloseWrite() error
	SyscallConn() (syscall.RawConn, error)
}

// tlsConn is a TLS client session over a TCP connection.
type tlsConn struct {
	*tls.Conn
	tcp *net.TCPConn
	// askedNoCert: the server asked for a client certificate and we had
	// none to give, so an alert from it means "we need one".
	askedNoCert bool
	// mismatch, when not empty: the server named the CAs it accepts and
	// our certificate is from none of them (we sent it all the same, so
	// that the server says why it refuses it).
	mismatch string
}

// clientCertificate picks the certificate to show the server: the first
// that the server's request accepts; failing that, the first we have (crypto/tls
// would send none, and the server's refusal would then say "certificate
// required", hiding the real problem); none if we have none.
func (t *tlsConn) clientCertificate(certs []tls.Certificate, cri *tls.CertificateRequestInfo) *tls.Certificate {
	if len(certs) == 0 {
		t.askedNoCert = true
		return &tls.Certificate{} // send none: the server may not insist
	}
	for i := range certs {
		if cri.SupportsCertificate(&certs[i]) == nil {
			return &certs[i]
		}
	}
	var names []string
	for _, raw := range cri.AcceptableCAs {
		var n pkix.RDNSequence
		if _, err := asn1.Unmarshal(raw, &n); err == nil {
			var name pkix.Name
			name.FillFromRDNSequence(&n)
			names = append(names, strconvQuote(name.String()))
		}
	}
	t.mismatch = "the server accepts client certificates from " + strings.Join(names, ", ")
	if len(certs[0].Certificate) > 0 {
		if leaf, err := x509.ParseCertificate(certs[0].Certificate[0]); err == nil {
			t.mismatch = "our certificate is issued by " + strconvQuote(leaf.Issuer.String()) + ", " + t.mismatch
		}
	}
	return &certs[0]
}

// Read reads decrypted bytes. An alert from the server is turned into a
// *TLSError: in TLS 1.3 the server judges our certificate after our side
// of the handshake is over, so its refusal arrives with the first read.
func (t *tlsConn) Read(p []byte) (int, error) {
	n, err := t.Conn.Read(p)
	if err != nil {
		err = t.classify(err)
	}
	return n, err
}

// CloseWrite sends close_notify, then half-closes the TCP connection, so
// that the server sees both the TLS end of data and the FIN, and answers
// still in flight can be read until its own FIN (Conn.Close drains).
func (t *tlsConn) CloseWrite() error {
	err := t.Conn.CloseWrite()
	if werr := t.tcp.CloseWrite(); err == nil {
		err = werr
	}
	return err
}

// Close closes the TCP connection. Not tls.Conn.Close: that sends
// close_notify first and may block for seconds on a peer that stopped
// reading, and a link that is failed must close at once. A graceful close
// has sent close_notify already (CloseWrite).
func (t *tlsConn) Close() error { return t.tcp.Close() }

// SyscallConn returns the TCP socket's raw connection (socket options).
func (t *tlsConn) SyscallConn() (syscall.RawConn, error) { return t.tcp.SyscallConn() }

// tlsConfig prepares the Conn's TLS configuration: at least TLS 1.2,
// and the server name taken from the address unless set, so that the
// server's certificate is checked against the host we dial (an IP address
// is checked against the certificate's IP SANs).
func tlsConfig(cfg *tls.Config, addr string) *tls.Config {
	cfg = cfg.Clone()
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	if cfg.ServerName == "" {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			cfg.ServerName = host
		} else {
			cfg.ServerName = addr
		}
	}
	return cfg
}

// handshake runs the TLS client handshake over tc within ctx. On failure it
// closes tc and returns a *TLSError that names the problem.
func (c *Conn) handshake(ctx context.Context, tc *net.TCPConn) (*tlsConn, error) {
	cfg := c.tls.Clone()
	t := &tlsConn{tcp: tc}
	if cfg.GetClientCertificate == nil {
		certs := cfg.Certificates
		cfg.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return t.clientCertificate(certs, cri), nil
		}
	}
	t.Conn = tls.Client(tc, cfg)
	if err := t.HandshakeContext(ctx); err != nil {
		tc.Close()
		if ctx.Err() != nil && !errors.As(err, new(*TLSError)) {
			return nil, &TLSError{Kind: ErrTLSHandshake, Err: err,
				Detail: "no TLS handshake within the dial timeout: is " + c.addr + " a Modbus/TCP Security (TLS) server?"}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
			return nil, &TLSError{Kind: ErrTLSHandshake, Err: err,
				Detail: "the server closed the connection during the handshake: a plain Modbus/TCP server (port 502) on this port? (" + err.Error() + ")"}
		}
		return nil, t.classify(err)
	}
	st := t.ConnectionState()
	c.log.Info().Str("tls_version", tls.VersionName(st.Version)).
		Str("cipher", tls.CipherSuiteName(st.CipherSuite)).Str("server", subjectOf(st.PeerCertificates)).
		Msg("tls handshake done")
	return t, nil
}

// classify is classifyTLS with what this session knows.
func (t *tlsConn) classify(err error) error {
	err = classifyTLS(err, t.askedNoCert)
	if te, ok := err.(*TLSError); ok && t.mismatch != "" && te.Kind == ErrTLSClientCertRejected {
		te.Detail += "; " + t.mismatch
	}
	return err
}

// peekTLS is peek (write.go) for a TLS link: before a request is written,
// it asks the kernel, without reading, whether the peer's FIN or reset has
// come while the link idled (one poll system call). If so, what came
// before it (answers, a close_notify) is read through TLS now, which cannot
// wait since the stream has ended, and the link goes down, so the request,
// not sent, moves to the next link. A peek that reads would not do: a TLS
// 1.3 session ticket is data to the kernel, and reading it through TLS
// waits for application data that will not come before the request. The
// caller holds rlock and wlock, and the buffer is empty.
func (l *link) peekTLS() error {
	t, ok := l.nc.(*tlsConn)
	if !ok || !peerEnded(t.tcp) {
		return nil
	}
	rs := &l.rs
	rs.dl = time.Now().Add(l.c.opts.Timeout)
	l.nc.SetReadDeadline(rs.dl)
	for l.cause() == nil {
		err := rs.fill(l.nc)
		if err != nil {
			l.fail(readError(err))
			break
		}
		l.routeBuffered()
	}
	return l.cause()
}

// The kinds of TLS failure, for errors.Is. Each failure is a *TLSError
// whose Kind is one of these and whose Detail says exactly what was wrong.
var (
	ErrTLSCertExpired        = errors.New("tls: the server's certificate has expired")
	ErrTLSCertNotYetValid    = errors.New("tls: the server's certificate is not valid yet")
	ErrTLSUnknownCA          = errors.New("tls: the server's certificate is not signed by a trusted CA")
	ErrTLSWrongHost          = errors.New("tls: the server's certificate is not for this host")
	ErrTLSClientCertRequired = errors.New("tls: the server demands a client certificate and none is configured")
	ErrTLSClientCertRejected = errors.New("tls: the server refused our client certificate")
	ErrTLSNotTLS             = errors.New("tls: the server does not speak TLS")
	ErrTLSVersion            = errors.New("tls: no TLS version in common (1.2 or newer is required)")
	ErrTLSHandshake          = errors.New("tls: handshake failed")
)

// TLSError is a TLS failure: which kind (one of the ErrTLS* values), what
// exactly, and the crypto/tls or crypto/x509 error underneath.
type TLSError struct {
	Kind   error
	Detail string
	Err    error
}

// Error is the kind of failure, then its detail and the underlying error.
func (e *TLSError) Error() string {
	if e.Detail == "" {
		return e.Kind.Error() + ": " + e.Err.Error()
	}
	return e.Kind.Error() + ": " + e.Detail
}

// Unwrap returns both the kind and the underlying error, so errors.Is works
// with either and errors.As finds the x509 error.
func (e *TLSError) Unwrap() []error { return []error{e.Kind, e.Err} }

// TLS alert numbers [RFC 8446 §6], for the server's refusals.
const (
	alertHandshakeFailure    = 40
	alertBadCertificate      = 42
	alertUnsupportedCert     = 43
	alertCertificateRevoked  = 44
	alertCertificateExpired  = 45
	alertCertificateUnknown  = 46
	alertUnknownCA           = 48
	alertAccessDenied        = 49
	alertProtocolVersion     = 70
	alertCertificateRequired = 116
)

// classifyTLS maps an error of crypto/tls or crypto/x509 to a *TLSError;
// other errors (EOF, resets, timeouts) are returned unchanged.
func classifyTLS(err error, askedNoCert bool) error {
	if err == nil || errors.As(err, new(*TLSError)) {
		return err
	}
	var (
		inv   x509.CertificateInvalidError
		unk   x509.UnknownAuthorityError
		hn    x509.HostnameError
		rec   tls.RecordHeaderError
		verr  *tls.CertificateVerificationError
		ope   *net.OpError
		local tls.AlertError
	)
	switch {
	case errors.As(err, &hn):
		return &TLSError{Kind: ErrTLSWrongHost, Err: err, Detail: wrongHostDetail(hn)}
	case errors.As(err, &inv) && inv.Reason == x509.Expired:
		now := time.Now()
		if inv.Cert != nil && now.Before(inv.Cert.NotBefore) {
			return &TLSError{Kind: ErrTLSCertNotYetValid, Err: err, Detail: fmt.Sprintf("%s is valid from %s, the time here is %s",
				subjectOf([]*x509.Certificate{inv.Cert}), inv.Cert.NotBefore.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))}
		}
		detail := ""
		if inv.Cert != nil {
			detail = fmt.Sprintf("%s expired at %s, the time here is %s", subjectOf([]*x509.Certificate{inv.Cert}),
				inv.Cert.NotAfter.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		}
		return &TLSError{Kind: ErrTLSCertExpired, Err: err, Detail: detail}
	case errors.As(err, &unk):
		detail := ""
		if unk.Cert != nil {
			detail = fmt.Sprintf("%s is issued by %q, which is not among the trusted CAs",
				subjectOf([]*x509.Certificate{unk.Cert}), unk.Cert.Issuer.String())
		}
		return &TLSError{Kind: ErrTLSUnknownCA, Err: err, Detail: detail}
	case errors.As(err, &verr):
		return &TLSError{Kind: ErrTLSHandshake, Err: err, Detail: "the server's certificate failed verification: " + verr.Err.Error()}
	case errors.As(err, &rec):
		return &TLSError{Kind: ErrTLSNotTLS, Err: err,
			Detail: "its first bytes are not a TLS record: a plain Modbus/TCP server on this port? (plain TCP is port 502)"}
	case errors.As(err, &local):
		return &TLSError{Kind: ErrTLSHandshake, Err: err}
	case errors.As(err, &ope) && ope.Op == "remote error":
		return remoteAlert(err, ope.Err, askedNoCert)
	}
	return err
}

// remoteAlert classifies an alert the server sent. crypto/tls reports it as
// a *net.OpError whose Err is its unexported alert type, a uint8: the
// number is read from it by reflection, not from the message.
func remoteAlert(err, alertErr error, askedNoCert bool) error {
	v := reflect.ValueOf(alertErr)
	if !v.IsValid() || v.Kind() != reflect.Uint8 || v.Type().PkgPath() != "crypto/tls" {
		return &TLSError{Kind: ErrTLSHandshake, Err: err}
	}
	said := "the server said: " + alertErr.Error()
	switch code := v.Uint(); {
	case code == alertCertificateRequired, askedNoCert && (code == alertHandshakeFailure || code == alertBadCertificate):
		return &TLSError{Kind: ErrTLSClientCertRequired, Err: err, Detail: said}
	case code == alertBadCertificate, code == alertUnsupportedCert, code == alertCertificateRevoked,
		code == alertCertificateExpired, code == alertCertificateUnknown, code == alertUnknownCA, code == alertAccessDenied:
		return &TLSError{Kind: ErrTLSClientCertRejected, Err: err, Detail: said}
	case code == alertProtocolVersion:
		return &TLSError{Kind: ErrTLSVersion, Err: err, Detail: said}
	}
	return &TLSError{Kind: ErrTLSHandshake, Err: err, Detail: said}
}

func wrongHostDetail(hn x509.HostnameError) string {
	if hn.Certificate == nil {
		return hn.Error()
	}
	var names []string
	names = append(names, hn.Certificate.DNSNames...)
	for _, ip := range hn.Certificate.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return fmt.Sprintf("%s names no host at all (no subject alternative names), we dialled %q", subjectOf([]*x509.Certificate{hn.Certificate}), hn.Host)
	}
	return fmt.Sprintf("%s is valid for %s, not for %q", subjectOf([]*x509.Certificate{hn.Certificate}), strings.Join(names, ", "), hn.Host)
}

// subjectOf names the leaf certificate of a chain for messages and logs.
func subjectOf(certs []*x509.Certificate) string {
	if len(certs) == 0 || certs[0] == nil {
		return "(no certificate)"
	}
	return "certificate " + strconvQuote(certs[0].Subject.String())
}

func strconvQuote(s string) string { return fmt.Sprintf("%q", s) }
