package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// alertKind is the kind of *TLSError a fatal alert from the server gives
// before we were asked for a certificate (remoteAlert).
func alertKind(code byte) error {
	switch code {
	case alertCertificateRequired:
		return ErrTLSClientCertRequired
	case alertBadCertificate, alertUnsupportedCert, alertCertificateRevoked, alertCertificateExpired,
		alertCertificateUnknown, alertUnknownCA, alertAccessDenied:
		return ErrTLSClientCertRejected
	case alertProtocolVersion:
		return ErrTLSVersion
	}
	return ErrTLSHandshake
}

// FuzzTLSAnswer: whatever a server on 127.0.0.1 answers to our ClientHello
// (then closing, or holding the connection open), Dial fails within its
// deadline, with an error on one line; a handshake cannot succeed against
// an empty set of trusted CAs. A fatal alert record alone is a *TLSError of
// the kind its code means: this reads crypto/tls's unexported alert type
// by reflection, which a Go release could change.
func FuzzTLSAnswer(f *testing.F) {
	for _, code := range []byte{40, 42, 46, 48, 49, 70, 80, 116} {
		f.Add([]byte{21, 3, 3, 0, 2, 2, code}, false)
	}
	f.Add([]byte{0, 1, 0, 0, 0, 3, 1, 0x83, 2}, false)    // a plain Modbus exception answer
	f.Add([]byte{22, 3, 3, 0, 4, 2, 0, 0, 0}, false)      // a truncated ServerHello
	f.Add([]byte{22, 3, 3, 0x40, 0, 2, 0, 0x3F, 0}, true) // a record announced as 16 KiB, then silence
	f.Add([]byte{21, 3, 3, 0, 2, 1, 0}, false)            // close_notify
	f.Add([]byte{}, true)
	f.Fuzz(func(t *testing.T, answer []byte, hold bool) {
		fk := startFake(t, func(c *fakeConn) {
			c.SetDeadline(time.Now().Add(2 * time.Second))
			c.Read(make([]byte, 4096)) // the ClientHello, or its start
			c.Write(answer)
			if hold {
				io.Copy(io.Discard, c)
			}
		})
		o := Options{TLS: &tls.Config{ServerName: "plc", RootCAs: x509.NewCertPool()}, Timeout: 50 * time.Millisecond, DialTimeout: 50 * time.Millisecond,
			Backoff: func(int) time.Duration { return time.Millisecond }}
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		c, err := Dial(ctx, fk.addr, o)
		if err == nil {
			c.Close()
			t.Fatalf("Dial succeeded against the answer % x", answer)
		}
		if ctx.Err() != nil || strings.Contains(err.Error(), "\n") {
			t.Fatalf("answer % x: Dial = %q after the test's deadline, or on several lines", answer, err)
		}
		if len(answer) == 7 && answer[0] == 21 && answer[1] == 3 && answer[3] == 0 && answer[4] == 2 && answer[5] == 2 && answer[6] != 0 {
			var te *TLSError
			if want := alertKind(answer[6]); !errors.As(err, &te) || !errors.Is(err, want) {
				t.Fatalf("fatal alert %d: Dial = %v, want a *TLSError of kind %q", answer[6], err, want)
			}
		}
	})
}
