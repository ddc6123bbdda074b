package plant

import (
	"errors"
	"strings"
	"testing"
)

// TestGrantRangesInTables: a grant's table range that lies wholly outside
// the table of every unit the grant holds on never applies: an error at
// the range's file:line:col naming the table's real addresses, in the
// file's numbering. A range that meets the table partly applies to the
// addresses that exist, and is fine.
func TestGrantRangesInTables(t *testing.T) {
	grant := func(g string) string { return "access:\n  roles:\n    op: {functions: [all], " + g + "}\n" }
	dev := func(units string) string { return "devices:\n  - name: d\n    units: [" + units + "]\n" }
	for _, tc := range []struct {
		name, file string
		want       string // the whole error; "" for none
	}{
		{"wholly outside", grant(`holding_registers: ["40001-40100"]`) + dev("{id: 1, holding_registers: 100}"),
			`plant: bad.yaml:4:48: access.roles.op.holding_registers[0]: holding registers 40001-40100: device d unit 1 has holding registers 0-99 only, so a grant for them never applies`},
		{"one address outside", grant(`coils: [16]`) + dev("{id: 1, coils: 16}"),
			`plant: bad.yaml:4:36: access.roles.op.coils[0]: coils 16: device d unit 1 has coils 0-15 only, so a grant for them never applies`},
		{"partly inside", grant(`holding_registers: ["50-199"]`) + dev("{id: 1, holding_registers: 100}"), ""},
		{"the last address", grant(`input_registers: [99]`) + dev("{id: 1, input_registers: 100}"), ""},
		{"one-based: said as written", "numbering: one-based\n" + grant(`holding_registers: ["40001-40100"]`) + dev("{id: 1, holding_registers: 100}"),
			`plant: bad.yaml:5:48: access.roles.op.holding_registers[0]: holding registers 40001-40100: device d unit 1 has holding registers 1-100 only, so a grant for them never applies`},
		{"between a table's ranges", grant(`discrete_inputs: ["20-99"]`) + dev(`{id: 1, discrete_inputs: ["0-9", "100-109"]}`),
			`plant: bad.yaml:4:46: access.roles.op.discrete_inputs[0]: discrete inputs 20-99: device d unit 1 has discrete inputs 0-9, 100-109 only, so a grant for them never applies`},
		{"across a gap", grant(`discrete_inputs: ["5-100"]`) + dev(`{id: 1, discrete_inputs: ["0-9", "100-109"]}`), ""},
		{"a table the unit has not", grant(`coils: ["0-7"]`) + dev("{id: 1, coils: 0}"),
			`plant: bad.yaml:4:36: access.roles.op.coils[0]: coils 0-7: device d unit 1 has no coils, so a grant for them never applies`},
		{"the second range", grant(`holding_registers: ["0-9", "500-509"]`) + dev("{id: 1, holding_registers: 100}"),
			`plant: bad.yaml:4:55: access.roles.op.holding_registers[1]: holding registers 500-509: device d unit 1 has holding registers 0-99 only, so a grant for them never applies`},
		{"another unit has them", grant(`holding_registers: ["500-599"]`) + dev("{id: 1, holding_registers: 10}, {id: 2, holding_registers: 1000}"), ""},
		{"the grant's units decide", grant(`units: [1], holding_registers: ["500-599"]`) + dev("{id: 1, holding_registers: 10}, {id: 2, holding_registers: 1000}"),
			`plant: bad.yaml:4:60: access.roles.op.holding_registers[0]: holding registers 500-599: device d unit 1 has holding registers 0-9 only, so a grant for them never applies`},
		{"no unit has them", grant(`holding_registers: [2000]`) + dev("{id: 1, holding_registers: 10}, {id: 2, holding_registers: 1000}, {id: 3, holding_registers: 0}"),
			`plant: bad.yaml:4:48: access.roles.op.holding_registers[0]: holding registers 2000: no unit under this grant has any of them (d unit 1: 0-9; d unit 2: 0-999; d unit 3: none), so a grant for them never applies`},
		{"a device's own, against its units", dev("{id: 1, holding_registers: 1000}") + "  - name: e\n    units: [{id: 1, holding_registers: 10}]\n" +
			"    access:\n      roles:\n        op: {functions: [all], holding_registers: [\"500-599\"]}\n",
			`plant: bad.yaml:9:52: devices[1].access.roles.op.holding_registers[0]: holding registers 500-599: device e unit 1 has holding registers 0-9 only, so a grant for them never applies`},
		{"the plant's, against every device", grant(`holding_registers: ["500-599"]`) + dev("{id: 1, holding_registers: 10}") +
			"  - name: e\n    units: [{id: 1, holding_registers: 1000}]\n", ""},
		{"a table without size: every address", grant(`holding_registers: ["65000-65535"]`) + dev("{id: 1}"), ""},
		{"files are not checked", grant(`files: [9]`) + dev("{id: 1}"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) { parsesOrOneError(t, tc.file, tc.want) })
	}
}

// TestAccessFileRanges: the ranges of an access file are checked as a
// plant's own access: is (TestGrantRangesInTables): with a plant against
// the devices served (CheckRanges), without one against the tables every
// unit has (CheckTables), at the access file's line and key, in its
// numbering.
func TestAccessFileRanges(t *testing.T) {
	p, err := Parse([]byte("version: 1\ndevices:\n  - name: pumps\n    units: [{id: 1, holding_registers: 100, coils: 8}]\n"+
		"  - name: tanks\n    units: [{id: 2, holding_registers: 10}]\n"), "two.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pumps, tanks := p.Device("pumps"), p.Device("tanks")
	const rules = "numbering: one-based\naccess:\n  roles:\n    op:\n      - {functions: [reads], holding_registers: [\"41-60\"]}\n      - {functions: [writes], coils: [\"9-16\"], units: [1]}\n"
	a, err := ParseAccess([]byte(rules), "rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	full := Table{Ranges: []Range{{0, 65535}}}
	for _, tc := range []struct {
		name string
		err  func() error
		want []string // the errors, in order
	}{
		{"no devices: nothing to check", func() error { return a.CheckRanges(nil) }, nil},
		{"both devices", func() error { return a.CheckRanges([]*Device{pumps, tanks}) }, []string{
			"plant: rules.yaml:6:39: access.roles.op[1].coils[0]: coils 9-16: device pumps unit 1 has coils 1-8 only, so a grant for them never applies"}},
		{"one device", func() error { return a.CheckRanges([]*Device{tanks}) }, []string{
			"plant: rules.yaml:5:50: access.roles.op[0].holding_registers[0]: holding registers 41-60: device tanks unit 2 has holding registers 1-10 only, so a grant for them never applies"}},
		{"tables of flags", func() error {
			return a.CheckTables([4]Table{{Ranges: []Range{{0, 15}}}, full, {Ranges: []Range{{0, 39}}}, full},
				[4]string{"--coils 16", "", "--holding-registers 40", ""})
		}, []string{
			"plant: rules.yaml:5:50: access.roles.op[0].holding_registers[0]: holding registers 41-60: plcsim has holding registers 1-40 only (--holding-registers 40), so a grant for them never applies"}},
		{"tables of flags that hold them", func() error {
			return a.CheckTables([4]Table{{Ranges: []Range{{0, 8}}}, full, {Ranges: []Range{{0, 40}}}, full}, [4]string{})
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			var es Errors
			if err := tc.err(); errors.As(err, &es) {
				for _, e := range es {
					got = append(got, e.Error())
				}
			} else if err != nil {
				t.Fatalf("%v is not Errors", err)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
	var none *AccessRules
	if err := none.CheckRanges([]*Device{pumps}); err != nil {
		t.Errorf("no rules: CheckRanges = %v, want nil", err)
	}
}
