package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plcctl/plcctl/access"
	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plc"
	"github.com/plcctl/plcctl/transport"
)

// TestCertsAndTLS: plcsim certs makes a CA, a server and client
// certificates; plcsim serves TLS with them; the operator writes, the
// viewer only reads, over the Go API.
func TestCertsAndTLS(t *testing.T) {
	dir := t.TempDir()
	var out, errb syncBuf
	if code := run(context.Background(), []string{"certs", "--out", dir, "--roles", "operator,viewer"}, &out, &errb); code != 0 {
		t.Fatalf("plcsim certs = %d: %s", code, errb.String())
	}
	for _, f := range []string{"ca.pem", "server.pem", "client-operator.pem", "client-viewer.pem"} {
		if !strings.Contains(out.String(), filepath.Join(dir, f)) {
			t.Errorf("plcsim certs did not list %s:\n%s", f, out.String())
		}
	}
	for _, f := range []string{"ca-key.pem", "server-key.pem", "client-operator-key.pem"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", f, err, st.Mode())
		}
	}
	if code := run(context.Background(), []string{"certs", "--out", dir}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "--force") {
		t.Errorf("plcsim certs over existing files = %d, %s; want 1 and a hint at --force", code, errb.String())
	}
	pemCert, _ := os.ReadFile(filepath.Join(dir, "client-viewer.pem"))
	leaf, _ := tls.X509KeyPair(pemCert, must(os.ReadFile(filepath.Join(dir, "client-viewer-key.pem"))))
	if role, err := access.Role(leaf.Leaf); role != "viewer" || err != nil {
		t.Errorf("client-viewer.pem role = %q, %v", role, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := newReadyBuf()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--log-format", "json",
			"--tls-cert", filepath.Join(dir, "server.pem"), "--tls-key", filepath.Join(dir, "server-key.pem"),
			"--tls-client-ca", filepath.Join(dir, "ca.pem")}, &out, errs)
	}()
	addr := waitReady(t, errs)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(must(os.ReadFile(filepath.Join(dir, "ca.pem"))))
	client := func(role string) *plc.Client {
		cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "client-"+role+".pem"), filepath.Join(dir, "client-"+role+"-key.pem"))
		if err != nil {
			t.Fatal(err)
		}
		c, err := plc.Dial(t.Context(), addr, plc.Options{Options: transport.Options{
			TLS: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	op, viewer := client("operator"), client("viewer")
	if err := op.WriteRegister(t.Context(), 7, 77); err != nil {
		t.Fatalf("operator write: %v", err)
	}
	if err := viewer.WriteRegister(t.Context(), 7, 1); !errors.Is(err, modbus.IllegalFunction) {
		t.Fatalf("viewer write = %v, want exception 01", err)
	}
	regs, err := viewer.ReadHoldingRegisters(t.Context(), 7, 1)
	if err != nil || regs[0] != 77 {
		t.Fatalf("viewer read = %v, %v; want [77]", regs, err)
	}
	op.Close()
	viewer.Close()
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("plcsim exit %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("plcsim did not stop")
	}
}

func TestSecurityFlagErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--tls-cert", "x.pem"}, "all three of --tls-cert, --tls-key and --tls-client-ca"},
		{[]string{"--tls-cert", "/nonexistent.pem", "--tls-key", "k", "--tls-client-ca", "c"}, "--tls-cert /nonexistent.pem"},
		{[]string{"--allow", "127.0.0.1/33"}, `--allow: "127.0.0.1/33"`},
		{[]string{"--allow", "localhost"}, "neither an address nor a network"},
		{[]string{"--max-conns-per-ip", "-1"}, "--max-conns-per-ip -1"},
		{[]string{"certs"}, "--out DIR is required"},
		{[]string{"certs", "--out", t.TempDir(), "--roles", "../x"}, "cannot be part of a file name"},
	} {
		var out, errb syncBuf
		code := run(context.Background(), tt.args, &out, &errb)
		if code == 0 || !strings.Contains(errb.String(), tt.want) {
			t.Errorf("run(%q) = %d, %q; want an error containing %q", tt.args, code, errb.String(), tt.want)
		}
	}
	if got, err := parseAllow("127.0.0.1, ::1,10.1.2.3/8"); err != nil || len(got) != 3 || got[0].String() != "127.0.0.1/32" ||
		got[1].String() != "::1/128" || got[2].String() != "10.0.0.0/8" {
		t.Errorf("parseAllow = %v, %v", got, err)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestTLSFileTooLarge: --tls-cert, --tls-key and --tls-client-ca are read
// up to 1 MiB; a wrong file (/dev/zero) was read whole.
func TestTLSFileTooLarge(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.pem")
	if err := os.WriteFile(big, make([]byte, 1<<20+1), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"certs", "--out", dir}, &out, &errb); code != 0 {
		t.Fatalf("plcsim certs: exit %d: %s", code, errb.String())
	}
	cert, key := filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	for _, files := range [][3]string{{big, key, big}, {cert, big, big}, {cert, key, big}} {
		if _, err := serverTLS(files[0], files[1], files[2]); err == nil || !strings.Contains(err.Error(), big+" is larger than 1 MiB") {
			t.Errorf("serverTLS(%q) = %v", files, err)
		}
	}
}
