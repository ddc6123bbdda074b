package main

import (
	"encoding/json"
	"strings"
	"testing"

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
		if !strings.HasPrefix(l, want[i]) || !strings.HasSuffix(l, `"plcctl" "plcsim" "1.0"`) {
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
