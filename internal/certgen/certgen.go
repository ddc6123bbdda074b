// Package certgen makes a small test PKI for Modbus/TCP Security: a CA, a
// server certificate for given host names and addresses, and client
// certificates that carry roles in the extension OID 1.3.6.1.4.1.50316.802.1
// (MODBUS-NOTES §4.4). The tests make their certificates with it, so no key
// is ever committed, and `plcsim certs` writes the same set to a directory.
// Keys are ECDSA P-256.
package certgen

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
	"time"

	"github.com/plcctl/plcctl/access"
)

// CA is a certificate authority that issues server and client certificates.
type CA struct {
	Cert *x509.Certificate
	DER  []byte
	Key  crypto.Signer
}

// Leaf is an issued certificate with its key.
type Leaf struct {
	Cert *x509.Certificate
	DER  []byte
	Key  crypto.Signer
	CA   *CA
}

// Validity is a certificate's time window.
type Validity struct{ NotBefore, NotAfter time.Time }

// Valid returns a window from an hour ago to d from now.
func Valid(d time.Duration) Validity {
	now := time.Now()
	return Validity{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(d)}
}

// NewCA makes a self-signed CA named name.
func NewCA(name string, v Validity) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"plcsim test PKI"}},
		NotBefore:             v.NotBefore,
		NotAfter:              v.NotAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, DER: der, Key: key}, nil
}

// Server issues a server certificate for hosts: each is a DNS name or an
// IP address (which goes into the IP SANs).
func (ca *CA) Server(name string, hosts []string, v Validity) (*Leaf, error) {
	if len(hosts) == 0 {
		return nil, errors.New("certgen: a server certificate needs at least one host name or address")
	}
	tmpl := ca.template(name, v, x509.ExtKeyUsageServerAuth)
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return ca.issue(tmpl)
}

// Client issues a client certificate with one role extension per role:
// none, one, or (to test that case) several. Go's crypto/x509 refuses to
// make or parse a certificate with a duplicate extension, so with several
// roles the certificate is made with stand-in OIDs that are then patched
// into role OIDs and signed again; its Leaf.Cert is then nil (Go cannot
// parse it) and its DER is what a client sends.
func (ca *CA) Client(name string, roles []string, v Validity) (*Leaf, error) {
	tmpl := ca.template(name, v, x509.ExtKeyUsageClientAuth)
	for i, r := range roles {
		val, err := asn1.MarshalWithParams(r, "utf8")
		if err != nil {
			return nil, fmt.Errorf("certgen: role %q: %w", r, err)
		}
		id := access.RoleOID
		if i > 0 {
			id = standIn(i)
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: id, Value: val})
	}
	l, err := ca.issue(tmpl)
	if err != nil || len(roles) < 2 {
		return l, err
	}
	if l.DER, err = ca.patchRoles(l.DER, len(roles)); err != nil {
		return nil, err
	}
	l.Cert = nil
	return l, nil
}

// standIn is an OID as long as RoleOID in DER (the last arc differs).
func standIn(i int) asn1.ObjectIdentifier {
	id := slices.Clone(access.RoleOID)
	id[len(id)-1] = 100 + i
	return id
}

// patchRoles replaces the stand-in OIDs of der by RoleOID and signs the
// certificate again.
func (ca *CA) patchRoles(der []byte, n int) ([]byte, error) {
	var c struct {
		TBS    asn1.RawValue
		SigAlg asn1.RawValue
		Sig    asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &c); err != nil {
		return nil, err
	}
	role, _ := asn1.Marshal(access.RoleOID)
	tbs := slices.Clone(c.TBS.FullBytes)
	for i := 1; i < n; i++ {
		old, _ := asn1.Marshal(standIn(i))
		if len(old) != len(role) || !bytes.Contains(tbs, old) {
			return nil, errors.New("certgen: cannot patch the role extensions")
		}
		tbs = bytes.Replace(tbs, old, role, 1)
	}
	sum := sha256.Sum256(tbs)
	sig, err := ca.Key.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	c.TBS = asn1.RawValue{FullBytes: tbs}
	c.Sig = asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}
	return asn1.Marshal(c)
}

func (ca *CA) template(name string, v Validity, usage x509.ExtKeyUsage) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: name, Organization: []string{"plcsim test PKI"}},
		NotBefore:    v.NotBefore,
		NotAfter:     v.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
}

func (ca *CA) issue(tmpl *x509.Certificate) (*Leaf, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Leaf{Cert: cert, DER: der, Key: key, CA: ca}, nil
}

// Pool returns a pool holding only this CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// CertPEM returns the CA certificate in PEM.
func (ca *CA) CertPEM() []byte { return CertPEM(ca.DER) }

// TLS returns the certificate and key for a tls.Config.
func (l *Leaf) TLS() tls.Certificate {
	c := tls.Certificate{Certificate: [][]byte{l.DER}, PrivateKey: l.Key}
	if l.Cert != nil {
		c.Leaf = l.Cert
	}
	return c
}

// CertPEM returns the certificate in PEM.
func (l *Leaf) CertPEM() []byte { return CertPEM(l.DER) }

// KeyPEM returns the private key in PEM (PKCS #8).
func (l *Leaf) KeyPEM() ([]byte, error) { return KeyPEM(l.Key) }

// CertPEM encodes a DER certificate as PEM.
func CertPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// KeyPEM encodes a private key as PKCS #8 PEM.
func KeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic("certgen: no randomness: " + err.Error())
	}
	return n
}
