package main

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// TestScanGateway: behind a gateway serving units 1, 5 and 17 (0B for the
// others), scan finds exactly those, with their identification, over one
// connection.
func TestScanGateway(t *testing.T) {
	s := simtest.Start(t, simulator.Config{UnitIDs: []uint8{1, 5, 17}})
	r := runCLI(t, "scan", "-a", s.Addr)
	want := []string{"unit   1  ok  ", "unit   5  ok  ", "unit  17  ok  "}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 3 {
		t.Fatalf("scan: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, want[i]) || !strings.HasSuffix(l, `"plcctl"  "plcsim"  "1.0"`) {
			t.Errorf("line %d: %q, want %q... with the identification", i, l, want[i])
		}
	}
	if !strings.Contains(r.stderr, "scan: 3 of 247 unit ids answered at "+s.Addr) {
		t.Errorf("summary: %q", r.stderr)
	}
	if st := s.Stats(); st.Accepted != 1 {
		t.Errorf("%d connections, want 1", st.Accepted)
	}

	out := mustRun(t, "scan", "--units", "1-6,17", "--device-id=false", "--function", "READ-COILS", "-o", "json", "-a", s.Addr)
	var units []int
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var res struct {
			Unit     int    `json:"unit"`
			Function string `json:"function"`
			Answer   string `json:"answer"`
			Vendor   string `json:"vendor_name"`
		}
		if err := json.Unmarshal([]byte(l), &res); err != nil || res.Function != "read-coils" || res.Answer != "ok" || res.Vendor != "" {
			t.Errorf("json line %q (%v)", l, err)
		}
		units = append(units, res.Unit)
	}
	if len(units) != 3 || units[0] != 1 || units[1] != 5 || units[2] != 17 {
		t.Errorf("units %v, want [1 5 17]", units)
	}
}

// TestScanOutputs: every format says on stderr what the scan found, even
// when nothing answered (JSON exited 1 without a word); CSV has its header
// even then, and a column for each key of the JSON object (device_id was
// left out).
func TestScanOutputs(t *testing.T) {
	s := simtest.Start(t, simulator.Config{UnitIDs: []uint8{1, 5}})
	const header = "unit,function,answer,rtt_ms,vendor_name,product_code,major_minor_revision,device_id\n"
	for _, tc := range []struct {
		name       string
		args       []string
		code       int
		wantStdout string // a prefix; "" for nothing at all
		wantStderr string
	}{
		{"json, none", []string{"--units", "2-4", "--unit-timeout", "50ms", "-o", "json"}, exitFailure, "", "scan: 0 of 3 unit ids answered at "},
		{"csv, none", []string{"--units", "2-4", "--unit-timeout", "50ms", "-o", "csv"}, exitFailure, header, "scan: 0 of 3 unit ids answered at "},
		{"json, found", []string{"--units", "1-5", "--unit-timeout", "50ms", "-o", "json"}, exitOK, `{"unit":1,`, "scan: 2 of 5 unit ids answered at "},
		{"csv, found", []string{"--units", "5", "-o", "csv"}, exitOK, header + "5,read-holding-registers,ok,", "scan: 1 of 1 unit id answered at "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, append([]string{"scan", "-a", s.Addr}, tc.args...)...)
			if r.code != tc.code || !strings.HasPrefix(r.stdout, tc.wantStdout) || (tc.wantStdout == "" && r.stdout != "") ||
				!strings.HasPrefix(r.stderr, tc.wantStderr) {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s\nwant stdout %q..., stderr %q...", r.code, tc.code, r.stdout, r.stderr,
					tc.wantStdout, tc.wantStderr)
			}
		})
	}
	// A unit that refuses 43/14 says so in the CSV's device_id column too.
	rule, err := simulator.ParseFaultRule("action=exception,exception=1,fc=43")
	if err != nil {
		t.Fatal(err)
	}
	refusing := simtest.Start(t, simulator.Config{Faults: []simulator.FaultRule{rule}})
	if out := mustRun(t, "scan", "-a", refusing.Addr, "--units", "1", "-o", "csv"); !strings.HasSuffix(out, ",,,,unsupported\n") {
		t.Errorf("csv of a unit refusing 43/14:\n%s", out)
	}
}

// TestScanSilentAndRefusing: units that never answer are not found (each
// waits --unit-timeout, 16 at a time, on one connection that is not taken
// for dead); a unit answering exception 02 is found.
func TestScanSilentAndRefusing(t *testing.T) {
	rule, err := simulator.ParseFaultRule("action=drop,unit=2")
	if err != nil {
		t.Fatal(err)
	}
	s := simtest.Start(t, simulator.Config{HoldingRegisters: 10, Faults: []simulator.FaultRule{rule}})
	r := runCLI(t, "scan", "500", "--units", "1-3", "--unit-timeout", "150ms", "-a", s.Addr)
	if r.code != 0 || r.stdout == "" ||
		!strings.Contains(r.stdout, "unit   1  exception 02 illegal data address") || strings.Contains(r.stdout, "unit   2 ") ||
		!strings.Contains(r.stdout, "unit   3  exception 02") {
		t.Errorf("scan: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	all, err := simulator.ParseFaultRule("action=drop")
	if err != nil {
		t.Fatal(err)
	}
	silent := simtest.Start(t, simulator.Config{Faults: []simulator.FaultRule{all}})
	r = runCLI(t, "scan", "--units", "1-40", "--unit-timeout", "100ms", "-a", silent.Addr)
	if r.code != exitFailure || r.stdout != "" || !strings.Contains(r.stderr, "scan: 0 of 40 unit ids answered") {
		t.Errorf("silent: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if st := silent.Stats(); st.Accepted != 1 || st.Requests != 40 {
		t.Errorf("silent device saw %d connections and %d requests, want 1 and 40", st.Accepted, st.Requests)
	}
	for _, bad := range [][]string{{"--units", "300"}, {"--units", "9-3"}, {"--units", "x"}, {"--function", "write-coil"}, {"--unit-timeout", "0s"}} {
		if r := runCLI(t, append([]string{"scan", "-a", s.Addr}, bad...)...); r.code != exitUsage {
			t.Errorf("scan %v: exit %d, want 2", bad, r.code)
		}
	}
}

func TestParseUnitList(t *testing.T) {
	ids, err := parseUnitList("10-12, 1,2,11")
	if err != nil || len(ids) != 5 || ids[0] != 1 || ids[4] != 12 {
		t.Errorf("parseUnitList = %v, %v", ids, err)
	}
	// Each mistake in its own words: "0-300" and "5-3" both said only
	// "is not a unit id 0..255 or a range such as 1-247".
	for _, tc := range []struct{ in, want string }{
		{"0-300", `--units "0-300": 300 is not a unit id: want 0..255`},
		{"256", `--units "256": 256 is not a unit id: want 0..255`},
		{"1,2,0x100", `--units "1,2,0x100": 0x100 is not a unit id: want 0..255`},
		{"5-3", `--units "5-3": range "5-3" runs backwards: write it low-high (3-5)`},
		{"1, 20-10", `--units "1, 20-10": range "20-10" runs backwards: write it low-high (10-20)`},
		{"a-b", `--units "a-b": "a-b" is not a unit id 0..255 or a range such as 1-247`},
		{"", `--units "": "" is not a unit id 0..255 or a range such as 1-247`},
	} {
		if _, err := parseUnitList(tc.in); err == nil || err.Error() != tc.want {
			t.Errorf("parseUnitList(%q) = %v, want %s", tc.in, err, tc.want)
		}
	}
}

// TestScanTextAligned: scan's text output is one table: the round trips
// line up whatever the answer ("ok" or "exception 02 illegal data
// address"), and vendor, product and revision start in the same columns
// whatever their widths (each line was formatted alone, so they did not).
func TestScanTextAligned(t *testing.T) {
	id := func(vendor, product, rev string) simulator.Identity {
		return simulator.Identity{Objects: map[uint8]string{modbus.ObjectVendorName: vendor,
			modbus.ObjectProductCode: product, modbus.ObjectMajorMinorRevision: rev}}
	}
	refuse43, err := simulator.ParseFaultRule("action=exception,exception=1,fc=43,unit=9")
	if err != nil {
		t.Fatal(err)
	}
	s := simtest.Start(t, simulator.Config{Faults: []simulator.FaultRule{refuse43}, Units: map[uint8]simulator.UnitConfig{
		1:   {Identity: id("ACME", "M1", "1.0")},
		7:   {Identity: id("Schneider Electric", "BMXP342020", "v3.20"), HoldingRegisters: simulator.Table{Ranges: []simulator.Range{}}},
		9:   {},
		120: {Identity: id("Ünïcode GmbH", "X", "2")},
	}})
	r := runCLI(t, "scan", "--units", "1,7,9,120", "-a", s.Addr)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if r.code != 0 || len(lines) != 4 {
		t.Fatalf("scan: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	col := func(l, sub string) int { return utf8.RuneCountInString(l[:max(strings.Index(l, sub), 0)]) }
	for i, l := range lines {
		// "ms" ends the round trip; a quote starts the vendor, the
		// third-last quote the revision; the note has no other column.
		if got, want := col(l, " ms"), col(lines[0], " ms"); got != want {
			t.Errorf("line %d: the round trip ends at column %d, line 0's at %d:\n%s", i, got, want, r.stdout)
		}
		if strings.Contains(l, "(device identification unsupported)") {
			continue
		}
		if got, want := col(l, `"`), col(lines[0], `"`); got != want {
			t.Errorf("line %d: the vendor starts at column %d, line 0's at %d:\n%s", i, got, want, r.stdout)
		}
		q := strings.Split(l, `"`) // 0 | vendor | sep | product | sep | revision | ""
		q0 := strings.Split(lines[0], `"`)
		if len(q) != 7 || utf8.RuneCountInString(q[1]+q[2]) != utf8.RuneCountInString(q0[1]+q0[2]) ||
			utf8.RuneCountInString(q[3]+q[4]) != utf8.RuneCountInString(q0[3]+q0[4]) {
			t.Errorf("line %d: product and revision do not line up with line 0's:\n%s", i, r.stdout)
		}
		if strings.HasSuffix(l, " ") {
			t.Errorf("line %d ends with blanks: %q", i, l)
		}
	}
	if !strings.HasPrefix(lines[1], "unit   7  exception 02 illegal data address  ") {
		t.Errorf("line 1: %q", lines[1])
	}
}

// TestWriteColumns: the table writer behind scan, get, tags and watch TAG.
func TestWriteColumns(t *testing.T) {
	tests := []struct {
		name  string
		rows  [][]string
		right []int
		want  string
	}{
		{"left", [][]string{{"a", "bb", "c"}, {"ddd", "e", "f"}}, nil, "a    bb  c\nddd  e   f\n"},
		{"right-aligned number", [][]string{{"x", "1.5 ms"}, {"y", "12.25 ms"}}, []int{1}, "x    1.5 ms\ny  12.25 ms\n"},
		{"a last note does not widen its column", [][]string{{"u1", `"ACME"`, `"M1"`}, {"u2", "(device identification unsupported)"}}, nil,
			"u1  \"ACME\"  \"M1\"\nu2  (device identification unsupported)\n"},
		{"runes, not bytes", [][]string{{"°C", "1"}, {"bar", "2"}}, nil, "°C   1\nbar  2\n"},
		{"empty last cell: no trailing blanks", [][]string{{"level", "1.5", ""}, {"run", "true", ""}}, nil, "level  1.5\nrun    true\n"},
		{"no rows", nil, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := writeColumns(&b, tc.rows, tc.right...); err != nil || b.String() != tc.want {
				t.Errorf("writeColumns(%q) = %q, %v, want %q", tc.rows, b.String(), err, tc.want)
			}
		})
	}
}

// TestScanErrorNamesUnits: scan's error sentence names the unit ids it
// scanned, not -u's one unit ("scan on HOST unit 1: ..." of a scan of
// 1-247).
func TestScanErrorNamesUnits(t *testing.T) {
	closed := closedPort(t)
	for _, tc := range []struct{ units, want string }{
		{"1-247", "plcctl: scan unit ids 1..247 on " + closed + ": nothing listens on"},
		{"1-5,9", "plcctl: scan 6 unit ids on " + closed + ": nothing listens on"},
		{"7", "plcctl: scan unit 7 on " + closed + ": nothing listens on"},
	} {
		r := runCLI(t, "scan", "--units", tc.units, "-a", closed)
		if r.code != exitFailure || !strings.HasPrefix(r.stderr, tc.want) {
			t.Errorf("scan --units %s: exit %d, stderr %q, want %q...", tc.units, r.code, r.stderr, tc.want)
		}
	}
}
