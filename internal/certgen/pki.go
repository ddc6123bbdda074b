package certgen

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// PKI is the set of certificates the tests use: a CA and its server
// certificate for 127.0.0.1, ::1 and localhost; server certificates that
// are expired, not valid yet, for another host, or from another CA; and
// client certificates by name:
//
//	operator, viewer   one role each
//	none               no role extension
//	two-roles          two role extensions (operator and viewer): no role
//	unknown-role       role "maintenance", which no default rule names
//	expired            role operator, expired an hour ago
//	other-ca           role operator, issued by another CA
type PKI struct {
	CA, OtherCA *CA
	Server      *Leaf            // valid, for 127.0.0.1, ::1, localhost
	Servers     map[string]*Leaf // "expired", "not-yet-valid", "wrong-host", "other-ca"
	Clients     map[string]*Leaf
}

// LoopbackHosts are the names and addresses of the test server certificate.
var LoopbackHosts = []string{"127.0.0.1", "::1", "localhost"}

var (
	pkiOnce sync.Once
	pki     *PKI
	pkiErr  error
)

// TestPKI returns the test certificates, made once per process.
func TestPKI() (*PKI, error) {
	pkiOnce.Do(func() { pki, pkiErr = newTestPKI() })
	return pki, pkiErr
}

func newTestPKI() (*PKI, error) {
	day := 24 * time.Hour
	now := time.Now()
	expired := Validity{NotBefore: now.Add(-2 * day), NotAfter: now.Add(-time.Hour)}
	future := Validity{NotBefore: now.Add(day), NotAfter: now.Add(2 * day)}
	p := &PKI{Servers: map[string]*Leaf{}, Clients: map[string]*Leaf{}}
	var err error
	if p.CA, err = NewCA("plcsim test CA", Valid(day)); err != nil {
		return nil, err
	}
	if p.OtherCA, err = NewCA("some other CA", Valid(day)); err != nil {
		return nil, err
	}
	type job struct {
		into  map[string]*Leaf
		name  string
		ca    *CA
		v     Validity
		hosts []string // server when set
		roles []string
	}
	jobs := []job{
		{p.Servers, "valid", p.CA, Valid(day), LoopbackHosts, nil},
		{p.Servers, "expired", p.CA, expired, LoopbackHosts, nil},
		{p.Servers, "not-yet-valid", p.CA, future, LoopbackHosts, nil},
		{p.Servers, "wrong-host", p.CA, Valid(day), []string{"plc7.example", "10.99.0.7"}, nil},
		{p.Servers, "other-ca", p.OtherCA, Valid(day), LoopbackHosts, nil},
		{p.Clients, "operator", p.CA, Valid(day), nil, []string{"operator"}},
		{p.Clients, "viewer", p.CA, Valid(day), nil, []string{"viewer"}},
		{p.Clients, "none", p.CA, Valid(day), nil, nil},
		{p.Clients, "two-roles", p.CA, Valid(day), nil, []string{"operator", "viewer"}},
		{p.Clients, "unknown-role", p.CA, Valid(day), nil, []string{"maintenance"}},
		{p.Clients, "expired", p.CA, expired, nil, []string{"operator"}},
		{p.Clients, "other-ca", p.OtherCA, Valid(day), nil, []string{"operator"}},
	}
	for _, j := range jobs {
		var l *Leaf
		if j.hosts != nil {
			l, err = j.ca.Server("plcsim "+j.name, j.hosts, j.v)
		} else {
			l, err = j.ca.Client("client "+j.name, j.roles, j.v)
		}
		if err != nil {
			return nil, err
		}
		j.into[j.name] = l
	}
	p.Server = p.Servers["valid"]
	return p, nil
}

// ServerTLS returns a server configuration with the named server
// certificate ("valid" or a key of Servers) that verifies clients
// against the CA.
func (p *PKI) ServerTLS(name string) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{p.Servers[name].TLS()}, ClientCAs: p.CA.Pool()}
}

// ClientTLS returns a client configuration that trusts the CA and shows
// the named client certificate ("" for none).
func (p *PKI) ClientTLS(name string) *tls.Config {
	cfg := &tls.Config{RootCAs: p.CA.Pool()}
	if name != "" {
		cfg.Certificates = []tls.Certificate{p.Clients[name].TLS()}
	}
	return cfg
}

// WriteFiles writes the PKI as PEM files into dir, keys with mode 0600:
// ca.pem, other-ca.pem, server.pem and server-key.pem (the valid server
// certificate), and NAME.pem, NAME-key.pem for each client certificate.
func (p *PKI) WriteFiles(dir string) error {
	files := map[string][]byte{"ca.pem": p.CA.CertPEM(), "other-ca.pem": p.OtherCA.CertPEM()}
	leaves := map[string]*Leaf{"server": p.Server}
	for name, l := range p.Clients {
		leaves[name] = l
	}
	for name, l := range leaves {
		key, err := l.KeyPEM()
		if err != nil {
			return err
		}
		files[name+".pem"], files[name+"-key.pem"] = l.CertPEM(), key
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}
