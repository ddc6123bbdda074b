// Package testutil holds helpers shared by the tests of several packages.
package testutil

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/plcctl/plcctl/internal/certgen"
)

// SyncBuffer is an io.Writer that a test can read while other goroutines
// write to it (a logger, a command's output).
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Bytes returns a copy of everything written so far.
func (s *SyncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// WaitFor polls cond on a ticker until it holds, and fails the test naming
// what it waited for if d passes first.
func WaitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
	}
}

// PKI returns the test PKI (certgen.TestPKI) and a temporary directory
// holding it as PEM files (certgen.PKI.WriteFiles: ca.pem, server.pem,
// server-key.pem, NAME.pem and NAME-key.pem per client certificate).
func PKI(t testing.TB) (*certgen.PKI, string) {
	t.Helper()
	p, err := certgen.TestPKI()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := p.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	return p, dir
}
