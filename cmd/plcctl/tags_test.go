package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plant"
	"github.com/plcctl/plcctl/plc"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

var plantsDir = filepath.Join("..", "..", "testdata", "plants")

func plantPath(name string) string { return filepath.Join(plantsDir, name+".yaml") }

func loadTestPlant(t *testing.T, name string) *plant.Plant {
	t.Helper()
	p, err := plant.Load(plantPath(name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// servePlant starts a simulator laid out and preloaded as the plant's first
// device (its units, ranges and initial values), through the simulator's Go
// API.
func servePlant(t *testing.T, p *plant.Plant) *simtest.Server {
	t.Helper()
	d := p.Devices[0]
	cfg := simulator.Config{Units: map[uint8]simulator.UnitConfig{}}
	for _, u := range d.Units {
		var uc simulator.UnitConfig
		for k, dst := range []*simulator.Table{&uc.Coils, &uc.DiscreteInputs, &uc.HoldingRegisters, &uc.InputRegisters} {
			dst.Ranges = []simulator.Range{}
			for _, r := range u.Tables[k].Ranges {
				dst.Ranges = append(dst.Ranges, simulator.Range{First: r.Start, Last: r.End})
			}
		}
		cfg.Units[u.ID] = uc
	}
	s := simtest.Start(t, cfg)
	for _, u := range d.Units {
		if err := u.Preload(s.Unit(u.ID)); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestTagsList(t *testing.T) {
	for _, out := range []string{"text", "json", "csv"} {
		got := mustRun(t, "tags", "--plant", plantPath("pump-station"), "-o", out)
		checkGolden(t, "output/tags-pump-station."+out, got)
	}
	got := mustRun(t, "tags", "--plant", plantPath("pump-station"), "pump1.*", "--one-based")
	lines := strings.Split(got, "\n")
	if len(lines) != 5 || strings.Contains(got, "pump2") || strings.Fields(lines[1])[0] != "pump1.cmd" || strings.Fields(lines[1])[4] != "1" {
		t.Errorf("tags pump1.* --one-based =\n%s", got)
	}
	// A pattern that matches nothing is a usage error naming it (it
	// printed the header alone and exited 0), even beside one that matches.
	if r := runCLI(t, "tags", "--plant", plantPath("pump-station"), "pump1.*", "pmp*"); r.code != exitUsage || r.stdout != "" ||
		!strings.Contains(r.stderr, `no tag matches "pmp*"`) {
		t.Errorf("tags pump1.* pmp*: exit %d, stdout %q, stderr %q; want exit 2 naming pmp*", r.code, r.stdout, r.stderr)
	}
	t.Setenv(plantEnv, plantPath("sparse"))
	if got := mustRun(t, "tags", "-o", "csv"); !strings.Contains(got, "config.word.bit0,meter,1,holding_registers,1000,bool,read-write,,,1,0,,,\n") {
		t.Errorf("tags from $%s =\n%s", plantEnv, got)
	}
	// CSV carries the 0-based protocol address with --one-based too, as
	// JSON does and the help says (it printed 101 for relay1 at 100), and
	// JSON's fields.
	for _, out := range []string{"csv", "json"} {
		got := mustRun(t, "--one-based", "tags", "relay1", "energy", "-o", out)
		if want := map[string]string{"csv": "relay1,meter,1,coils,100,", "json": `"tag":"relay1","device":"meter","unit":1,"table":"coils","address":100,`}[out]; !strings.Contains(got, want) {
			t.Errorf("--one-based tags -o %s =\n%s\nwant address 100", out, got)
		}
	}
	if got := mustRun(t, "tags", "energy", "-o", "csv"); !strings.HasSuffix(got, ",registers,bit,word_order,scale,offset\nenergy,meter,1,input_registers,100,uint32,read-only,Wh,,2,,ABCD,,\n") {
		t.Errorf("tags energy -o csv =\n%s", got)
	}
}

// TestGetAllTypes: every tag of all-types.yaml, served by a simulator
// preloaded from the file, reads back as its initial value, in as few
// requests as PlanReads plans.
func TestGetAllTypes(t *testing.T) {
	p := loadTestPlant(t, "all-types")
	s := servePlant(t, p)
	var names []string
	for _, tag := range p.Tags {
		names = append(names, tag.Name)
	}
	before := [5]uint64{}
	for fc := 1; fc <= 4; fc++ {
		before[fc] = s.FunctionRequests(uint8(fc))
	}
	r := runCLI(t, append([]string{"get", "--plant", plantPath("all-types"), "-a", s.Addr, "-o", "json", "--log-level", "debug"}, names...)...)
	if r.code != 0 {
		t.Fatalf("get: exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != len(p.Tags) {
		t.Fatalf("%d lines for %d tags:\n%s", len(lines), len(p.Tags), r.stdout)
	}
	for i, line := range lines {
		var rec struct {
			Tag     string
			Value   any
			Address uint16
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("line %d: %v: %s", i, err, line)
		}
		tag := p.Tag(rec.Tag)
		want := tag.Initial
		if want == nil {
			want = zeroOf(tag)
		}
		if got, wantText := fmt.Sprint(rec.Value), fmt.Sprint(jsonRoundTrip(t, jsonValue(tag.Type, want))); got != wantText {
			t.Errorf("%s = %v, want %v", rec.Tag, got, wantText)
		}
	}
	plan := plant.PlanReads(p.Tags, plant.PlanOptions{})
	perFC := map[uint8]int{}
	for _, rd := range plan {
		perFC[map[plant.TableKind]uint8{plant.Coils: 1, plant.DiscreteInputs: 2, plant.HoldingRegisters: 3, plant.InputRegisters: 4}[rd.Table]]++
	}
	for fc := uint8(1); fc <= 4; fc++ {
		if n := int(s.FunctionRequests(fc) - before[fc]); n != perFC[fc] {
			t.Errorf("function %d: %d requests, plan has %d", fc, n, perFC[fc])
		}
	}
	if perFC[3] != 1 || perFC[4] != 1 {
		t.Errorf("plan %v: want one holding and one input register request (all tags are neighbours)", perFC)
	}
	if n := strings.Count(r.stderr, "tag read"); n != len(plan) {
		t.Errorf("--log-level debug shows %d planned reads, want %d:\n%s", n, len(plan), r.stderr)
	}
	text := mustRun(t, "get", "--plant", plantPath("all-types"), "-a", s.Addr, "hr.float32.cdab", "hr.scaled.int16", "hr.bit15", "hr.string", "coil.on")
	checkGolden(t, "output/get-all-types.txt", text)
	csv := mustRun(t, "get", "--plant", plantPath("all-types"), "-a", s.Addr, "-o", "csv", "hr.scaled.uint32", "hr.hex")
	checkGolden(t, "output/get-all-types.csv", csv)
}

func jsonRoundTrip(t *testing.T, v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	json.Unmarshal(b, &out)
	return out
}

func zeroOf(t *plant.Tag) any {
	v, _ := t.DecodeValue(make([]uint16, t.Registers()))
	return v
}

// TestSetTags: set writes each kind of tag with the right function and the
// value reads back; mistakes are usage errors and send nothing.
func TestSetTags(t *testing.T) {
	p := loadTestPlant(t, "pump-station")
	s := servePlant(t, p)
	base := []string{"--plant", plantPath("pump-station"), "-a", s.Addr}
	set := func(args ...string) result { return runCLI(t, append(append([]string{"set"}, base...), args...)...) }
	writes := func() uint64 {
		var n uint64
		for _, fc := range []uint8{5, 6, 15, 16, 22, 23} {
			n += s.FunctionRequests(fc)
		}
		return n
	}
	s.Unit(1).SetHoldingRegisters(3, 0xF0F0) // mode bits: set must keep the other 14
	tests := []struct {
		tag, value string
		fc         uint8
		shown      string
	}{
		{"setpoint", "2.75", 16, "setpoint = 2.75 m (function 16, holding registers 0..1)"},
		{"pressure.limit", "-3.2", 6, "pressure.limit = -3.2 bar (function 6, holding registers 2)"},
		{"mode.auto", "on", 22, "mode.auto = true (function 22, holding registers 3)"},
		{"mode.local", "1", 22, "mode.local = true (function 22, holding registers 3)"},
		{"pump1.cmd", "true", 5, "pump1.cmd = true (function 5, coils 0)"},
	}
	for _, tc := range tests {
		before := s.FunctionRequests(tc.fc)
		r := set(tc.tag, tc.value)
		if r.code != 0 || strings.TrimSpace(r.stdout) != tc.shown {
			t.Errorf("set %s %s = exit %d %q %s, want %q", tc.tag, tc.value, r.code, r.stdout, r.stderr, tc.shown)
		}
		if n := s.FunctionRequests(tc.fc) - before; n != 1 {
			t.Errorf("set %s: %d requests of function %d, want 1", tc.tag, n, tc.fc)
		}
	}
	if got := s.Unit(1).HoldingRegisters(0, 4); !reflect.DeepEqual(got, []uint16{0x4030, 0x0000, 0xFFE0, 0xF0F3}) {
		t.Errorf("holding registers 0..3 = %04X, want 4030 0000 FFE0 F0F3", got)
	}
	out := mustRun(t, append(append([]string{"get"}, base...), "setpoint", "pressure.limit", "mode.auto", "mode.local", "pump1.cmd")...)
	checkGolden(t, "output/get-after-set.txt", out)

	sent := writes()
	bad := []struct {
		args []string
		msg  string
	}{
		// each says why: the file's access: (and where), or the table
		{[]string{"station.name", "PS-02"}, "tag station.name is read-only (holding registers 10..17): the plant file says access: read-only (" +
			plantPath("pump-station") + ", line 71)"},
		{[]string{"tank1.level", "2"}, "tag tank1.level is read-only (input registers 0): Modbus writes only coils and holding registers"},
		{[]string{"pump1.run", "on"}, "tag pump1.run is read-only (discrete inputs 0): Modbus writes only coils and holding registers"},
		{[]string{"pressure.limit", "4000"}, "out of range"},
		{[]string{"pressure.limit", "1.25"}, "not a whole step"},
		{[]string{"mode.auto", "maybe"}, "want true, false"},
		{[]string{"setpoint", "1e39"}, "out of range"},
		{[]string{"setpont", "1"}, `no tag "setpont" (did you mean setpoint?)`},
		{[]string{"setpoint"}, "want TAG VALUE"},
	}
	for _, tc := range bad {
		r := set(tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("set %q = exit %d, stderr %q; want 2 and %q", tc.args, r.code, r.stderr, tc.msg)
		}
	}
	if n := writes() - sent; n != 0 {
		t.Errorf("refused sets sent %d write requests", n)
	}
	dry := mustRun(t, append(append([]string{"set"}, base...), "--dry-run", "mode.local", "off")...)
	if want := "00 01 00 00 00 08 01 16 00 03 FF FD 00 00\n"; dry != want {
		t.Errorf("set --dry-run mode.local off = %q, want %q", dry, want)
	}
	if n := writes() - sent; n != 0 {
		t.Errorf("--dry-run sent %d write requests", n)
	}
}

func TestTagErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("version: 1\ndevices:\n  - name: d\n    tags:\n      - {name: a, table: hr, address: 0, type: flot32}\n"), 0o644)
	r := runCLI(t, "get", "--plant", bad, "a")
	if r.code != exitUsage || !strings.Contains(r.stderr, "bad.yaml:5:") || !strings.Contains(r.stderr, "devices[0].tags[0].type") {
		t.Errorf("get with a bad file = exit %d, stderr %q; want 2 naming line 5 and the key", r.code, r.stderr)
	}
	t.Setenv(plantEnv, "")
	if r := runCLI(t, "get", "a"); r.code != exitUsage || !strings.Contains(r.stderr, "no plant file") {
		t.Errorf("get without a plant = exit %d, %q", r.code, r.stderr)
	}
	// A value out of the tag's range: one sentence, no package prefixes.
	if r := runCLI(t, "set", "--plant", plantPath("pump-station"), "pressure.limit", "4000", "-a", closedPort(t)); r.code != exitUsage ||
		!strings.Contains(r.stderr, "plcctl set: tag pressure.limit: VALUE 4000 is out of range -3276.8..3276.7 bar (raw int16)\n") ||
		strings.Contains(r.stderr, "plant: ") || strings.Contains(r.stderr, "values: ") {
		t.Errorf("set out of range = exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runCLI(t, "get", "--plant", plantPath("sparse"), "energy", "-a", closedPort(t)); r.code != 1 || !strings.Contains(r.stderr, "get energy (input registers 100..101)") {
		t.Errorf("get from a closed port = exit %d, %q", r.code, r.stderr)
	}
}

// TestSparseUnits: tags of two units with their own memories, tables that
// start above 0.
func TestSparseUnits(t *testing.T) {
	p := loadTestPlant(t, "sparse")
	s := servePlant(t, p)
	out := mustRun(t, "get", "--plant", plantPath("sparse"), "-a", s.Addr, "config.id", "config.word", "config.word.bit0", "unit2.setpoint", "relay16")
	checkGolden(t, "output/get-sparse.txt", out)
	mustRun(t, "set", "--plant", plantPath("sparse"), "-a", s.Addr, "unit2.setpoint", "43")
	if got := s.Unit(2).HoldingRegisters(0, 1)[0]; got != 43 {
		t.Errorf("unit 2 holding 0 = %d, want 43", got)
	}
	if got := s.Unit(1).HoldingRegisters(39, 1)[0]; got != 7 {
		t.Errorf("unit 1 holding 39 = %d, want 7 (untouched)", got)
	}
}

func TestWatchTags(t *testing.T) {
	p := loadTestPlant(t, "pump-station")
	s := servePlant(t, p)
	r := runCLI(t, "watch", "--plant", plantPath("pump-station"), "-a", s.Addr, "setpoint", "pump1.cmd", "tank2.level", "--count", "3", "--interval", "5ms", "-o", "json")
	if r.code != 0 {
		t.Fatalf("watch tags: exit %d %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d rounds, want 3:\n%s", len(lines), r.stdout)
	}
	for i, l := range lines {
		var rec tagRound
		if err := json.Unmarshal([]byte(l), &rec); err != nil || rec.Round != i+1 ||
			rec.Values["setpoint"] != 2.5 || rec.Values["pump1.cmd"] != false || rec.Values["tank2.level"] != 2.0 {
			t.Errorf("round %d = %s (%v)", i+1, l, err)
		}
	}
	// three tables, so three requests per round
	if n := s.FunctionRequests(3) + s.FunctionRequests(1) + s.FunctionRequests(4); n != 9 {
		t.Errorf("%d requests for 3 rounds of 3 tables, want 9", n)
	}
	text := mustRun(t, "watch", "--count", "1", "--plant", plantPath("pump-station"), "-a", s.Addr, "setpoint")
	if f := strings.Fields(text); len(f) != 4 || f[1] != "setpoint" || f[2] != "2.5" || f[3] != "m" {
		t.Errorf("watch text = %q", text)
	}
	// a read command still works as before
	if r := runCLI(t, "watch", "--count", "1", "-a", s.Addr, "read-holding-registers", "0"); r.code != 0 {
		t.Errorf("watch read-holding-registers: exit %d %s", r.code, r.stderr)
	}
}

// TestSnapshotReplay: a simulator with written values is recorded by
// snapshot; plcsim --plant serving the file answers every read exactly as
// the first, and exception 02 outside the recorded ranges. Then plcsim
// --plant all-types.yaml serves every type and word order: get reads back
// each tag's initial value.
func TestSnapshotReplay(t *testing.T) {
	plcctl, plcsim := buildBinaries(t)
	src := simtest.Start(t, simulator.Config{UnitIDs: []uint8{3}})
	rnd := rand.New(rand.NewPCG(9, 9))
	m := src.Unit(3)
	for i := 0; i < 300; i++ {
		m.SetHoldingRegisters(uint16(i), uint16(rnd.Uint32()))
		m.SetInputRegisters(uint16(1000+i), uint16(rnd.Uint32()))
		m.SetCoils(uint16(i), rnd.IntN(2) == 1)
		m.SetDiscreteInputs(uint16(i), rnd.IntN(3) == 1)
	}
	old := now
	now = func() time.Time { return time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC) }
	defer func() { now = old }()
	out := mustRun(t, "snapshot", "-a", src.Addr, "-u", "3", "--coils", "0-99", "--coils", "200-210", "--discrete-inputs", "5",
		"--holding-registers", "0-199", "--input-registers", "1000-1299", "--name", "plc-3")
	p, err := plant.Parse([]byte(out), "snapshot.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if u := p.Devices[0].Unit(3); u == nil || p.Devices[0].Name != "plc-3" {
		t.Fatalf("snapshot device %+v", p.Devices[0])
	}
	file := filepath.Join(t.TempDir(), "plc-3.yaml")
	if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := spawnPlcsim(t, plcsim, "--plant", file)
	ctx := context.Background()
	a, b := dialUnit(t, src.Addr, 3), dialUnit(t, dst, 3)
	reads := []struct {
		k           plant.TableKind
		addr, count uint16
	}{{plant.Coils, 0, 100}, {plant.Coils, 200, 11}, {plant.DiscreteInputs, 5, 1}, {plant.HoldingRegisters, 0, 200}, {plant.InputRegisters, 1000, 300}}
	for _, rd := range reads {
		b1, r1, err1 := readSpan(ctx, a, rd.k, rd.addr, rd.count)
		b2, r2, err2 := readSpan(ctx, b, rd.k, rd.addr, rd.count)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(b1, b2) || !reflect.DeepEqual(r1, r2) {
			t.Errorf("%s %d+%d: source %v %v, replay %v %v", rd.k, rd.addr, rd.count, err1, err2, len(r1), len(r2))
		}
	}
	for _, rd := range []struct {
		k    plant.TableKind
		addr uint16
	}{{plant.Coils, 100}, {plant.Coils, 199}, {plant.DiscreteInputs, 4}, {plant.HoldingRegisters, 200}, {plant.InputRegisters, 999}} {
		if _, _, err := readSpan(ctx, b, rd.k, rd.addr, 1); !isIllegalAddress(err) {
			t.Errorf("replay %s %d = %v, want exception 02 (not recorded)", rd.k, rd.addr, err)
		}
	}
	if _, _, err := readSpan(ctx, dialUnit(t, dst, 1), plant.HoldingRegisters, 0, 1); err == nil {
		t.Error("replay answers unit 1, which was not recorded")
	}
	head := strings.SplitN(out, "\nversion:", 2)[0]
	if want := "# Recorded by plcctl snapshot from " + src.Addr + " unit 3 at 2026-12-01T12:00:00.000Z."; !strings.HasPrefix(head, want) {
		t.Errorf("snapshot comment %q, want it to start %q", head, want)
	}
	checkAllTypes(t, spawnPlcsim(t, plcsim, "--plant", plantPath("all-types")))
	demoPlant(t, plcctl, plcsim)
}

// demoPlant runs the plant part of the make demo tour (testdata/demo-plant.sh)
// against plcsim --plant pump-station.yaml: tags by name, living values, a
// status that follows its command.
func demoPlant(t *testing.T, plcctl, plcsim string) {
	addr := spawnPlcsim(t, plcsim, "--plant", plantPath("pump-station"))
	cmd := exec.Command("sh", filepath.Join("..", "..", "testdata", "demo-plant.sh"))
	cmd.Env = append(os.Environ(), "ADDR="+addr, "PLCCTL="+plcctl, "PLANT="+plantPath("pump-station"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo-plant.sh: %v\n%s", err, out.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("demo-plant.sh did not finish\n%s", out.String())
	}
	text := out.String()
	for _, want := range []string{
		"pump1.cmd    station  1     coils            0        bool    read-write            start pump 1",
		"pressure.limit = 7.5 bar (function 6, holding registers 2)",
		"station.name    PS-01",
		`{"tag":"setpoint","value":2.5,"eng_unit":"m"`,
		"tag tank1.level is read-only",
		"out of range -3276.8..3276.7 bar",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("demo-plant output lacks %q", want)
		}
	}
	// pump1.run follows pump1.cmd after 500 ms: false in the first round
	// of watch, true by the fourth (250 ms apart)
	var run []string
	for _, l := range strings.Split(text, "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[1] == "pump1.run" {
			run = append(run, f[2])
		}
	}
	if len(run) != 4 || run[3] != "true" {
		t.Errorf("pump1.run over the watch rounds = %v, want it true by the last", run)
	}
	if t.Failed() {
		t.Logf("demo-plant output:\n%s", text)
	}
}

// checkAllTypes reads every tag of all-types.yaml from addr and compares
// it with the tag's initial value.
func checkAllTypes(t *testing.T, addr string) {
	t.Helper()
	p := loadTestPlant(t, "all-types")
	args := []string{"get", "--plant", plantPath("all-types"), "-a", addr, "-o", "json"}
	for _, tag := range p.Tags {
		args = append(args, tag.Name)
	}
	r := runCLI(t, args...)
	if r.code != 0 {
		t.Fatalf("get: exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != len(p.Tags) {
		t.Fatalf("%d lines for %d tags", len(lines), len(p.Tags))
	}
	for _, line := range lines {
		var rec struct {
			Tag   string
			Value any
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		tag := p.Tag(rec.Tag)
		want := tag.Initial
		if want == nil {
			want = zeroOf(tag)
		}
		if got, w := fmt.Sprint(rec.Value), fmt.Sprint(jsonRoundTrip(t, jsonValue(tag.Type, want))); got != w {
			t.Errorf("%s = %v, want %v", rec.Tag, got, w)
		}
	}
}

func dialUnit(t *testing.T, addr string, unit uint8) *plc.Client {
	t.Helper()
	c, err := plc.Dial(context.Background(), addr, plc.Options{UnitID: unit})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func isIllegalAddress(err error) bool {
	var e *modbus.ExceptionError
	return errorsAs(err, &e) && e.Code == modbus.IllegalDataAddress
}

// TestSnapshotProbe: --probe finds each table's extent within the bound.
func TestSnapshotProbe(t *testing.T) {
	src := simtest.Start(t, simulator.Config{Coils: 37, DiscreteInputs: 1, HoldingRegisters: 1000, InputRegisters: 65536})
	src.SetHoldingRegisters(999, 0xBEEF)
	before := src.FunctionRequests(3)
	out := mustRun(t, "snapshot", "-a", src.Addr, "--probe")
	p, err := plant.Parse([]byte(out), "probe.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	u := p.Devices[0].Units[0]
	for k, want := range map[plant.TableKind]plant.Range{plant.Coils: {Start: 0, End: 36}, plant.DiscreteInputs: {Start: 0, End: 0}, plant.HoldingRegisters: {Start: 0, End: 999}, plant.InputRegisters: {Start: 0, End: 65535}} {
		if got := u.Tables[k].Ranges; len(got) != 1 || got[0] != want {
			t.Errorf("%s probed as %v, want %v", k, got, want)
		}
	}
	// probe (657 samples, 9 joins, 7 to find the end) + 8 reads of 125 registers
	if n := src.FunctionRequests(3) - before; n != 657+9+7+8 {
		t.Errorf("%d holding-register requests, want %d", n, 657+9+7+8)
	}
	if img, _ := u.Image(plant.HoldingRegisters); img[0].Regs[999] != 0xBEEF {
		t.Errorf("holding 999 recorded as %04X", img[0].Regs[999])
	}
	if r := runCLI(t, "snapshot", "-a", src.Addr); r.code != exitUsage || !strings.Contains(r.stderr, "nothing to record") {
		t.Errorf("snapshot without ranges = exit %d %q", r.code, r.stderr)
	}
	if r := runCLI(t, "snapshot", "-a", src.Addr, "--coils", "9-3"); r.code != exitUsage || !strings.Contains(r.stderr, "ends before it starts") {
		t.Errorf("snapshot --coils 9-3 = exit %d %q", r.code, r.stderr)
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// TestGetTwoDevices: tags of two devices are read over one connection to
// each, named by the file; the first device's connection is reused when
// the reads come back to it.
func TestGetTwoDevices(t *testing.T) {
	s1 := simtest.Start(t, simulator.Config{})
	s2 := simtest.Start(t, simulator.Config{})
	s1.SetHoldingRegisters(0, 11)
	s1.SetCoils(0, true)
	s2.SetHoldingRegisters(0, 22)
	file := filepath.Join(t.TempDir(), "two.yaml")
	os.WriteFile(file, []byte(fmt.Sprintf(`version: 1
devices:
  - name: one
    address: %s
    tags:
      - {name: a, table: hr, address: 0}
      - {name: c, table: coil, address: 0}
  - name: two
    address: %s
    tags:
      - {name: b, table: hr, address: 0}
`, s1.Addr, s2.Addr)), 0o644)
	out := mustRun(t, "get", "--plant", file, "a", "b", "c")
	if want := "a  11\nb  22\nc  true\n"; out != want {
		t.Errorf("get a b c =\n%s\nwant\n%s", out, want)
	}
	if n1, n2 := s1.Stats().Accepted, s2.Stats().Accepted; n1 != 1 || n2 != 1 {
		t.Errorf("connections accepted: %d and %d, want 1 each", n1, n2)
	}
	// watch goes back to the first device each round on the same connection
	mustRun(t, "watch", "--plant", file, "--count", "3", "--interval", "1ms", "-o", "json", "a", "b")
	if n1, n2 := s1.Stats().Accepted, s2.Stats().Accepted; n1 != 2 || n2 != 2 {
		t.Errorf("after watch: connections accepted %d and %d, want 2 each (one more per run)", n1, n2)
	}
	// -a overrides the file's address for the tags of one device
	if out := mustRun(t, "get", "--plant", file, "-a", s2.Addr, "b"); out != "b  22\n" {
		t.Errorf("get -a s2 b = %q", out)
	}
}

// TestTagsOneAddressTwoDevices: -a (or the shell's one connection) replaces
// every device's address:, so tags of two devices under it, or a tag sent
// to the address of another device of the file, are refused before
// anything is sent. "get -a s2 a b" printed "a 22": device two's register
// under the name of device one's tag, a wrong value without a word; in the
// shell every tag went to the shell's connection alike.
func TestTagsOneAddressTwoDevices(t *testing.T) {
	s1 := simtest.Start(t, simulator.Config{})
	s2 := simtest.Start(t, simulator.Config{})
	file := filepath.Join(t.TempDir(), "two.yaml")
	os.WriteFile(file, []byte(fmt.Sprintf(`version: 1
devices:
  - name: one
    address: %s
    tags:
      - {name: a, table: hr, address: 0}
  - name: two
    address: %s
    tags:
      - {name: b, table: hr, address: 0}
`, s1.Addr, s2.Addr)), 0o644)
	script := filepath.Join(t.TempDir(), "script.txt")
	os.WriteFile(script, []byte("get a b\n"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"get", "-a", s2.Addr, "a", "b"}, "tags a (device one) and b (device two) would both be sent to " + s2.Addr},
		{[]string{"watch", "--count", "1", "-a", s2.Addr, "a", "b"}, "tags a (device one) and b (device two)"},
		{[]string{"get", "-a", s2.Addr, "a"}, "tag a is of device one, but " + s2.Addr + " is the address of device two in the plant file"},
		{[]string{"set", "-a", s2.Addr, "a", "5"}, "tag a is of device one, but " + s2.Addr + " is the address of device two"},
		{[]string{"shell", script, "-a", s1.Addr}, "tags a (device one) and b (device two) would both be sent to " + s1.Addr},
	} {
		t.Setenv(plantEnv, file) // shell takes no --plant
		r := runCLI(t, tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("plcctl %v: exit %d, stderr:\n%s\nwant exit 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	if n1, n2 := s1.Stats().Requests, s2.Stats().Requests; n1 != 0 || n2 != 0 {
		t.Errorf("requests sent: %d and %d, want none", n1, n2)
	}
}

// TestWatchTagsLiveTable: the terminal view of watch TAG... redraws in
// place, highlights changed values, dims them during a gap, and keeps the
// unit column aligned around the escapes.
func TestWatchTagsLiveTable(t *testing.T) {
	p := loadTestPlant(t, "pump-station")
	tags, _ := p.Lookup("setpoint", "pump1.cmd")
	var sb strings.Builder
	a := &app{}
	w := &watchState{interval: time.Second}
	at := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	v1 := []tagValue{{tags[0], float32(2.5)}, {tags[1], false}}
	v2 := []tagValue{{tags[0], float32(2.75)}, {tags[1], false}}
	w.round = 1
	a.tagTable(w, &sb, at, tags, v1, nil, nil, false)
	w.round = 2
	a.tagTable(w, &sb, at, tags, v2, v1, nil, false)
	w.round, w.failed = 3, 0
	a.tagTable(w, &sb, at, tags, nil, v2, errors.New("boom"), false)
	got := sb.String()
	for _, want := range []string{
		"watch 2 tags  every 1s  round 1  15:04:05\nok\nsetpoint   2.5    m\npump1.cmd  false\n",
		"\x1b[4A\r\x1b[J",
		"setpoint   \x1b[7m2.75\x1b[0m   m\n",
		"no answer (1 round): boom",
		"setpoint   \x1b[2m2.75\x1b[0m   m\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("live table lacks %q:\n%q", want, got)
		}
	}
}

// TestSetValueWording: a value set cannot send is one sentence that names
// the tag, the value and what is wrong with it, for every kind of tag;
// nothing is sent (the address is a closed port) and the exit is 2.
func TestSetValueWording(t *testing.T) {
	types := plantPath("all-types")
	for _, tt := range []struct {
		plant, tag, value, want string
	}{
		{plantPath("pump-station"), "pump1.cmd", "maybe", "tag pump1.cmd: VALUE maybe: want true, false, on, off, 1 or 0"},
		{types, "hr.scaled.int16", "1.234", "tag hr.scaled.int16: VALUE 1.234 is not a whole step of 0.1 bar (raw 12.34)"},
		{types, "hr.scaled.int16", "NaN", "tag hr.scaled.int16: VALUE NaN is not a finite number"},
		{types, "hr.string", "TOOLONGSTR", "tag hr.string: VALUE TOOLONGSTR has 10 characters, more than the tag's 6"},
		{types, "hr.uint16.abcd", "70000", "tag hr.uint16.abcd: VALUE 70000 is out of range 0..65535"},
		{types, "hr.int16.abcd", "abc", "tag hr.int16.abcd: VALUE abc is not an integer"},
		{types, "hr.float32.abcd", "1e40", "tag hr.float32.abcd: VALUE 1e40 is out of range ±3.403e+38"},
		{types, "hr.hex", "0x10000", "tag hr.hex: VALUE 0x10000 is out of range 0x0000..0xFFFF"},
		{types, "hr.bit0", " 1 ", `tag hr.bit0: VALUE " 1 "`},
	} {
		r := runCLI(t, "set", "--plant", tt.plant, tt.tag, tt.value, "-a", closedPort(t))
		if tt.value == " 1 " { // padded but a valid bool: accepted, then the closed port fails it
			if r.code != 1 {
				t.Errorf("set %s %q = exit %d, stderr %q; want 1 (the value is good, the port closed)", tt.tag, tt.value, r.code, r.stderr)
			}
			continue
		}
		if r.code != exitUsage || r.stderr == "" || !strings.HasPrefix(r.stderr, "plcctl set: "+tt.want+"\n") {
			t.Errorf("set %s %q = exit %d, stderr %q; want exit 2 and %q", tt.tag, tt.value, r.code, r.stderr, tt.want)
		}
	}
}

// TestTagOpErrors: a failed get, set or watch names the tags, then the
// registers of the request that failed ("get flow (input registers
// 2..3)"); it named the registers only, leaving the user to find the tag.
func TestTagOpErrors(t *testing.T) {
	s := simtest.Start(t, simulator.Config{InputRegisters: 2, HoldingRegisters: 1}) // flow, setpoint and more are missing
	file := plantPath("pump-station")
	tests := []struct {
		name  string
		args  []string
		want  string // the sentence, up to the reason
		round string // watch: its line for the failed round
	}{
		{"get", []string{"get", "flow"}, "plcctl: get flow (input registers 2..3) on ADDR unit 1: the device answered exception 02", ""},
		{"get, five tags in one request", []string{"get", "flow", "pump1.hours", "tank1.level", "tank2.level", "clock"},
			"plcctl: get tank1.level, tank2.level, flow and 2 more (input registers 0..7) on ADDR unit 1: the device answered exception 02", ""},
		{"set", []string{"set", "setpoint", "2.5"}, "plcctl: set setpoint (holding registers 0..1) on ADDR unit 1: the device answered exception 02", ""},
		{"watch", []string{"watch", "--count", "1", "tank1.level", "flow"}, "plcctl: watch flow (input registers 2..3) on ADDR unit 1: the device answered exception 02",
			" round 1 failed: flow (input registers 2..3): the device answered exception 02 illegal data address\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, append([]string{"--plant", file, "-a", s.Addr}, tc.args...)...)
			want := strings.ReplaceAll(tc.want, "ADDR", s.Addr)
			if r.code != exitException || !strings.Contains(r.stderr, want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 3 and:\n%s", r.code, r.stderr, want)
			}
			if tc.round != "" && !strings.Contains(r.stdout, tc.round) {
				t.Errorf("stdout:\n%s\nwant the round's line to end with:\n%s", r.stdout, tc.round)
			}
		})
	}
}

// TestWatchTagsAddressAfterTags: -a after the tag names names the device,
// as before them (it was parsed, but the plant file's address was dialled:
// a watch of the wrong device), and a shell line may not give it, nor the
// other flags of the shell's one connection, after the tags or after a
// read command's arguments.
func TestWatchTagsAddressAfterTags(t *testing.T) {
	s := startSim(t)
	s.SetHoldingRegisters(0, 42)
	file := filepath.Join(t.TempDir(), "plant.yaml")
	os.WriteFile(file, []byte("version: 1\ndevices:\n  - name: d\n    address: "+closedPort(t)+
		"\n    tags:\n      - {name: level, table: holding_register, address: 0}\n"), 0o644)
	for _, args := range [][]string{
		{"watch", "--count", "1", "--plant", file, "level", "-a", s.Addr},
		{"watch", "--count", "1", "--plant", file, "-a", s.Addr, "level"},
	} {
		if r := runCLI(t, args...); r.code != 0 || !strings.Contains(r.stdout, " level  42\n") {
			t.Errorf("plcctl %v: exit %d, stdout %q, stderr:\n%s", args, r.code, r.stdout, r.stderr)
		}
	}
	other := startSim(t)
	for _, line := range []string{
		"watch --count 1 --plant " + file + " level -a " + other.Addr,
		"watch --count 1 --plant " + file + " level --tls-insecure-skip-verify",
		"watch --count 1 read-holding-registers 0 --tls-insecure-skip-verify",
	} {
		script := filepath.Join(t.TempDir(), "script.txt")
		os.WriteFile(script, []byte(line+"\n"), 0o644)
		r := runCLI(t, "shell", script, "-a", s.Addr)
		if r.code != exitUsage || !strings.Contains(r.stderr, "is fixed for the shell's connection") {
			t.Errorf("shell line %q: exit %d, want 2 and the flag refused; stderr:\n%s", line, r.code, r.stderr)
		}
	}
	if st := other.Stats(); st.Accepted != 0 {
		t.Errorf("the other device saw %d connections, want 0", st.Accepted)
	}
}

// TestShellPlant: shell --plant FILE is the plant file of its lines' tag
// commands; shell refused --plant as an unknown flag, so only
// $PLCCTL_PLANT could name it.
func TestShellPlant(t *testing.T) {
	p := loadTestPlant(t, "pump-station")
	s := servePlant(t, p)
	script := filepath.Join(t.TempDir(), "script.txt")
	os.WriteFile(script, []byte("set setpoint 3.25\nget setpoint -o json\nwatch --count 1 -o json setpoint\n"), 0o644)
	t.Setenv(plantEnv, "")
	out := mustRun(t, "shell", "--plant", plantPath("pump-station"), "-a", s.Addr, script)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "setpoint = 3.25 m") || !strings.Contains(lines[1], `"tag":"setpoint","value":3.25`) ||
		!strings.Contains(lines[2], `"values":{"setpoint":3.25}`) {
		t.Errorf("shell --plant: stdout\n%s", out)
	}
}
