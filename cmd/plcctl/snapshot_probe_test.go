package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plant"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// TestSnapshotProbeSparse: snapshot --probe against plcsim serving
// sparse.yaml finds the runs of every table (tables above 0, two runs of
// holding registers far apart, no discrete input), says so on stderr with
// the requests each took, and writes a plant file that plcsim serves again:
// probing the replay records the same file.
func TestSnapshotProbeSparse(t *testing.T) {
	_, plcsim := buildBinaries(t)
	old := now
	now = func() time.Time { return time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC) }
	defer func() { now = old }()
	src := spawnPlcsim(t, plcsim, "--plant", plantPath("sparse"))
	first := runCLI(t, "snapshot", "-a", src, "--probe", "--name", "meter")
	if first.code != 0 {
		t.Fatalf("snapshot --probe: exit %d: %s", first.code, first.stderr)
	}
	found := probeReport(t, first.stderr)
	for table, want := range map[string]string{
		"coils":             "1 run: 100..115",
		"discrete inputs":   "no address",
		"holding registers": "2 runs: 1000..1099, 2000..2009", // the lone register 39 holds no sample of step 100
		"input registers":   "1 run: 100..199",
	} {
		if found[table] != want {
			t.Errorf("probe of %s found %q, want %q\n%s", table, found[table], want, first.stderr)
		}
	}
	p, err := plant.Parse([]byte(first.stdout), "meter.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, first.stdout)
	}
	u := p.Devices[0].Unit(1)
	img, _ := u.Image(plant.HoldingRegisters)
	if len(img) != 2 || img[0].Regs[3] != 4 || img[1].Regs[2] != 300 {
		t.Errorf("holding registers recorded as %v", img)
	}
	file := filepath.Join(t.TempDir(), "meter.yaml")
	if err := os.WriteFile(file, []byte(first.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	replay := spawnPlcsim(t, plcsim, "--plant", file)
	second := runCLI(t, "snapshot", "-a", replay, "--probe", "--name", "meter")
	if second.code != 0 {
		t.Fatalf("snapshot --probe of the replay: exit %d: %s", second.code, second.stderr)
	}
	// The same file but for the address each was read from.
	body := func(s, addr string) string {
		return strings.Replace(s[strings.Index(s, "\nversion:"):], "\n    address: \""+addr+"\"\n", "\n", 1)
	}
	if body(first.stdout, src) != body(second.stdout, replay) {
		t.Errorf("the replay records differently:\n%s\nfirst:\n%s", second.stdout, first.stdout)
	}
	if !strings.Contains(first.stdout, "# probed holding registers: 2 runs: 1000..1099, 2000..2009 in ") {
		t.Errorf("the file's comment does not say what the probe found:\n%s", first.stdout)
	}
	// identification and server id: as sparse.yaml says, and the replay
	// answers FC 43/14 and FC 17 with the same bytes
	orig := loadTestPlant(t, "sparse").Devices[0].Unit(1)
	if u.Identity == nil || !reflect.DeepEqual(u.Identity.Objects, orig.Identity.Objects) || u.Identity.Conformity != 0x83 || u.ServerID == nil || !bytes.Equal(u.ServerID.Bytes(), orig.ServerID.Bytes()) {
		t.Errorf("recorded identity %+v server id %+v, want %+v %+v", u.Identity, u.ServerID, orig.Identity, orig.ServerID)
	}
	for _, want := range []string{"snapshot: device identification: 9 objects, conformity 0x83\n", "snapshot: server id: 8 bytes, run indicator ON\n"} {
		if !strings.Contains(first.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, first.stderr)
		}
	}
	ctx := context.Background()
	a, b := dialUnit(t, src, 1), dialUnit(t, replay, 1)
	for code := modbus.DeviceIDBasic; code <= modbus.DeviceIDExtended; code++ {
		d1, err1 := a.ReadDeviceID(ctx, code)
		d2, err2 := b.ReadDeviceID(ctx, code)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(d1, d2) {
			t.Errorf("FC 43/14 code %d: source %+v %v, replay %+v %v", code, d1, err1, d2, err2)
		}
	}
	s1, err1 := a.ReportServerID(ctx)
	s2, err2 := b.ReportServerID(ctx)
	if err1 != nil || err2 != nil || !bytes.Equal(s1, s2) {
		t.Errorf("FC 17: source % x %v, replay % x %v", s1, err1, s2, err2)
	}
}

// TestSnapshotIdentityNotOffered: a device without FC 17 is recorded
// without server_id and stderr says so; --tables-only asks for neither
// identification nor server id.
func TestSnapshotIdentityNotOffered(t *testing.T) {
	s := simtest.Start(t, simulator.Config{})
	r := runCLI(t, "snapshot", "-a", s.Addr, "--holding-registers", "0-1")
	if r.code != 0 || !strings.Contains(r.stderr, "snapshot: server id: not offered (exception 01 illegal function): not recorded") ||
		strings.Contains(r.stdout, "server_id:") || !strings.Contains(r.stdout, "identification:") {
		t.Errorf("exit %d\nstderr:\n%s\nstdout:\n%s", r.code, r.stderr, r.stdout)
	}
	ident, sid := s.FunctionRequests(0x2B), s.FunctionRequests(0x11)
	if ident == 0 || sid != 1 {
		t.Errorf("%d FC 43 and %d FC 17 requests, want some and 1", ident, sid)
	}
	r = runCLI(t, "snapshot", "-a", s.Addr, "--holding-registers", "0-1", "--tables-only")
	if r.code != 0 || strings.Contains(r.stdout, "identification:") || s.FunctionRequests(0x2B) != ident || s.FunctionRequests(0x11) != sid {
		t.Errorf("--tables-only: exit %d, FC 43 %d -> %d, FC 17 %d -> %d\n%s", r.code, ident, s.FunctionRequests(0x2B), sid, s.FunctionRequests(0x11), r.stdout)
	}
}

// TestSnapshotProbeCount: the requests stderr reports are those the
// simulator counted.
func TestSnapshotProbeCount(t *testing.T) {
	s := servePlant(t, loadTestPlant(t, "sparse"))
	before := s.FunctionRequests(3)
	r := runCLI(t, "snapshot", "-a", s.Addr, "--probe", "--probe-step", "1000",
		"--coils", "100-115", "--discrete-inputs", "0", "--input-registers", "100-199")
	if r.code != exitException {
		t.Fatalf("snapshot: exit %d (want 3: discrete input 0 does not exist): %s", r.code, r.stderr)
	}
	r = runCLI(t, "snapshot", "-a", s.Addr, "--probe", "--probe-step", "1000", "--coils", "100-115", "--input-registers", "100-199")
	found := probeReport(t, r.stderr)
	m := regexp.MustCompile(`holding registers: .* in (\d+) requests \(at most (\d+) with --probe-step 1000\)`).FindStringSubmatch(r.stderr)
	if r.code != 0 || m == nil || found["holding registers"] != "2 runs: 1000..1099, 2000..2009" {
		t.Fatalf("snapshot: exit %d: %s", r.code, r.stderr)
	}
	n, _ := strconv.Atoi(m[1])
	bound, _ := strconv.Atoi(m[2])
	// the probe, then one read of each run
	if got := int(s.FunctionRequests(3) - before); got != n+2 || n > bound {
		t.Errorf("simulator counted %d holding-register requests; stderr says the probe sent %d (bound %d), then 2 reads", got, n, bound)
	}
	if r := runCLI(t, "snapshot", "-a", s.Addr, "--probe", "--probe-step", "0"); r.code != exitUsage || !strings.Contains(r.stderr, "--probe-step 0: want 1..65535") {
		t.Errorf("--probe-step 0: exit %d %q", r.code, r.stderr)
	}
}

// probeReport maps table to what stderr's "snapshot: probe TABLE: FOUND in
// N requests" lines say was found.
func probeReport(t *testing.T, stderr string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^snapshot: probe ([a-z ]+): (.*) in \d+ requests \(at most \d+ with --probe-step \d+\)$`).FindAllStringSubmatch(stderr, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// TestSnapshotAddress: the plant file snapshot writes names the device's
// address as it was read from, so the file serves as is: with the device
// gone, plcsim --plant FILE (no --listen) listens on that address and
// answers there as the device did.
func TestSnapshotAddress(t *testing.T) {
	_, plcsim := buildBinaries(t)
	// The port stays this test's from the snapshot to the replay (testutil.HeldAddr),
	// so no other process can take it while neither simulator listens.
	src := simtest.Start(t, simulator.Config{Listen: testutil.HeldAddr(t), HoldingRegisters: 10})
	for i := range uint16(10) {
		src.SetHoldingRegisters(i, 100+i)
	}
	out := mustRun(t, "snapshot", "-a", src.Addr, "--holding-registers", "0-9", "--tables-only")
	p, err := plant.Parse([]byte(out), "snapshot.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got := p.Devices[0].Address; got != src.Addr {
		t.Fatalf("snapshot of %s wrote address %q, want %q:\n%s", src.Addr, got, src.Addr, out)
	}
	if want := "# Serve it with: plcsim --plant FILE (on " + src.Addr + ", its address; --listen HOST:PORT serves it elsewhere)\n"; !strings.Contains(out, want) {
		t.Errorf("snapshot comment does not say where the file serves: want %q in\n%s", want, out)
	}
	file := filepath.Join(t.TempDir(), "plc.yaml")
	if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	src.Stop(t) // the address is free for the replay, and still held
	testutil.CheckHeld(t, src.Addr)
	if got := spawnPlcsimArgs(t, plcsim, "--plant", file); got != src.Addr {
		t.Fatalf("plcsim --plant FILE listens on %s, want the recorded %s", got, src.Addr)
	}
	regs, err := dialUnit(t, src.Addr, 1).ReadHoldingRegisters(context.Background(), 0, 10)
	if err != nil || regs[0] != 100 || regs[9] != 109 {
		t.Errorf("the replay at %s answers %v, %v; want 100..109", src.Addr, regs, err)
	}
}
