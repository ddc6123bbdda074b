package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/plcctl/plcctl/plant"
)

// TestSnapshotRoundTripUnits: snapshot --units 1,2 --probe --plant of a
// device serving sparse.yaml writes one file with both units and the
// tags it can hold; a simulator serving that file answers every address
// of every table of both units as the source did, and plcctl get of each
// tag kept reads the same values through the new file as through the old.
// A snapshot held one unit and no tag.
func TestSnapshotRoundTripUnits(t *testing.T) {
	src := servePlant(t, loadTestPlant(t, "sparse"))
	// no --name: the device the tags come from keeps its name, meter
	r := runCLI(t, "snapshot", "-a", src.Addr, "--units", "1,2", "--probe", "--tables-only", "--plant", plantPath("sparse"))
	if r.code != 0 {
		t.Fatalf("snapshot: exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{
		"snapshot: unit 2: probe holding registers: 1 run: 0..9 in ",
		// the lone register 39 holds no sample of step 100: its tag is left out, said
		"snapshot: tag config.id left out: holding registers 39 of unit 1 not recorded\n",
		"snapshot: 7 tags of device meter in " + plantPath("sparse") + "\n",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	file := filepath.Join(t.TempDir(), "meter.yaml")
	if err := os.WriteFile(file, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	p2, err := plant.Load(file)
	if err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if !strings.Contains(r.stdout, "# unit 1: probed holding registers: 2 runs: 1000..1099, 2000..2009 in ") {
		t.Errorf("the file's comment does not say what each unit's probe found:\n%s", r.stdout)
	}
	d2 := p2.Devices[0]
	if d2.Name != "meter" {
		t.Errorf("device written as %q, want meter, the name of the tags' device", d2.Name)
	}
	if len(d2.Units) != 2 || d2.Units[0].ID != 1 || d2.Units[1].ID != 2 {
		t.Fatalf("units written: %+v", d2.Units)
	}
	replay := servePlant(t, p2)
	ctx := context.Background()
	for _, u := range d2.Units {
		a, b := dialUnit(t, src.Addr, u.ID), dialUnit(t, replay.Addr, u.ID)
		for k := plant.Coils; k <= plant.InputRegisters; k++ {
			for _, rg := range u.Tables[k].Ranges {
				for at := int(rg.Start); at <= int(rg.End); at += 100 {
					n := uint16(min(100, int(rg.End)-at+1))
					b1, r1, err1 := readSpan(ctx, a, k, uint16(at), n)
					b2, r2, err2 := readSpan(ctx, b, k, uint16(at), n)
					if err1 != nil || err2 != nil || !slices.Equal(b1, b2) || !slices.Equal(r1, r2) {
						t.Errorf("unit %d %s %d+%d: source %v %v %v, replay %v %v %v", u.ID, k, at, n, b1, r1, err1, b2, r2, err2)
					}
				}
			}
		}
	}
	var kept []string
	for _, tg := range d2.Tags {
		kept = append(kept, tg.Name)
	}
	if want := []string{"energy", "relay1", "relay16", "config.word", "config.word.bit0", "config.word.raw", "unit2.setpoint"}; !slices.Equal(kept, want) {
		t.Fatalf("tags kept %v, want %v", kept, want)
	}
	for _, out := range []string{"text", "json", "csv"} {
		old := mustRun(t, append([]string{"get", "--plant", plantPath("sparse"), "-a", src.Addr, "-o", out}, kept...)...)
		got := mustRun(t, append([]string{"get", "--plant", file, "-a", replay.Addr, "-o", out}, kept...)...)
		if out == "json" { // the device's name is the snapshot's --name, as it was
			old = strings.ReplaceAll(old, `"device":"meter"`, "")
			got = strings.ReplaceAll(got, `"device":"meter"`, "")
		}
		if got != old {
			t.Errorf("get -o %s through the snapshot:\n%s\nwant, through sparse.yaml:\n%s", out, got, old)
		}
	}
	// each tag described as in the source file, less its initial value
	orig := loadTestPlant(t, "sparse")
	for _, tg := range d2.Tags {
		o := *orig.Tag(tg.Name)
		g := *tg
		o.Device, g.Device, o.Line, g.Line, o.Initial, o.Sim = nil, nil, 0, 0, nil, nil
		if !reflect.DeepEqual(g, o) {
			t.Errorf("tag %s: %+v, want %+v", tg.Name, g, o)
		}
	}
}

// TestSnapshotFromPlantRanges: snapshot --plant FILE with neither ranges
// nor --probe reads every unit of the file's device in the ranges the file
// gives, so the lone register a probe misses (39, and its tag config.id) is
// recorded too, and every tag survives; -u names one unit of them.
func TestSnapshotFromPlantRanges(t *testing.T) {
	p := loadTestPlant(t, "sparse")
	src := servePlant(t, p)
	r := runCLI(t, "snapshot", "-a", src.Addr, "--tables-only", "--plant", plantPath("sparse"))
	if r.code != 0 {
		t.Fatalf("snapshot: exit %d: %s", r.code, r.stderr)
	}
	p2, err := plant.Parse([]byte(r.stdout), "meter.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	d, d2 := p.Devices[0], p2.Devices[0]
	if len(d2.Tags) != len(d.Tags) || len(d2.Units) != len(d.Units) {
		t.Fatalf("%d tags and %d units written, want %d and %d:\n%s", len(d2.Tags), len(d2.Units), len(d.Tags), len(d.Units), r.stderr)
	}
	for i, u := range d.Units {
		for k := plant.Coils; k <= plant.InputRegisters; k++ {
			if got, want := d2.Units[i].Tables[k].Ranges, u.Tables[k].Ranges; !reflect.DeepEqual(got, want) && len(got)+len(want) > 0 {
				t.Errorf("unit %d %s: ranges %v, want the file's %v", u.ID, k, got, want)
			}
		}
	}
	replay := servePlant(t, p2)
	names := []string{}
	for _, tg := range d.Tags {
		names = append(names, tg.Name)
	}
	old := mustRun(t, append([]string{"get", "--plant", plantPath("sparse"), "-a", src.Addr}, names...)...)
	got := mustRun(t, append([]string{"get", "--plant", plantPath("sparse"), "-a", replay.Addr}, names...)...)
	if got != old || !strings.Contains(got, "config.id") {
		t.Errorf("get through the replay:\n%s\nwant:\n%s", got, old)
	}
	// without -a, the device is read at its address: in the file
	moved := filepath.Join(t.TempDir(), "moved.yaml")
	b, err := os.ReadFile(plantPath("sparse"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(moved, []byte(strings.Replace(string(b), "address: 127.0.0.1:5021", "address: "+src.Addr, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, "snapshot", "--tables-only", "--plant", moved); r.code != 0 || !strings.Contains(r.stdout, "address: \""+src.Addr+"\"") {
		t.Errorf("snapshot --plant without -a: exit %d, %s\n%s", r.code, r.stderr, r.stdout)
	}
	one := runCLI(t, "snapshot", "-a", src.Addr, "--tables-only", "--plant", plantPath("sparse"), "-u", "2")
	if p3, err := plant.Parse([]byte(one.stdout), "u2.yaml"); one.code != 0 || err != nil || len(p3.Devices[0].Units) != 1 || p3.Devices[0].Units[0].ID != 2 {
		t.Errorf("snapshot -u 2 --plant: exit %d, %v:\n%s%s", one.code, err, one.stdout, one.stderr)
	}
	if bad := runCLI(t, "snapshot", "-a", src.Addr, "--plant", plantPath("sparse"), "-u", "3"); bad.code != exitUsage ||
		!strings.Contains(bad.stderr, "unit 3 is not a unit of device meter in the plant file") {
		t.Errorf("snapshot -u 3 --plant: exit %d, %s; want 2 saying unit 3 is not in the file", bad.code, bad.stderr)
	}
}

// TestSnapshotUsageUnitsPlant: --units and -u together, unit 0, and a
// plant file without the device are usage errors, before anything is sent.
func TestSnapshotUsageUnitsPlant(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"units and -u", []string{"--units", "1,2", "-u", "3"}, "-u and --units both name the units to record"},
		{"unit 0", []string{"--units", "0-2"}, "unit 0 cannot be recorded"},
		{"bad list", []string{"--units", "1,x"}, `"x" is not a unit id`},
		{"no such device", []string{"--plant", plantPath("water-works"), "--name", "nope"}, `has no device "nope" (--name): it has`},
		{"bad plant", []string{"--plant", filepath.Join(t.TempDir(), "none.yaml")}, "none.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// 127.0.0.1:1: nothing listens; a usage error comes first.
			r := runCLI(t, append([]string{"snapshot", "-a", "127.0.0.1:1", "--holding-registers", "0-9"}, tc.args...)...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("snapshot %v: exit %d, stderr %q; want exit 2 saying %q", tc.args, r.code, r.stderr, tc.want)
			}
		})
	}
}
