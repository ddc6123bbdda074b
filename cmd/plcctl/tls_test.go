package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plcctl/plcctl/access"
	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

func clientFlags(dir, name string) []string {
	return []string{"--tls-cert", filepath.Join(dir, name+".pem"), "--tls-key", filepath.Join(dir, name+"-key.pem")}
}

// TestTLSAccessCLI: each client certificate gets exactly the access the
// rules give, through plcctl: exit 0 when allowed, 3 with a sentence that
// names the role when refused; certificate problems exit 1 (2 when the
// file itself is unusable) with their own message.
func TestTLSAccessCLI(t *testing.T) {
	p, dir := testutil.PKI(t)
	restricted := access.Policy{Rules: []access.Rule{
		{Role: "operator", Functions: access.ReadFunctions()},
		{Role: "operator", Functions: []modbus.FunctionCode{6, 16}, Ranges: map[access.Table][]access.Range{access.HoldingRegisters: {{First: 0, Last: 99}}}},
	}}
	for _, pc := range []struct {
		name   string
		policy access.Policy
	}{{"default rules", access.Policy{}}, {"rules", restricted}} {
		t.Run(pc.name, func(t *testing.T) {
			sim := simtest.Start(t, simulator.Config{Security: simulator.Security{TLS: p.ServerTLS("valid"), Policy: pc.policy}})
			base := []string{"-a", sim.Addr, "--tls-ca", filepath.Join(dir, "ca.pem")}
			tests := []struct {
				client   string
				args     []string
				code     int
				contains string
			}{
				{"operator", []string{"write-register", "50", "7"}, 0, "wrote 1 register"},
				{"operator", []string{"read-holding-registers", "50"}, 0, "50  7"},
				{"viewer", []string{"read-holding-registers", "50"}, 0, "50  7"},
				{"viewer", []string{"write-register", "50", "8"}, 3, "role in your certificate may not use it"},
				{"none", []string{"read-holding-registers", "50"}, 3, "exception 01"},
				{"unknown-role", []string{"read-coils", "0"}, 3, "exception 01"},
				{"expired", []string{"read-holding-registers", "50"}, 1, "refused our client certificate"},
				{"other-ca", []string{"read-holding-registers", "50"}, 1, "refused our client certificate"},
				{"two-roles", []string{"read-holding-registers", "50"}, 2, "duplicate extension"},
			}
			if pc.name == "rules" {
				tests = append(tests,
					struct {
						client   string
						args     []string
						code     int
						contains string
					}{"operator", []string{"write-register", "150", "1"}, 3, "exception 01"},
					struct {
						client   string
						args     []string
						code     int
						contains string
					}{"viewer", []string{"read-holding-registers", "50"}, 3, "exception 01"})
				tests[2].code, tests[2].contains = 3, "exception 01" // viewer has no rule any more
			}
			for _, tt := range tests {
				r := runCLI(t, append(append(append([]string{}, base...), clientFlags(dir, tt.client)...), tt.args...)...)
				if r.code != tt.code || !strings.Contains(r.stdout+r.stderr, tt.contains) {
					t.Errorf("%s %v: exit %d, want %d containing %q\nstdout: %s\nstderr: %s", tt.client, tt.args, r.code, tt.code, tt.contains, r.stdout, r.stderr)
				}
			}
			if v := sim.HoldingRegisters(50, 1)[0]; v != 7 {
				t.Errorf("holding 50 = %d, want 7: a refused write went through", v)
			}
		})
	}
}

// TestTLSProblemsCLI: the device's certificate problems and missing pieces
// each get their own sentence and advice.
func TestTLSProblemsCLI(t *testing.T) {
	p, dir := testutil.PKI(t)
	ca := filepath.Join(dir, "ca.pem")
	read := []string{"read-holding-registers", "0"}
	for _, tt := range []struct {
		name, server string
		args         []string
		code         int
		want         []string
	}{
		{"expired", "expired", []string{"--tls-ca", ca}, 1, []string{"certificate has expired", "renew the device's certificate"}},
		{"not yet valid", "not-yet-valid", []string{"--tls-ca", ca}, 1, []string{"not valid yet", "clock"}},
		{"unknown CA", "valid", []string{"--tls-ca", filepath.Join(dir, "other-ca.pem")}, 1, []string{"not signed by a trusted CA", "--tls-ca FILE"}},
		{"wrong host", "wrong-host", []string{"--tls-ca", ca}, 1, []string{"not for this host", `plc7.example, 10.99.0.7, not for "127.0.0.1"`}},
		{"no client certificate", "valid", []string{"--tls-ca", ca}, 1, []string{"demands a client certificate", "--tls-cert FILE --tls-key FILE"}},
		{"insecure", "wrong-host", []string{"--tls-insecure-skip-verify"}, 0, []string{"WARNING: --tls-insecure-skip-verify: the device's certificate is NOT checked"}},
		{"cert without key", "valid", []string{"--tls-cert", filepath.Join(dir, "operator.pem")}, 2, []string{"--tls-cert needs --tls-key"}},
		{"missing CA file", "valid", []string{"--tls-ca", filepath.Join(dir, "nope.pem")}, 2, []string{"--tls-ca: open"}},
		{"key of another certificate", "valid", []string{"--tls-ca", ca, "--tls-cert", filepath.Join(dir, "operator.pem"),
			"--tls-key", filepath.Join(dir, "viewer-key.pem")}, 2, []string{"private key does not match public key"}},
		{"missing certificate file", "valid", []string{"--tls-ca", ca, "--tls-cert", filepath.Join(dir, "nope.pem"),
			"--tls-key", filepath.Join(dir, "viewer-key.pem")}, 2, []string{"--tls-cert " + filepath.Join(dir, "nope.pem")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sim := simtest.Start(t, simulator.Config{Security: simulator.Security{TLS: p.ServerTLS(tt.server)}})
			args := append([]string{"-a", sim.Addr}, tt.args...)
			if tt.name == "insecure" {
				args = append(args, clientFlags(dir, "viewer")...)
			}
			r := runCLI(t, append(args, read...)...)
			for _, w := range tt.want {
				if r.code != tt.code || !strings.Contains(r.stderr, w) {
					t.Errorf("exit %d, want %d; stderr should contain %q:\n%s", r.code, tt.code, w, r.stderr)
				}
			}
			// A usage error names the command once ("plcctl
			// read-holding-registers: read-holding-registers 0: --tls-ca: ...").
			if tt.code == exitUsage && !strings.HasPrefix(r.stderr, "plcctl read-holding-registers: --tls-") {
				t.Errorf("usage error does not start with the command, then the flag:\n%s", r.stderr)
			}
		})
	}
}

// TestTLSEnvAndPort: PLCCTL_TLS_* stand in for the flags, and with TLS a
// HOST without a port means port 802.
func TestTLSEnvAndPort(t *testing.T) {
	p, dir := testutil.PKI(t)
	sim := simtest.Start(t, simulator.Config{Security: simulator.Security{TLS: p.ServerTLS("valid")}})
	t.Setenv(tlsCertEnv, filepath.Join(dir, "viewer.pem"))
	t.Setenv(tlsKeyEnv, filepath.Join(dir, "viewer-key.pem"))
	t.Setenv(tlsCAEnv, filepath.Join(dir, "ca.pem"))
	if out := mustRun(t, "-a", sim.Addr, "read-holding-registers", "0"); !strings.Contains(out, "0  0") {
		t.Errorf("read with PLCCTL_TLS_*: %q", out)
	}
	for _, tt := range []struct {
		addr string
		tls  bool
		want string
	}{
		{"10.1.2.3", true, "10.1.2.3:802"}, {"10.1.2.3", false, "10.1.2.3:502"}, {"plc1", true, "plc1:802"},
		{"::1", true, "[::1]:802"}, {"[::1]", true, "[::1]:802"}, {"plc1:8802", true, "plc1:8802"},
	} {
		a := &app{}
		a.opts.address = tt.addr
		if tt.tls {
			a.opts.tls.ca = "x"
		}
		if got := a.deviceAddress(); got != tt.want {
			t.Errorf("deviceAddress(%q, tls=%v) = %q, want %q", tt.addr, tt.tls, got, tt.want)
		}
	}
}

// TestTLSMismatchCLI: plain Modbus/TCP to a TLS-only device, and TLS to a
// plain one, each say what may be wrong: the first said only "the device
// closed the connection", the second repeated the socket's words and gave
// no advice for a plain device. Only an unanswered connection gets the TLS
// hint: a device that has answered does not expect TLS.
func TestTLSMismatchCLI(t *testing.T) {
	p, dir := testutil.PKI(t)
	secure := simtest.Start(t, simulator.Config{Security: simulator.Security{TLS: p.ServerTLS("valid")}})
	plain := startSim(t)
	dropsSecond := startSim(t)
	dropsSecond.SetFaults(simulator.FaultRule{Action: simulator.FaultCloseFIN, After: 1})
	script := filepath.Join(t.TempDir(), "script.txt")
	os.WriteFile(script, []byte("read-holding-registers 0\nread-holding-registers 0\n"), 0o644)
	const hint = "may expect TLS (Modbus/TCP Security, port 802): try --tls-ca FILE --tls-cert FILE --tls-key FILE"
	for _, tc := range []struct {
		name    string
		args    []string
		want    []string
		notWant []string
	}{
		{"plain read to TLS", []string{"-a", secure.Addr, "read-holding-registers", "0"},
			[]string{"the device closed the connection before answering anything; it " + hint + "; or, strict, it drops requests"}, nil},
		{"plain write to TLS", []string{"-a", secure.Addr, "write-register", "0", "1"},
			[]string{"outcome unknown", "read the values back before writing again; the device " + hint + "\n"}, nil},
		{"TLS to plain", []string{"-a", plain.Addr, "--tls-ca", filepath.Join(dir, "ca.pem"), "read-holding-registers", "0"},
			[]string{"the TLS handshake failed: the device reset the connection at our TLS hello, as a plain Modbus/TCP device would; " +
				"if the device speaks plain Modbus/TCP, leave out the --tls-* flags (plain TCP is port 502)"}, []string{"read tcp", "connection reset by peer"}},
		{"closed after an answer", []string{"-a", dropsSecond.Addr, "shell", script},
			[]string{"the device closed the connection; a strict device drops requests"}, []string{"TLS"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.args...)
			if r.code != exitFailure {
				t.Errorf("exit %d, want 1", r.code)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr:\n%s\nwant it to contain:\n%s", r.stderr, w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(r.stderr, w) {
					t.Errorf("stderr:\n%s\nwant no %q", r.stderr, w)
				}
			}
		})
	}
}

// TestTLSFileTooLarge: a --tls-* file is read up to 1 MiB; a wrong file
// (a disk image, /dev/zero) was read whole, and then refused as holding
// no PEM data.
func TestTLSFileTooLarge(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.pem")
	if err := os.WriteFile(big, make([]byte, 1<<20+1), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--tls-ca", big}, {"--tls-cert", big, "--tls-key", big}} {
		r := runCLI(t, append(args, "read-coils", "-a", "127.0.0.1:1", "0")...)
		if r.code != exitUsage || !strings.Contains(r.stderr, big+" is larger than 1 MiB") {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}
