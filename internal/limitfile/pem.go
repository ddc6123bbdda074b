package limitfile

import "crypto/tls"

// MaxPEM bounds a certificate, key or CA file: a chain of a few
// certificates is a few kB, and /dev/zero given by mistake is not read to
// the end.
const MaxPEM = 1 << 20

// KeyPair is tls.LoadX509KeyPair with each file read up to MaxPEM.
func KeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := Read(certFile, MaxPEM)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := Read(keyFile, MaxPEM)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}
