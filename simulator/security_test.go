package simulator_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/access"
	"github.com/plcctl/plcctl/internal/certgen"
	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plc"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
	"github.com/plcctl/plcctl/transport"
)

func testPKI(t testing.TB) *certgen.PKI {
	t.Helper()
	p, err := certgen.TestPKI()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// logged is a simulator config logging into a buffer (and the test log).
func logged(t testing.TB, cfg simulator.Config) (simulator.Config, *testutil.SyncBuffer) {
	var buf testutil.SyncBuffer
	l := zerolog.New(zerolog.MultiLevelWriter(&buf, zerolog.NewTestWriter(t))).Level(zerolog.DebugLevel)
	cfg.Logger = &l
	return cfg, &buf
}

// op is one request of the access matrix and what it needs.
type op struct {
	name  string
	write bool
	do    func(ctx context.Context, c *plc.Client) error
}

var ops = []op{
	{"read holding 0..9", false, func(ctx context.Context, c *plc.Client) error {
		_, err := c.ReadHoldingRegisters(ctx, 0, 10)
		return err
	}},
	{"read coils", false, func(ctx context.Context, c *plc.Client) error { _, err := c.ReadCoils(ctx, 0, 8); return err }},
	{"read input registers", false, func(ctx context.Context, c *plc.Client) error {
		_, err := c.ReadInputRegisters(ctx, 0, 2)
		return err
	}},
	{"write holding 50", true, func(ctx context.Context, c *plc.Client) error { return c.WriteRegister(ctx, 50, 5050) }},
	{"write holding 150", true, func(ctx context.Context, c *plc.Client) error { return c.WriteRegister(ctx, 150, 150) }},
	{"write coil 3", true, func(ctx context.Context, c *plc.Client) error { return c.WriteCoil(ctx, 3, true) }},
}

// restricted: operator reads everything and writes holding 0..99 only;
// viewer reads holding registers only.
var restricted = access.Policy{Rules: []access.Rule{
	{Role: "operator", Functions: access.ReadFunctions()},
	{Role: "operator", Functions: []modbus.FunctionCode{6, 16}, Ranges: map[access.Table][]access.Range{access.HoldingRegisters: {{First: 0, Last: 99}}}},
	{Role: "viewer", Functions: []modbus.FunctionCode{3}},
}}

// TestTLSAccessMatrix: each client certificate gets exactly the access the
// rules give, over the Go API; a refusal is exception 01, is logged with
// the role and the certificate subject, and changes nothing.
func TestTLSAccessMatrix(t *testing.T) {
	allow := func(ops ...string) map[string]bool {
		m := map[string]bool{}
		for _, o := range ops {
			m[o] = true
		}
		return m
	}
	everything := allow("read holding 0..9", "read coils", "read input registers", "write holding 50", "write holding 150", "write coil 3")
	reads := allow("read holding 0..9", "read coils", "read input registers")
	for _, pc := range []struct {
		name   string
		policy access.Policy
		allow  map[string]map[string]bool // client -> op -> allowed
	}{
		{"default rules", access.Policy{}, map[string]map[string]bool{"operator": everything, "viewer": reads}},
		{"rules", restricted, map[string]map[string]bool{
			"operator": allow("read holding 0..9", "read coils", "read input registers", "write holding 50"),
			"viewer":   allow("read holding 0..9")}},
		{"read-only", access.Policy{ReadOnly: true}, map[string]map[string]bool{"operator": reads, "viewer": reads}},
	} {
		for _, client := range []string{"operator", "viewer", "none", "unknown-role"} {
			t.Run(pc.name+"/"+client, func(t *testing.T) {
				cfg, logs := logged(t, simulator.Config{})
				cfg.Security = simulator.Security{TLS: testPKI(t).ServerTLS("valid"), Policy: pc.policy}
				sim := simtest.Start(t, cfg)
				c, err := plc.Dial(t.Context(), sim.Addr, plc.Options{Options: transport.Options{TLS: testPKI(t).ClientTLS(client)}})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				refused := 0
				for _, o := range ops {
					before := sim.HoldingRegisters(0, 200)
					err := o.do(t.Context(), c)
					want := pc.allow[client][o.name]
					switch {
					case want && err != nil:
						t.Errorf("%s: %v, want allowed", o.name, err)
					case !want && !errors.Is(err, modbus.IllegalFunction):
						t.Errorf("%s: %v, want exception 01", o.name, err)
					case !want:
						refused++
						if o.write && !equal(before, sim.HoldingRegisters(0, 200)) {
							t.Errorf("%s: refused, but the registers changed", o.name)
						}
					}
				}
				if got := sim.SecurityStats().Denied; got != uint64(refused) {
					t.Errorf("SecurityStats.Denied = %d, want %d", got, refused)
				}
				// Each refusal is one log line naming the role and the
				// certificate's subject (and why there is no role).
				wantRole := map[string]string{"operator": "operator", "viewer": "viewer", "unknown-role": "maintenance"}[client]
				lines := refusals(t, logs.String())
				if len(lines) != refused {
					t.Errorf("%d refusals logged, want %d:\n%s", len(lines), refused, logs.String())
				}
				for _, l := range lines {
					if l["role"] != wantRole || l["subject"] != subjectOf(client) || l["reason"] == "" || l["fc"] == nil ||
						(wantRole == "") != (l["role_error"] != nil) {
						t.Errorf("refusal logged as %v, want role %q, subject %q, a reason, fc and role_error when no role", l, wantRole, subjectOf(client))
					}
				}
			})
		}
	}
}

// subjectOf is the subject of a test client certificate (certgen).
func subjectOf(client string) string { return "CN=client " + client + ",O=plcsim test PKI" }

// refusals returns the "request refused" lines of a JSON log.
func refusals(t *testing.T, log string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(log, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["message"] == "request refused: exception 01" {
			out = append(out, m)
		}
	}
	return out
}

// TestConnectionsShowTLSPeer: Connections names each TLS client's role
// and certificate subject (and why a certificate has no role); a plain
// TCP connection is not TLS.
func TestConnectionsShowTLSPeer(t *testing.T) {
	sim := simtest.Start(t, simulator.Config{Security: simulator.Security{TLS: testPKI(t).ServerTLS("valid")}})
	want := map[string]simulator.ConnInfo{}
	for _, client := range []string{"operator", "viewer", "none", "unknown-role"} {
		c, err := plc.Dial(t.Context(), sim.Addr, plc.Options{Options: transport.Options{TLS: testPKI(t).ClientTLS(client)}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.ReadHoldingRegisters(t.Context(), 0, 1) // the handshake is done when an answer comes
		role := map[string]string{"operator": "operator", "viewer": "viewer", "unknown-role": "maintenance"}[client]
		want[subjectOf(client)] = simulator.ConnInfo{TLS: true, Role: role}
	}
	got := sim.Connections()
	if len(got) != len(want) {
		t.Fatalf("Connections = %+v, want %d", got, len(want))
	}
	for _, ci := range got {
		w, ok := want[ci.Subject]
		delete(want, ci.Subject)
		switch {
		case !ok:
			t.Errorf("connection %s: subject %q is none of the clients' (or twice)", ci.Remote, ci.Subject)
		case !ci.TLS || ci.Role != w.Role || ci.Remote == "":
			t.Errorf("connection %s (%s): TLS %v, role %q; want TLS, role %q", ci.Remote, ci.Subject, ci.TLS, ci.Role, w.Role)
		case (w.Role == "") != strings.Contains(ci.RoleError, "no role extension"):
			t.Errorf("connection %s: role %q, role error %q", ci.Remote, ci.Role, ci.RoleError)
		}
	}
	plain := simtest.Start(t, simulator.Config{})
	c, err := plc.Dial(t.Context(), plain.Addr, plc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ReadHoldingRegisters(t.Context(), 0, 1); err != nil {
		t.Fatal(err)
	}
	if cs := plain.Connections(); len(cs) != 1 || cs[0].TLS || cs[0].Role != "" || cs[0].Subject != "" {
		t.Errorf("plain TCP Connections = %+v, want one without TLS, role or subject", cs)
	}
}

func equal(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestTLSRefusedClients: a client certificate that is expired, from another
// CA, or carries two role extensions (Go's crypto/x509 refuses to parse a
// certificate with a duplicate extension, so plcsim refuses it in the
// handshake), and a plain TCP client: none is served anything, each
// failure is counted, and a connected client is not disturbed.
func TestTLSRefusedClients(t *testing.T) {
	cfg, logs := logged(t, simulator.Config{})
	cfg.Security.TLS = testPKI(t).ServerTLS("valid")
	sim := simtest.Start(t, cfg)
	good, err := plc.Dial(t.Context(), sim.Addr, plc.Options{Options: transport.Options{TLS: testPKI(t).ClientTLS("operator")}})
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	failures := 0
	// The plain client first: failed handshakes are logged one a second.
	plain, err := net.Dial("tcp", sim.Addr)
	if err != nil {
		t.Fatal(err)
	}
	plain.Write([]byte{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1})
	plain.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := plain.Read(make([]byte, 64)); n != 0 || err == nil || isTimeout(err) {
		t.Errorf("plain client on the TLS port read %d bytes, %v; want EOF or reset", n, err)
	}
	plain.Close()
	failures++
	for _, client := range []string{"expired", "other-ca", "two-roles"} {
		for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			cc := testPKI(t).ClientTLS(client)
			cc.MaxVersion = v
			c, err := plc.Dial(t.Context(), sim.Addr, plc.Options{Options: transport.Options{TLS: cc, DialTimeout: 2 * time.Second}})
			if err == nil {
				_, err = c.ReadHoldingRegisters(t.Context(), 0, 1)
				c.Close()
			}
			var te *transport.TLSError
			if !errors.As(err, &te) {
				t.Errorf("%s, TLS %x: %v, want a TLS error", client, v, err)
			}
			failures++
		}
	}
	testutil.WaitFor(t, 5*time.Second, "failed handshakes counted", func() bool {
		return sim.SecurityStats().HandshakeFailures >= uint64(failures) // a TLS 1.3 client may re-dial once before Close
	})
	if n := sim.FunctionRequests(3); n != 0 {
		t.Errorf("%d read requests served to refused clients", n)
	}
	if _, err := good.ReadHoldingRegisters(t.Context(), 0, 1); err != nil {
		t.Errorf("connected client after the refusals: %v", err)
	}
	if s := good.Conn().Stats(); s.LinkDowns != 0 {
		t.Errorf("connected client's link went down: %+v", s)
	}
	if !strings.Contains(logs.String(), "not a TLS client") {
		t.Error("the plain client's failed handshake is not logged as such")
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestHandshakeDeadline: a client that connects and says nothing is closed
// after the handshake timeout and counted; it holds up no one.
func TestHandshakeDeadline(t *testing.T) {
	cfg := simulator.Config{}
	cfg.Security.TLS = testPKI(t).ServerTLS("valid")
	cfg.Security.HandshakeTimeout = 100 * time.Millisecond
	sim := simtest.Start(t, cfg)
	silent, err := net.Dial("tcp", sim.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	c, err := plc.Dial(t.Context(), sim.Addr, plc.Options{Options: transport.Options{TLS: testPKI(t).ClientTLS("viewer")}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ReadHoldingRegisters(t.Context(), 0, 1); err != nil {
		t.Fatalf("client next to a silent one: %v", err)
	}
	silent.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := silent.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Errorf("silent client: read = %v, want the server to close it", err)
	}
	testutil.WaitFor(t, 5*time.Second, "handshake timeout counted", func() bool { return sim.SecurityStats().HandshakeFailures == 1 })
}

// TestAllowListAndPerIPCap: plain TCP access control: a client outside the
// allow-list is closed at once; the third connection from one address is
// refused when the cap is 2, and a slot frees when one closes.
func TestAllowListAndPerIPCap(t *testing.T) {
	t.Run("allow-list", func(t *testing.T) {
		cfg := simulator.Config{}
		cfg.Security.Allow = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
		sim := simtest.Start(t, cfg)
		_, err := plc.Dial(t.Context(), sim.Addr, plc.Options{})
		if err == nil {
			c, _ := plc.Dial(t.Context(), sim.Addr, plc.Options{})
			_, err = c.ReadHoldingRegisters(t.Context(), 0, 1)
			c.Close()
		}
		if err == nil {
			t.Fatal("127.0.0.1 was served, but is not in the allow-list")
		}
		testutil.WaitFor(t, 5*time.Second, "refusal counted", func() bool { return sim.SecurityStats().NotAllowed >= 1 })
		if n := sim.FunctionRequests(3); n != 0 {
			t.Errorf("%d requests served to a refused address", n)
		}
	})
	t.Run("allowed", func(t *testing.T) {
		cfg := simulator.Config{}
		cfg.Security.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		sim := simtest.Start(t, cfg)
		c, err := plc.Dial(t.Context(), sim.Addr, plc.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.ReadHoldingRegisters(t.Context(), 0, 1); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("per-IP cap", func(t *testing.T) {
		cfg := simulator.Config{}
		cfg.Security.MaxConnsPerIP = 2
		sim := simtest.Start(t, cfg)
		var cs []*plc.Client
		for range 2 {
			c, err := plc.Dial(t.Context(), sim.Addr, plc.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.ReadHoldingRegisters(t.Context(), 0, 1); err != nil {
				t.Fatal(err)
			}
			cs = append(cs, c)
		}
		third, err := net.Dial("tcp", sim.Addr)
		if err != nil {
			t.Fatal(err)
		}
		third.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := third.Read(make([]byte, 1)); err == nil || isTimeout(err) {
			t.Errorf("third connection: read = %v, want it closed", err)
		}
		third.Close()
		if got := sim.SecurityStats().PerIPRefused; got != 1 {
			t.Errorf("PerIPRefused = %d, want 1", got)
		}
		cs[0].Close()
		testutil.WaitFor(t, 5*time.Second, "slot freed", func() bool { return sim.Stats().Conns == 1 })
		c, err := plc.Dial(t.Context(), sim.Addr, plc.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.ReadHoldingRegisters(t.Context(), 0, 1); err != nil {
			t.Errorf("connection after a slot freed: %v", err)
		}
	})
}

// TestReadOnlyPlainTCP: with the read-only switch every write gets
// exception 01 on plain TCP too, and changes nothing; reads work.
func TestReadOnlyPlainTCP(t *testing.T) {
	cfg := simulator.Config{}
	cfg.Security.Policy.ReadOnly = true
	sim := simtest.Start(t, cfg)
	c, err := plc.Dial(t.Context(), sim.Addr, plc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, o := range ops {
		err := o.do(t.Context(), c)
		if o.write != errors.Is(err, modbus.IllegalFunction) || !o.write && err != nil {
			t.Errorf("%s: %v", o.name, err)
		}
	}
	// A write that fails validation is still refused as a write (01, not 03).
	_, err = c.Do(t.Context(), &modbus.Raw{FC: modbus.FuncWriteMultipleRegisters, Data: []byte{0, 0, 0, 0, 0}})
	if !errors.Is(err, modbus.IllegalFunction) {
		t.Errorf("malformed-quantity write on a read-only server: %v, want 01", err)
	}
	if v := sim.HoldingRegisters(50, 1)[0]; v != 0 {
		t.Errorf("holding 50 = %d after refused writes", v)
	}
}

func TestSecurityConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		sec  simulator.Security
		want string
	}{
		{"no server cert", simulator.Security{TLS: &tls.Config{ClientCAs: testPKI(t).CA.Pool()}}, "no server certificate"},
		{"no client CA", simulator.Security{TLS: &tls.Config{Certificates: []tls.Certificate{testPKI(t).Server.TLS()}}}, "no client CA"},
		{"bad rule", simulator.Security{Policy: access.Policy{Rules: []access.Rule{{Functions: []modbus.FunctionCode{3}}}}}, "the role is empty"},
	} {
		_, err := simulator.New(simulator.Config{Security: tt.sec})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New = %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestSetPolicy: a policy set while serving judges the next request of a
// connection already open; one that does not validate is refused and the
// policy in force stays; a read-only switch set so holds on plain TCP too,
// and clearing it lets writes through again.
func TestSetPolicy(t *testing.T) {
	cfg := simulator.Config{HoldingRegisters: 200}
	cfg.Security = simulator.Security{TLS: testPKI(t).ServerTLS("valid")}
	sim := simtest.Start(t, cfg)
	c, err := plc.Dial(t.Context(), sim.Addr, plc.Options{Options: transport.Options{TLS: testPKI(t).ClientTLS("operator")}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.WriteRegister(t.Context(), 150, 1); err != nil {
		t.Fatalf("write holding 150 under the default rules: %v", err)
	}
	if err := sim.SetPolicy(restricted); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteRegister(t.Context(), 150, 2); !errors.Is(err, modbus.IllegalFunction) {
		t.Errorf("write holding 150 after SetPolicy(restricted): %v, want exception 01", err)
	}
	if err := c.WriteRegister(t.Context(), 50, 2); err != nil {
		t.Errorf("write holding 50 after SetPolicy(restricted): %v", err)
	}
	// Two mistakes: two lines, each whole (a "simulator: " prefix was on
	// the first line only).
	bad := access.Policy{Rules: []access.Rule{{Functions: []modbus.FunctionCode{3}}, {Role: "x", Functions: []modbus.FunctionCode{0}}}}
	err = sim.SetPolicy(bad)
	if err == nil || !strings.Contains(err.Error(), "the role is empty") {
		t.Errorf("SetPolicy(a rule without role) = %v, want an error naming the empty role", err)
	} else if lines := strings.Split(err.Error(), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "access: rule 1 ") || !strings.HasPrefix(lines[1], "access: rule 2 ") {
		t.Errorf("SetPolicy(two mistakes) = %q, want two lines, each naming its rule", lines)
	}
	if p := sim.Policy(); len(p.Rules) != len(restricted.Rules) {
		t.Errorf("after a refused SetPolicy, Policy() = %+v, want the restricted rules still", p)
	}
	if err := c.WriteRegister(t.Context(), 150, 3); !errors.Is(err, modbus.IllegalFunction) {
		t.Errorf("write holding 150 after a refused SetPolicy: %v, want exception 01 (the old rules)", err)
	}
	if v := sim.HoldingRegisters(150, 1)[0]; v != 1 {
		t.Errorf("holding 150 = %d, want 1: a refused write changed it", v)
	}

	plain := simtest.Start(t, simulator.Config{})
	pc, err := plc.Dial(t.Context(), plain.Addr, plc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	for _, step := range []struct {
		readOnly bool
		want     error
	}{{false, nil}, {true, modbus.IllegalFunction}, {false, nil}} {
		if err := plain.SetPolicy(access.Policy{ReadOnly: step.readOnly}); err != nil {
			t.Fatal(err)
		}
		if err := pc.WriteRegister(t.Context(), 1, 1); !errors.Is(err, step.want) {
			t.Errorf("plain TCP write with read_only %v: %v, want %v", step.readOnly, err, step.want)
		}
		if _, err := pc.ReadHoldingRegisters(t.Context(), 1, 1); err != nil {
			t.Errorf("plain TCP read with read_only %v: %v", step.readOnly, err)
		}
	}
}

// TestTLSAccessUnits: over the Go API, a rule with Units holds only on
// those unit ids: the same operator certificate writes unit 1, only reads
// units 2..3 and gets exception 01 from unit 4; each refusal is logged
// with the unit and a reason naming it, and changes nothing.
func TestTLSAccessUnits(t *testing.T) {
	cfg, logs := logged(t, simulator.Config{UnitIDs: []uint8{1, 2, 3, 4}, HoldingRegisters: 10})
	cfg.Security = simulator.Security{TLS: testPKI(t).ServerTLS("valid"), Policy: access.Policy{Rules: []access.Rule{
		{Role: "operator", Functions: access.AllFunctions(), Units: []access.Range{{First: 1, Last: 1}}},
		{Role: "operator", Functions: access.ReadFunctions(), Units: []access.Range{{First: 2, Last: 3}}},
	}}}
	sim := simtest.Start(t, cfg)
	dial := func(unit uint8) *plc.Client {
		c, err := plc.Dial(t.Context(), sim.Addr, plc.Options{UnitID: unit, Options: transport.Options{TLS: testPKI(t).ClientTLS("operator")}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	for _, tt := range []struct {
		unit        uint8
		read, write bool
	}{{1, true, true}, {2, true, false}, {3, true, false}, {4, false, false}} {
		c := dial(tt.unit)
		_, rerr := c.ReadHoldingRegisters(t.Context(), 0, 1)
		werr := c.WriteRegister(t.Context(), 0, 7)
		for _, o := range []struct {
			what  string
			err   error
			allow bool
		}{{"read", rerr, tt.read}, {"write", werr, tt.write}} {
			if o.allow && o.err != nil || !o.allow && !errors.Is(o.err, modbus.IllegalFunction) {
				t.Errorf("unit %d %s: %v, want allowed %v (else exception 01)", tt.unit, o.what, o.err, o.allow)
			}
		}
		if got := sim.Unit(tt.unit).HoldingRegisters(0, 1)[0]; (got == 7) != tt.write {
			t.Errorf("unit %d holding 0 = %d after the write, want it written: %v", tt.unit, got, tt.write)
		}
	}
	// unit, fc -> the units the reason names as allowed
	want := map[[2]float64]string{{2, 6}: "units 1", {3, 6}: "units 1", {4, 3}: "units 1, 2..3", {4, 6}: "units 1"}
	got := map[[2]float64]bool{}
	for _, l := range refusals(t, logs.String()) {
		u, _ := l["unit_id"].(float64)
		fc, _ := l["fc"].(float64)
		k := [2]float64{u, fc}
		if r, _ := l["reason"].(string); want[k] == "" || !strings.Contains(r, fmt.Sprintf("on unit %d (allowed on %s)", int(u), want[k])) {
			t.Errorf("refusal logged as %v, want a unit_id, an fc and a reason naming the unit and %q", l, want[k])
		}
		got[k] = true
	}
	if len(got) != len(want) {
		t.Errorf("refusals logged for (unit, fc) %v, want %v", got, want)
	}
}
