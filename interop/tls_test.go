package interop_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// tlsSim starts plcsim speaking Modbus/TCP Security with the test PKI's
// server certificate ("valid" or another of certgen.PKI.Servers), logging
// into the returned buffer, and writes the CA and the client
// certificates as PEM files into a directory: ca.pem, NAME.pem,
// NAME-key.pem.
func tlsSim(t *testing.T, server string, cfg simulator.Config) (*simtest.Server, *testutil.SyncBuffer, string) {
	t.Helper()
	p, dir := testutil.PKI(t)
	var logs testutil.SyncBuffer
	l := zerolog.New(zerolog.MultiLevelWriter(&logs, zerolog.NewTestWriter(t))).Level(zerolog.TraceLevel)
	cfg.Logger = &l
	cfg.Security.TLS = p.ServerTLS(server)
	return simtest.Start(t, cfg), &logs, dir
}

// TestOpensslTLSVersions: Debian's openssl s_client shows that plcsim's TLS
// port accepts TLS 1.2 and 1.3 (with a client certificate, verifying ours,
// and carrying a real Modbus round trip) and refuses TLS 1.1.
//
// OpenSSL 3 does not offer TLS 1.1 at its default security level at all: a
// bare -tls1_1 fails inside openssl ("no protocols available") without ever
// reaching the server, which would prove nothing. So the TLS 1.1 attempt
// adds -cipher DEFAULT@SECLEVEL=0, and the test judges by the server: it
// must have received that ClientHello, offering only TLS 1.1 (and 1.0), and
// refused it in the handshake.
func TestOpensslTLSVersions(t *testing.T) {
	openssl := needPeer(t, "openssl", "openssl")
	sim, logs, dir := tlsSim(t, "valid", simulator.Config{IdleTimeout: 300 * time.Millisecond})
	sim.SetHoldingRegisters(0, 0x1234, 0x5678)
	client := []string{"-cert", filepath.Join(dir, "viewer.pem"), "-key", filepath.Join(dir, "viewer-key.pem"),
		"-CAfile", filepath.Join(dir, "ca.pem"), "-verify_return_error"}
	readReq := string([]byte{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 2})
	wantRsp := string([]byte{0, 1, 0, 0, 0, 7, 1, 3, 4, 0x12, 0x34, 0x56, 0x78})
	for _, v := range []struct{ flag, name string }{{"-tls1_2", "TLS 1.2"}, {"-tls1_3", "TLS 1.3"}} {
		// -ign_eof: keep reading after stdin ends, until plcsim's idle
		// timeout closes the connection (close_notify, FIN).
		args := append([]string{"s_client", "-connect", sim.Addr, v.flag, "-quiet", "-ign_eof"}, client...)
		r := runPeerIn(t, 20*time.Second, readReq, openssl, args...)
		if r.code != 0 || !strings.Contains(r.stdout, wantRsp) {
			t.Errorf("openssl s_client %s: exit %d, answer % X, want % X\nstderr: %s", v.flag, r.code, r.stdout, wantRsp, r.stderr)
		}
		if want := `"tls_version":"` + v.name + `","subject":"CN=client viewer`; !strings.Contains(logs.String(), want) {
			t.Errorf("plcsim did not log a %s session for the viewer certificate", v.name)
		}
	}
	before := sim.SecurityStats().HandshakeFailures
	args := append([]string{"s_client", "-connect", sim.Addr, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"}, client...)
	r := runPeerIn(t, 20*time.Second, "", openssl, args...)
	if r.code == 0 {
		t.Errorf("openssl s_client -tls1_1: exit 0, want a failed handshake\n%s", r.stdout)
	}
	testutil.WaitFor(t, 5*time.Second, "plcsim refuses the TLS 1.1 handshake", func() bool {
		return sim.SecurityStats().HandshakeFailures > before
	})
	if !strings.Contains(logs.String(), "client offers only TLS versions older than 1.2: TLS 1.1") {
		t.Errorf("plcsim's log does not show that the client offered only TLS 1.1:\n%s", logs.String())
	}
	if n := sim.FunctionRequests(3); n != 2 {
		t.Errorf("plcsim served %d reads, want the 2 over TLS 1.2 and 1.3", n)
	}
}

// TestPymodbusTLSClient: pymodbus 3.0's AsyncModbusTlsClient against
// plcsim's TLS port. What we found:
//   - with framer=ModbusSocketFramer (MBAP inside TLS, as Modbus/TCP
//     Security specifies) and a verifying SSLContext it interoperates: the
//     operator reads and writes, the viewer's write gets exception 01;
//   - its default TLS framer, ModbusTlsFramer, sends the bare PDU without
//     the MBAP header: plcsim waits for the rest of a 7-byte header, counts
//     a framing fault and drops the connection; pymodbus gets no answer;
//   - its default SSLContext verifies nothing (CERT_NONE, no host name
//     check): it connects to a server whose certificate no trusted CA
//     signed, and talks to it.
func TestPymodbusTLSClient(t *testing.T) {
	py := needPeer(t, "/usr/bin/python3", "python3")
	if err := exec.Command(py, "-c", "import pymodbus.client").Run(); err != nil {
		if inCI() {
			t.Fatalf("pymodbus not importable: install Debian package python3-pymodbus: %v", err)
		}
		t.Skip("pymodbus not importable: apt-get install python3-pymodbus")
	}
	script := filepath.Join(repoRoot(), "testdata", "interop", "pymodbus_tls_client.py")
	type opResult struct {
		Op        string
		OK        bool
		Exception *int
		Registers []int
		Error     string
	}
	runPy := func(t *testing.T, sim *simtest.Server, dir, client string, extra ...string) map[string]opResult {
		t.Helper()
		_, port, _ := strings.Cut(sim.Addr, ":")
		args := append([]string{script, "--port", port, "--cert", filepath.Join(dir, client+".pem"),
			"--key", filepath.Join(dir, client+"-key.pem"), "--ca", filepath.Join(dir, "ca.pem")}, extra...)
		r := runPeer(t, 30*time.Second, py, args...)
		got := map[string]opResult{}
		for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			var o opResult
			if err := json.Unmarshal([]byte(line), &o); err == nil {
				got[o.Op] = o
			}
		}
		if !got["connect"].OK {
			t.Fatalf("pymodbus did not connect: %s\nstderr: %s", r.stdout, r.stderr)
		}
		return got
	}
	t.Run("MBAP framer, verifying", func(t *testing.T) {
		sim, _, dir := tlsSim(t, "valid", simulator.Config{})
		got := runPy(t, sim, dir, "operator", "--framer", "socket", "--verify")
		if !got["read"].OK || !got["write"].OK || !got["readback"].OK || len(got["readback"].Registers) != 1 || got["readback"].Registers[0] != 1234 {
			t.Errorf("operator over pymodbus: %+v", got)
		}
		got = runPy(t, sim, dir, "viewer", "--framer", "socket", "--verify")
		if !got["read"].OK || got["write"].OK || got["write"].Exception == nil || *got["write"].Exception != 1 {
			t.Errorf("viewer over pymodbus: read %+v, write %+v; want the write refused with exception 01", got["read"], got["write"])
		}
		if v := sim.HoldingRegisters(5, 1)[0]; v != 1234 {
			t.Errorf("holding 5 = %d, want the operator's 1234", v)
		}
	})
	t.Run("default TLS framer sends no MBAP header", func(t *testing.T) {
		sim, _, dir := tlsSim(t, "valid", simulator.Config{FrameTimeout: 200 * time.Millisecond})
		got := runPy(t, sim, dir, "operator", "--framer", "tls", "--timeout", "1", "--ops", "read")
		if got["read"].OK {
			t.Errorf("pymodbus's bare-PDU TLS framer was answered: %+v", got["read"])
		}
		if st := sim.Stats(); st.FramingFaults == 0 || sim.FunctionRequests(3) != 0 {
			t.Errorf("plcsim Stats = %+v: want a framing fault and no request served", st)
		}
	})
	t.Run("default SSLContext does not verify the server", func(t *testing.T) {
		sim, _, dir := tlsSim(t, "other-ca", simulator.Config{})
		got := runPy(t, sim, dir, "operator", "--framer", "socket", "--ops", "read")
		if !got["read"].OK {
			t.Errorf("pymodbus's default context: %+v", got["read"])
		}
	})
}

// TestTLSAccessRulesEndToEnd: the plcsim and plcctl binaries, plcsim with
// custom rules from a plant file's access: section and from --access FILE
// (testdata: operator reads everything and writes holding registers
// 0..99, maintenance reads and writes coils 0..7, nobody else anything).
// Each client certificate gets exactly what the rules give: exit 0 when
// allowed, 3 (exception 01) when refused, 1 or 2 when its certificate
// cannot be used; plcsim logs each refusal with the role and the subject.
func TestTLSAccessRulesEndToEnd(t *testing.T) {
	bins := binaries(t)
	plcsim, plcctl := filepath.Join(bins, "plcsim"), filepath.Join(bins, "plcctl")
	_, dir := testutil.PKI(t)
	root := repoRoot()
	tlsFlags := []string{"--tls-cert", filepath.Join(dir, "server.pem"), "--tls-key", filepath.Join(dir, "server-key.pem"),
		"--tls-client-ca", filepath.Join(dir, "ca.pem"), "--log-limit", "-1"}
	cases := []struct {
		client string
		args   []string
		code   int
		want   string
	}{
		{"operator", []string{"read-holding-registers", "50"}, 0, "50  "},
		{"operator", []string{"write-register", "50", "9"}, 0, "wrote 1 register"},
		{"operator", []string{"read-holding-registers", "50"}, 0, "50  9"},
		{"operator", []string{"write-register", "150", "9"}, 3, "exception 01"},
		{"operator", []string{"read-coils", "0", "8"}, 0, "0  0"},
		{"operator", []string{"write-coil", "3", "on"}, 3, "exception 01"},
		{"operator", []string{"read-input-registers", "0"}, 0, "0  0"},
		{"unknown-role", []string{"read-coils", "0", "8"}, 0, "7  0"},
		{"unknown-role", []string{"write-coil", "3", "on"}, 0, "wrote 1 coil at 3"},
		{"unknown-role", []string{"write-coil", "8", "on"}, 3, "exception 01"},
		{"unknown-role", []string{"read-holding-registers", "50"}, 3, "exception 01"},
		{"viewer", []string{"read-holding-registers", "50"}, 3, "exception 01"},
		{"none", []string{"read-holding-registers", "50"}, 3, "exception 01"},
		{"two-roles", []string{"read-holding-registers", "50"}, 2, "duplicate extension"},
		{"expired", []string{"read-holding-registers", "50"}, 1, "refused our client certificate"},
		{"other-ca", []string{"read-holding-registers", "50"}, 1, "refused our client certificate"},
		{"operator", []string{"read-coils", "3"}, 0, "3  1"}, // maintenance's write went through
		{"operator", []string{"read-coils", "8"}, 0, "8  0"}, // nor this one
	}
	for _, src := range []struct{ name, flag, file, limit string }{
		{"plant file", "--plant", filepath.Join(root, "testdata", "plants", "secure-station.yaml"), "150  1500"},
		{"access file", "--access", filepath.Join(root, "testdata", "access-rules.yaml"), "150  0"},
	} {
		t.Run(src.name, func(t *testing.T) {
			sim := startPlcsim(t, plcsim, "127.0.0.1:0", append([]string{src.flag, src.file}, tlsFlags...)...)
			defer sim.stop(t)
			refused := map[string]int{}
			cases := append(slices.Clone(cases), cases[0]) // and the refused write to 150 changed nothing
			cases[len(cases)-1].args, cases[len(cases)-1].want = []string{"read-holding-registers", "150"}, src.limit+"\n"
			for _, c := range cases {
				args := append([]string{"-a", sim.addr, "--tls-ca", filepath.Join(dir, "ca.pem"), "--tls-cert", filepath.Join(dir, c.client+".pem"),
					"--tls-key", filepath.Join(dir, c.client+"-key.pem"), "-t", "3s"}, c.args...)
				r := runPeer(t, 20*time.Second, plcctl, args...)
				if r.code != c.code || !strings.Contains(r.stdout+r.stderr, c.want) {
					t.Errorf("%s: plcctl %s: exit %d, want %d containing %q\nstdout: %s\nstderr: %s",
						c.client, strings.Join(c.args, " "), r.code, c.code, c.want, r.stdout, r.stderr)
				}
				if c.code == 3 {
					refused[c.client]++
				}
			}
			if v := sim.log.String(); !strings.Contains(v, `"role":"maintenance","subject":"CN=client unknown-role,O=plcsim test PKI"`) {
				t.Errorf("no refusal logged with role maintenance and its subject:\n%s", v)
			}
			logged := map[string]int{}
			for _, line := range strings.Split(sim.log.String(), "\n") {
				var m struct{ Message, Role, Subject string }
				if json.Unmarshal([]byte(line), &m) == nil && m.Message == "request refused: exception 01" {
					logged[strings.TrimSuffix(strings.TrimPrefix(m.Subject, "CN=client "), ",O=plcsim test PKI")]++
				}
			}
			for client, n := range refused {
				if logged[client] != n {
					t.Errorf("%s: %d refusals logged with its subject, want %d", client, logged[client], n)
				}
			}
		})
	}
}

// unitsAccess: operator may do everything on unit 1 and only read units 2
// and 3; other roles, and other units, nothing.
const unitsAccess = `access:
  roles:
    operator:
      - functions: [all]
        units: [1]
      - functions: [reads]
        units: ["2-3"]
`

// TestTLSAccessUnitsEndToEnd: the plcsim and plcctl binaries, plcsim with
// per-unit rules (a grant's units:) from a plant file serving units 1..4,
// each with its own memory, and from --access FILE: the same operator
// certificate writes unit 1, reads but cannot write units 2 and 3 (exit 3,
// exception 01, nothing written), and gets nothing from unit 4; each
// refusal is logged with the unit and a reason naming it.
func TestTLSAccessUnitsEndToEnd(t *testing.T) {
	bins := binaries(t)
	plcsim, plcctl := filepath.Join(bins, "plcsim"), filepath.Join(bins, "plcctl")
	_, dir := testutil.PKI(t)
	plantFile, accessFile := filepath.Join(t.TempDir(), "gateway.yaml"), filepath.Join(t.TempDir(), "units.yaml")
	gateway := "version: 1\ndevices:\n  - name: gateway\n    units:\n      - ids: [1, 2, 3, 4]\n        holding_registers: 100\n    " +
		strings.TrimSuffix(strings.ReplaceAll(unitsAccess, "\n", "\n    "), "    ")
	if err := os.WriteFile(plantFile, []byte(gateway), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(accessFile, []byte(unitsAccess), 0o644); err != nil {
		t.Fatal(err)
	}
	tlsFlags := []string{"--tls-cert", filepath.Join(dir, "server.pem"), "--tls-key", filepath.Join(dir, "server-key.pem"),
		"--tls-client-ca", filepath.Join(dir, "ca.pem"), "--log-limit", "-1"}
	for _, src := range []struct {
		name, flag, file string
		unit2            string // unit 2's register 5 after unit 1's write: its own memory, or the one all units share
	}{
		{"plant file", "--plant", plantFile, "5  0\n"},
		{"access file", "--access", accessFile, "5  9\n"},
	} {
		t.Run(src.name, func(t *testing.T) {
			sim := startPlcsim(t, plcsim, "127.0.0.1:0", append([]string{src.flag, src.file}, tlsFlags...)...)
			defer sim.stop(t)
			for _, c := range []struct {
				client, unit string
				args         []string
				code         int
				want         string
			}{
				{"operator", "1", []string{"write-register", "5", "9"}, 0, "wrote 1 register"},
				{"operator", "1", []string{"read-holding-registers", "5"}, 0, "5  9\n"},
				{"operator", "2", []string{"write-register", "5", "7"}, 3, "exception 01"},
				{"operator", "2", []string{"read-holding-registers", "5"}, 0, src.unit2},
				{"operator", "3", []string{"write-register", "5", "7"}, 3, "exception 01"},
				{"operator", "3", []string{"read-holding-registers", "5"}, 0, src.unit2},
				{"operator", "4", []string{"read-holding-registers", "5"}, 3, "exception 01"},
				{"viewer", "1", []string{"read-holding-registers", "5"}, 3, "exception 01"},
			} {
				args := append([]string{"-a", sim.addr, "-u", c.unit, "--tls-ca", filepath.Join(dir, "ca.pem"), "--tls-cert", filepath.Join(dir, c.client+".pem"),
					"--tls-key", filepath.Join(dir, c.client+"-key.pem"), "-t", "3s"}, c.args...)
				r := runPeer(t, 20*time.Second, plcctl, args...)
				if r.code != c.code || !strings.Contains(r.stdout+r.stderr, c.want) {
					t.Errorf("%s: plcctl -u %s %s: exit %d, want %d containing %q\nstdout: %s\nstderr: %s",
						c.client, c.unit, strings.Join(c.args, " "), r.code, c.code, c.want, r.stdout, r.stderr)
				}
			}
			reasons := map[int]string{}
			for _, line := range strings.Split(sim.log.String(), "\n") {
				var m struct {
					Message, Role, Reason string
					UnitID                int `json:"unit_id"`
				}
				if json.Unmarshal([]byte(line), &m) == nil && m.Message == "request refused: exception 01" && m.Role == "operator" {
					reasons[m.UnitID] += m.Reason + "\n"
				}
			}
			for unit, want := range map[int]string{
				2: `role "operator" may not use write single register (FC 6) on unit 2 (allowed on units 1)`,
				3: `role "operator" may not use write single register (FC 6) on unit 3 (allowed on units 1)`,
				4: `role "operator" may not use read holding registers (FC 3) on unit 4 (allowed on units 1, 2..3)`,
			} {
				if !strings.Contains(reasons[unit], want) {
					t.Errorf("unit %d: refusals logged %q, want %q", unit, reasons[unit], want)
				}
			}
		})
	}
}
