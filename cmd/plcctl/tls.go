package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/plcctl/plcctl/internal/limitfile"
	"github.com/plcctl/plcctl/transport"
)

// tlsOptions are the shared flags of Modbus/TCP Security (README
// "Security"): a client certificate, the CA that signed the device's, and
// the unsafe switch that skips the device's check.
type tlsOptions struct {
	cert, key, ca string
	insecure      bool
}

const (
	tlsCertEnv = "PLCCTL_TLS_CERT"
	tlsKeyEnv  = "PLCCTL_TLS_KEY"
	tlsCAEnv   = "PLCCTL_TLS_CA"
)

func (o *tlsOptions) addFlags(fs *pflag.FlagSet, d tlsOptions) {
	fs.StringVar(&o.cert, "tls-cert", d.cert, "speak Modbus/TCP Security (TLS, port 802 if omitted) with this client certificate `FILE` (PEM; env "+tlsCertEnv+")")
	fs.StringVar(&o.key, "tls-key", d.key, "the client certificate's private key `FILE` (PEM; env "+tlsKeyEnv+")")
	fs.StringVar(&o.ca, "tls-ca", d.ca, "CA certificates `FILE` (PEM) the device's certificate must be signed by (env "+tlsCAEnv+"; default: the system's)")
	fs.BoolVar(&o.insecure, "tls-insecure-skip-verify", d.insecure, "UNSAFE: do not check the device's certificate (anyone on the path can read and change values)")
}

// on reports whether the connection is TLS.
func (o *tlsOptions) on() bool { return o.cert != "" || o.key != "" || o.ca != "" || o.insecure }

// fromEnv fills the flags not given from the environment (not in the
// shell: its lines inherit the shell's).
func (o *tlsOptions) fromEnv(fs *pflag.FlagSet) {
	for _, e := range []struct {
		flag, env string
		p         *string
	}{{"tls-cert", tlsCertEnv, &o.cert}, {"tls-key", tlsKeyEnv, &o.key}, {"tls-ca", tlsCAEnv, &o.ca}} {
		if !fs.Changed(e.flag) {
			if v := os.Getenv(e.env); v != "" {
				*e.p = v
			}
		}
	}
}

func (o *tlsOptions) check() error {
	switch {
	case o.cert != "" && o.key == "":
		return usagef("--tls-cert needs --tls-key (the certificate's private key; env %s)", tlsKeyEnv)
	case o.key != "" && o.cert == "":
		return usagef("--tls-key needs --tls-cert (env %s)", tlsCertEnv)
	}
	return nil
}

// config loads the files into a client TLS configuration; nil when TLS is
// off. A file that cannot be used is a usage error: nothing was sent.
func (o *tlsOptions) config() (*tls.Config, error) {
	if !o.on() {
		return nil, nil
	}
	cfg := &tls.Config{InsecureSkipVerify: o.insecure}
	if o.cert != "" {
		cert, err := limitfile.KeyPair(o.cert, o.key)
		if err != nil {
			return nil, usagef("--tls-cert %s / --tls-key %s: %s", o.cert, o.key, strings.TrimPrefix(err.Error(), "tls: "))
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if o.ca != "" {
		pem, err := limitfile.Read(o.ca, limitfile.MaxPEM)
		if err != nil {
			return nil, usagef("--tls-ca: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, usagef("--tls-ca %s: no PEM certificate in it", o.ca)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// insecureWarning is printed on stderr whenever a connection skips the
// device's certificate check.
const insecureWarning = `plcctl: WARNING: --tls-insecure-skip-verify: the device's certificate is NOT checked.
plcctl: WARNING: anyone on the network path can pose as the PLC, read every value and change every write.
plcctl: WARNING: use --tls-ca with the CA that signed the device's certificate instead.
`

// tlsConfig returns the TLS configuration for a dial, warning loudly (once
// per run) when the device's certificate is not checked.
func (a *app) tlsConfig() (*tls.Config, error) {
	cfg, err := a.opts.tls.config()
	if err == nil && cfg != nil && cfg.InsecureSkipVerify && !a.warnedInsecure {
		fmt.Fprint(a.stderr, insecureWarning)
		a.warnedInsecure = true
	}
	return cfg, err
}

// deviceAddress is --address with the default port: 802 (Modbus/TCP
// Security) with TLS, 502 without.
func (a *app) deviceAddress() string {
	if !a.opts.tls.on() {
		return normalizeAddress(a.opts.address)
	}
	s := a.opts.address
	if _, _, err := net.SplitHostPort(s); err == nil {
		return s
	}
	if strings.Count(s, ":") > 1 && !strings.HasPrefix(s, "[") {
		return net.JoinHostPort(s, transport.DefaultTLSPort)
	}
	return net.JoinHostPort(strings.Trim(s, "[]"), transport.DefaultTLSPort)
}

// explainTLS says why a TLS connection failed and what to try.
func explainTLS(te *transport.TLSError) (why, try string) {
	why = strings.TrimPrefix(te.Error(), "tls: ")
	switch {
	case errors.Is(te, transport.ErrTLSCertExpired), errors.Is(te, transport.ErrTLSCertNotYetValid):
		try = "renew the device's certificate, or check this machine's clock"
	case errors.Is(te, transport.ErrTLSUnknownCA):
		try = "give the CA that signed the device's certificate with --tls-ca FILE (env " + tlsCAEnv + ")"
	case errors.Is(te, transport.ErrTLSWrongHost):
		try = "connect with -a using a name or address the certificate lists, or issue the device a certificate for this one"
	case errors.Is(te, transport.ErrTLSClientCertRequired):
		try = "give your certificate with --tls-cert FILE --tls-key FILE (env " + tlsCertEnv + ", " + tlsKeyEnv + ")"
	case errors.Is(te, transport.ErrTLSClientCertRejected):
		try = "the device does not accept your certificate: check that it is signed by a CA the device trusts and is still valid"
	case errors.Is(te, transport.ErrTLSHandshake) && closedHow(te) != "":
		// The transport's detail ends with the socket's own words, which
		// the sentence need not repeat.
		why = "the TLS handshake failed: the device " + closedHow(te) + " the connection at our TLS hello, as a plain Modbus/TCP device would"
		try = "if the device speaks plain Modbus/TCP, leave out the --tls-* flags (plain TCP is port 502); " +
			"if it serves Modbus/TCP Security, check that this is its TLS port"
	case errors.Is(te, transport.ErrTLSNotTLS):
		try = "the device speaks plain Modbus/TCP: leave out the --tls-* flags (plain TCP is port 502)"
	case errors.Is(te, transport.ErrTLSVersion):
		try = "the device speaks only TLS older than 1.2, which Modbus/TCP Security does not allow"
	default:
		try = "check that the device speaks Modbus/TCP Security (TLS) on this port; run with --log-level debug"
	}
	return why, try
}
