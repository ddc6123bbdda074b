package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plcctl/plcctl/plant"
)

const gapPlant = `version: 1
devices:
  - name: gaps
    units:
      - id: 1
        coils: 16
        discrete_inputs: 0
        holding_registers: {ranges: ["0-19", "21-40"]}
        input_registers: 0
    tags:
      - {name: a, table: hr, address: 0, initial: 1}
      - {name: b, table: hr, address: 3, type: uint32, initial: 70000}
      - {name: c, table: hr, address: 11, initial: 3}
      - {name: d, table: hr, address: 19, initial: 4}
      - {name: e, table: hr, address: 21, initial: 5}
      - {name: x, table: coil, address: 0, initial: true}
      - {name: y, table: coil, address: 9}
`

// TestGetGap: --gap N joins two tags' reads when at most N unused
// addresses lie between them inside a range, never across a hole; the
// simulator counts the requests, and the values do not change.
func TestGetGap(t *testing.T) {
	file := filepath.Join(t.TempDir(), "gaps.yaml")
	if err := os.WriteFile(file, []byte(gapPlant), 0o644); err != nil {
		t.Fatal(err)
	}
	s := servePlant(t, loadPlantFile(t, file))
	want := "a  1\nb  70000\nc  3\nd  4\ne  5\nx  true\ny  false\n"
	tests := []struct {
		gap         string
		regs, coils uint64
	}{
		{"", 5, 2},    // default 0: a, b (2 registers), c, d, e each alone
		{"0", 5, 2},   //
		{"1", 5, 2},   // a..b is 2 apart
		{"2", 4, 2},   // a+b
		{"6", 3, 2},   // a+b+c (6 between b's end, 4, and c)
		{"7", 2, 2},   // a..d; d..e would cross the hole at 20
		{"8", 2, 1},   // x..y: 8 coils between
		{"200", 2, 1}, // still not across the hole
	}
	for _, tt := range tests {
		args := []string{"get", "--plant", file, "-a", s.Addr, "a", "b", "c", "d", "e", "x", "y"}
		if tt.gap != "" {
			args = append(args, "--gap", tt.gap)
		}
		r0, c0 := s.FunctionRequests(3), s.FunctionRequests(1)
		if out := mustRun(t, args...); out != want {
			t.Errorf("get --gap %s =\n%s\nwant\n%s", tt.gap, out, want)
		}
		if r, c := s.FunctionRequests(3)-r0, s.FunctionRequests(1)-c0; r != tt.regs || c != tt.coils {
			t.Errorf("get --gap %q: %d register and %d coil requests, want %d and %d", tt.gap, r, c, tt.regs, tt.coils)
		}
	}
	// watch TAG... takes it too, before or after the tags: 3 rounds of 2 requests
	for _, args := range [][]string{
		{"watch", "--gap", "7", "--plant", file, "-a", s.Addr, "--count", "3", "--interval", "1ms", "-o", "json", "a", "b", "c", "d", "e"},
		{"watch", "--plant", file, "-a", s.Addr, "--count", "3", "--interval", "1ms", "-o", "json", "a", "b", "c", "d", "e", "--gap", "7"},
	} {
		r0 := s.FunctionRequests(3)
		out := mustRun(t, args...)
		if n := s.FunctionRequests(3) - r0; n != 6 || strings.Count(out, `"b":70000`) != 3 {
			t.Errorf("%q: %d requests, want 6\n%s", args, n, out)
		}
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"get", "--plant", file, "-a", s.Addr, "--gap", "-1", "a"}, "--gap"},
		{[]string{"get", "--plant", file, "-a", s.Addr, "--gap", "65536", "a"}, "--gap"},
		{[]string{"watch", "-a", s.Addr, "--count", "1", "--gap", "2", "read-holding-registers", "0", "2"},
			"--gap joins the reads of tags: it goes with watch TAG..., not with read-holding-registers"},
	} {
		if r := runCLI(t, tt.args...); r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%q: exit %d %q, want exit 2 naming %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
}

func loadPlantFile(t *testing.T, file string) *plant.Plant {
	t.Helper()
	p, err := plant.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// gapUnitsPlant: the tags are unit 1's, where holding registers 0..40
// all exist; unit 2 has a hole at 20.
const gapUnitsPlant = `version: 1
devices:
  - name: gaps
    units:
      - id: 1
        holding_registers: 41
      - id: 2
        holding_registers: {ranges: ["0-19", "21-40"], values: {0: [7], 19: [8], 21: [9]}}
    tags:
      - {name: a, unit_id: 1, table: hr, address: 0, initial: 1}
      - {name: d, unit_id: 1, table: hr, address: 19, initial: 4}
      - {name: e, unit_id: 1, table: hr, address: 21, initial: 5}
`

// TestGetGapUnit: with -u UNIT, --gap bridges by UNIT's ranges, the unit
// read, not by those of the tags' own unit: get and watch TAG... never
// read across unit 2's hole (which would be exception 02), and without -u
// they still join unit 1's tags across address 20.
func TestGetGapUnit(t *testing.T) {
	file := filepath.Join(t.TempDir(), "gaps.yaml")
	if err := os.WriteFile(file, []byte(gapUnitsPlant), 0o644); err != nil {
		t.Fatal(err)
	}
	s := servePlant(t, loadPlantFile(t, file))
	for _, tt := range []struct {
		name string
		args []string
		want string
		regs uint64 // FC 3 requests
	}{
		{"tags' unit", []string{"get", "a", "d", "e"}, "a  1\nd  4\ne  5\n", 1},
		{"-u 2", []string{"get", "-u", "2", "a", "d", "e"}, "a  7\nd  8\ne  9\n", 2},
		{"-u 1", []string{"get", "-u", "1", "a", "d", "e"}, "a  1\nd  4\ne  5\n", 1},
		{"watch -u 2", []string{"watch", "-u", "2", "--count", "2", "--interval", "1ms", "-o", "json", "a", "d", "e"}, "", 4},
		{"watch, -u 2 after the tags", []string{"watch", "--count", "2", "--interval", "1ms", "-o", "json", "a", "d", "e", "-u", "2"}, "", 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r0 := s.FunctionRequests(3)
			r := runCLI(t, append(tt.args, "--plant", file, "-a", s.Addr, "--gap", "100")...)
			if r.code != 0 || tt.want != "" && r.stdout != tt.want || tt.want == "" && strings.Count(r.stdout, `"a":7,"d":8,"e":9`) != 2 {
				t.Errorf("%q: exit %d\n%s\n%s", tt.args, r.code, r.stdout, r.stderr)
			}
			if n := s.FunctionRequests(3) - r0; n != tt.regs {
				t.Errorf("%q: %d requests, want %d", tt.args, n, tt.regs)
			}
		})
	}
}
