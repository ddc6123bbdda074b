package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plcctl/plcctl/internal/certgen"
	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plc"
	"github.com/plcctl/plcctl/transport"
)

// The rules of testdata/plants/secure-station.yaml and
// testdata/access-rules.yaml: operator reads everything and writes holding
// registers 0..99; maintenance reads and writes coils 0..7; nobody else
// anything.
const (
	securePlant = "../../testdata/plants/secure-station.yaml"
	accessRules = "../../testdata/access-rules.yaml"
)

// accessOp is one request of the custom-rules matrix.
type accessOp struct {
	name string
	do   func(ctx context.Context, c *plc.Client) error
}

var accessOps = []accessOp{
	{"read holding 50", func(ctx context.Context, c *plc.Client) error {
		_, err := c.ReadHoldingRegisters(ctx, 50, 1)
		return err
	}},
	{"write holding 50", func(ctx context.Context, c *plc.Client) error { return c.WriteRegister(ctx, 50, 9) }},
	{"write holding 150", func(ctx context.Context, c *plc.Client) error { return c.WriteRegister(ctx, 150, 9) }},
	{"read coils 0..7", func(ctx context.Context, c *plc.Client) error { _, err := c.ReadCoils(ctx, 0, 8); return err }},
	{"write coil 3", func(ctx context.Context, c *plc.Client) error { return c.WriteCoil(ctx, 3, true) }},
	{"write coil 8", func(ctx context.Context, c *plc.Client) error { return c.WriteCoil(ctx, 8, true) }},
	{"read input 0", func(ctx context.Context, c *plc.Client) error { _, err := c.ReadInputRegisters(ctx, 0, 1); return err }},
}

// accessAllowed is what the rules allow each test certificate (certgen:
// "unknown-role" carries role maintenance); a certificate not listed has
// no role the rules name, or fails the handshake.
var accessAllowed = map[string][]string{
	"operator":     {"read holding 50", "write holding 50", "read coils 0..7", "read input 0"},
	"unknown-role": {"read coils 0..7", "write coil 3"},
	"viewer":       nil, // not in the rules: the default viewer rule no longer applies
	"none":         nil,
}

// startTLSPlcsim runs plcsim in-process with the test PKI and args, and
// returns its address, its log and the PKI's directory.
func startTLSPlcsim(t *testing.T, args ...string) (string, *syncBuf, string) {
	t.Helper()
	_, dir := testutil.PKI(t)
	ctx, cancel := context.WithCancel(context.Background())
	logs := newReadyBuf()
	done := make(chan int, 1)
	args = append([]string{"--listen", "127.0.0.1:0", "--log-format", "json", "--tls-cert", filepath.Join(dir, "server.pem"),
		"--tls-key", filepath.Join(dir, "server-key.pem"), "--tls-client-ca", filepath.Join(dir, "ca.pem")}, args...)
	go func() { done <- run(ctx, args, &syncBuf{}, logs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("plcsim did not stop")
		}
	})
	return waitReady(t, logs), logs, dir
}

// TestAccessRulesGoAPI: with the rules of a plant file or of --access,
// each client certificate gets exactly what the rules give over the Go
// API: the others get exception 01, and a refused write changes nothing;
// certificates that fail the handshake get a TLS error; every refusal is
// logged with the role and the certificate's subject.
func TestAccessRulesGoAPI(t *testing.T) {
	for _, src := range []struct {
		name string
		args []string
	}{
		{"plant file", []string{"--plant", securePlant, "--log-limit", "-1"}},
		{"access file", []string{"--access", accessRules, "--holding-registers", "200", "--coils", "16", "--log-limit", "-1"}},
	} {
		t.Run(src.name, func(t *testing.T) {
			addr, logs, _ := startTLSPlcsim(t, src.args...)
			p, _ := certgen.TestPKI()
			dial := func(client string) *plc.Client {
				c, err := plc.Dial(t.Context(), addr, plc.Options{Options: transport.Options{TLS: p.ClientTLS(client), DialTimeout: 2 * time.Second}})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { c.Close() })
				return c
			}
			refused := map[string]int{}
			for client, allowed := range accessAllowed {
				c := dial(client)
				for _, o := range accessOps {
					err := o.do(t.Context(), c)
					switch want := contains(allowed, o.name); {
					case want && err != nil:
						t.Errorf("%s: %s: %v, want allowed", client, o.name, err)
					case !want && !errors.Is(err, modbus.IllegalFunction):
						t.Errorf("%s: %s: %v, want exception 01", client, o.name, err)
					case !want:
						refused[client]++
					}
				}
			}
			op := dial("operator")
			if v, err := op.ReadHoldingRegisters(t.Context(), 150, 1); err != nil || src.name == "plant file" && v[0] != 1500 || src.name != "plant file" && v[0] != 0 {
				t.Errorf("holding 150 = %v, %v after refused writes", v, err)
			}
			if v, err := op.ReadCoils(t.Context(), 8, 1); err != nil || v[0] {
				t.Errorf("coil 8 = %v, %v after refused writes", v, err)
			}
			for _, client := range []string{"two-roles", "expired", "other-ca"} {
				c, err := plc.Dial(t.Context(), addr, plc.Options{Options: transport.Options{TLS: p.ClientTLS(client), DialTimeout: 2 * time.Second}})
				if err == nil {
					_, err = c.ReadHoldingRegisters(t.Context(), 50, 1)
					c.Close()
				}
				if te := (*transport.TLSError)(nil); !errors.As(err, &te) {
					t.Errorf("%s: %v, want a TLS error", client, err)
				}
			}
			logged := map[string]int{}
			for _, line := range strings.Split(logs.String(), "\n") {
				var m map[string]any
				if json.Unmarshal([]byte(line), &m) != nil || m["message"] != "request refused: exception 01" {
					continue
				}
				subject, _ := m["subject"].(string)
				client := strings.TrimPrefix(strings.TrimSuffix(subject, ",O=plcsim test PKI"), "CN=client ")
				role := map[string]any{"operator": "operator", "unknown-role": "maintenance", "viewer": "viewer"}[client]
				if m["role"] != role && !(role == nil && m["role"] == "") {
					t.Errorf("refusal logged with role %v for %s, want %v: %s", m["role"], subject, role, line)
				}
				logged[client]++
			}
			for client, n := range refused {
				if logged[client] != n {
					t.Errorf("%s: %d refusals logged with its subject, want %d", client, logged[client], n)
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestAccessFlagErrors: --access and a plant file's access: are not
// combined; a bad rule is refused with its file and line; rules without
// TLS are accepted with a warning, and their read_only holds.
func TestAccessFlagErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("access:\n  roles:\n    viewer: {functions: [read-holding-register]}\n"), 0o600)
	badRange := filepath.Join(dir, "range.yaml")
	os.WriteFile(badRange, []byte("access:\n  roles:\n    viewer:\n      - functions: [3]\n        input_registers: [\"5-x\"]\n"), 0o600)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--plant", securePlant, "--access", accessRules}, "both give access rules: keep one"},
		{[]string{"--access", bad}, bad + `:3:26: access.roles.viewer.functions[0]: unknown function "read-holding-register"; did you mean read-holding-registers?`},
		{[]string{"--access", badRange}, badRange + `:5:27: access.roles.viewer[0].input_registers[0]: "5-x" is not a range such as 0-99`},
		{[]string{"--access", filepath.Join(dir, "nope.yaml")}, "no such file"},
		{[]string{"--access", securePlant}, "secure-station.yaml:19:1: devices: this is a plant file: serve it with --plant"},
	} {
		var out, errb syncBuf
		code := run(context.Background(), append([]string{"--listen", "127.0.0.1:0"}, tt.args...), &out, &errb)
		if code != exitUsage || !strings.Contains(errb.String(), tt.want) || strings.Count(strings.TrimSpace(errb.String()), "\n") != 0 {
			t.Errorf("run(%q) = %d, %q; want exit 2 and one line containing %q", tt.args, code, errb.String(), tt.want)
		}
	}
	// Rules without TLS: a warning; read_only holds on plain TCP too.
	ro := filepath.Join(dir, "ro.yaml")
	os.WriteFile(ro, []byte("access:\n  read_only: true\n  roles: {operator: {functions: [all]}}\n"), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := newReadyBuf()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--log-format", "json", "--access", ro}, &syncBuf{}, logs)
	}()
	addr := waitReady(t, logs)
	if !strings.Contains(logs.String(), "without --tls-cert they decide nothing") {
		t.Errorf("rules without TLS: no warning in\n%s", logs.String())
	}
	c, err := plc.Dial(t.Context(), addr, plc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WriteRegister(t.Context(), 1, 1); !errors.Is(err, modbus.IllegalFunction) {
		t.Errorf("write to a read_only plcsim over plain TCP: %v, want exception 01", err)
	}
	if _, err := c.ReadHoldingRegisters(t.Context(), 1, 1); err != nil {
		t.Errorf("read from a read_only plcsim: %v", err)
	}
	c.Close()
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("plcsim exit %d", code)
	}
}

// TestAccessFileReload: a real SIGHUP reloads --access FILE: a connection
// opened before gets the new rules with its next request; a file that
// does not load keeps the rules in force and logs one line naming its
// file:line:col; --read-only holds through a reload.
func TestAccessFileReload(t *testing.T) {
	// Without a handler of plcsim's, a SIGHUP would end the test binary:
	// this one keeps it alive, so a plcsim that ignores SIGHUP fails below.
	keep := make(chan os.Signal, 1)
	signal.Notify(keep, syscall.SIGHUP)
	defer signal.Stop(keep)
	path := filepath.Join(t.TempDir(), "rules.yaml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("access:\n  roles:\n    operator:\n      - functions: [reads]\n      - functions: [write-single-register]\n        holding_registers: [\"0-99\"]\n")
	addr, logs, _ := startTLSPlcsim(t, "--access", path, "--holding-registers", "200", "--log-limit", "-1")
	p, _ := certgen.TestPKI()
	c, err := plc.Dial(t.Context(), addr, plc.Options{Options: transport.Options{TLS: p.ClientTLS("operator"), DialTimeout: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.WriteRegister(t.Context(), 150, 1); !errors.Is(err, modbus.IllegalFunction) {
		t.Fatalf("write holding 150 under the first rules: %v, want exception 01", err)
	}
	write("access:\n  roles:\n    operator: {functions: [all]}\n")
	sighup(t)
	testutil.WaitFor(t, 5*time.Second, "the reloaded rules", func() bool { return c.WriteRegister(t.Context(), 150, 2) == nil })
	if !strings.Contains(logs.String(), `"message":"access rules reloaded"`) {
		t.Errorf("no \"access rules reloaded\" line in\n%s", logs.String())
	}

	write("access:\n  roles:\n    operator: {functions: [all]}\n    viewer: {functions: [read-holding-register]}\n")
	sighup(t)
	const notReloaded = "access rules not reloaded, the old rules stay: plant: "
	wantLine := notReloaded + path + `:4:26: access.roles.viewer.functions[0]: unknown function \"read-holding-register\"; did you mean read-holding-registers?`
	testutil.WaitFor(t, 5*time.Second, "the reload error", func() bool { return strings.Contains(logs.String(), notReloaded) })
	if n := strings.Count(logs.String(), notReloaded); n != 1 || !strings.Contains(logs.String(), wantLine) {
		t.Errorf("%d lines %q, want one with %q:\n%s", n, notReloaded, wantLine, logs.String())
	}
	if err := c.WriteRegister(t.Context(), 150, 3); err != nil {
		t.Errorf("write holding 150 after a bad file: %v, want the rules in force (all)", err)
	}

	// --read-only is not undone by a file without read_only.
	ro := filepath.Join(t.TempDir(), "ro.yaml")
	os.WriteFile(ro, []byte("access:\n  roles:\n    operator: {functions: [reads]}\n"), 0o600)
	addr, logs, _ = startTLSPlcsim(t, "--access", ro, "--read-only")
	os.WriteFile(ro, []byte("access:\n  roles:\n    operator: {functions: [all]}\n"), 0o600)
	sighup(t)
	testutil.WaitFor(t, 5*time.Second, "the reload", func() bool {
		return strings.Count(logs.String(), `"message":"access rules reloaded"`) > 0
	})
	c2, err := plc.Dial(t.Context(), addr, plc.Options{Options: transport.Options{TLS: p.ClientTLS("operator"), DialTimeout: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if err := c2.WriteRegister(t.Context(), 1, 1); !errors.Is(err, modbus.IllegalFunction) {
		t.Errorf("write to plcsim --read-only after a reload of rules allowing all: %v, want exception 01", err)
	}
}

// sighup sends this process a real SIGHUP. os.Process.Signal, not
// syscall.Kill: the file also builds for windows (make test vets every
// dist target).
func sighup(t *testing.T) {
	t.Helper()
	p, err := os.FindProcess(os.Getpid())
	if err == nil {
		err = p.Signal(syscall.SIGHUP)
	}
	if err != nil {
		t.Fatal(err)
	}
}
