package plant

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/plcctl/plcctl/access"
	"github.com/plcctl/plcctl/modbus"
)

const accessPlant = `version: 1
numbering: one-based
access:
  roles:
    operator: {functions: [all]}
    viewer:
      functions: [reads]
    maintenance:
      - functions: [reads]
      - functions: [write-single-register, 16, write-coil]
        holding_registers: ["101-200", 300]
        coils: ["1-16"]
      - functions: [read-file-record]
        files: ["4-5"]
devices:
  - name: a
  - name: b
    access:
      read_only: true
  - name: c
    numbering: zero-based
    access:
      roles:
        operator:
          - functions: [3]
            input_registers: []
            holding_registers: ["0-9"]
`

func TestParseAccess(t *testing.T) {
	p, err := Parse([]byte(accessPlant), "access.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := &AccessRules{Line: 4, Rules: []access.Rule{
		{Role: "operator", Functions: access.AllFunctions()},
		{Role: "viewer", Functions: access.ReadFunctions()},
		{Role: "maintenance", Functions: access.ReadFunctions()},
		{Role: "maintenance", Functions: []modbus.FunctionCode{6, 16, 5}, Ranges: map[access.Table][]access.Range{
			access.HoldingRegisters: {{First: 100, Last: 199}, {First: 299, Last: 299}}, access.Coils: {{First: 0, Last: 15}}}},
		{Role: "maintenance", Functions: []modbus.FunctionCode{20}, Ranges: map[access.Table][]access.Range{access.FileRecords: {{First: 4, Last: 5}}}},
	}}
	// The exported fields: the section also keeps where its units: are.
	if got := p.AccessFor(p.Device("a")); got == nil || !reflect.DeepEqual(withoutSource(got.Rules), want.Rules) || got.Line != want.Line || got.ReadOnly {
		t.Errorf("device a: access = %+v\nwant %+v", got, want)
	}
	if got := p.AccessFor(p.Device("b")); got == nil || !got.ReadOnly || got.Rules != nil {
		t.Errorf("device b: access = %+v, want its own: read-only with the default rules (nil)", got)
	}
	c := p.AccessFor(p.Device("c"))
	wantC := []access.Rule{{Role: "operator", Functions: []modbus.FunctionCode{3},
		Ranges: map[access.Table][]access.Range{access.HoldingRegisters: {{First: 0, Last: 9}}, access.InputRegisters: {}}}}
	if c == nil || !reflect.DeepEqual(withoutSource(c.Rules), wantC) {
		t.Errorf("device c: rules = %+v, want %+v", c, wantC)
	}
	// The rules mean what the file says.
	pol := p.AccessFor(p.Device("a")).Policy()
	if err := pol.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		role  string
		req   modbus.Request
		allow bool
	}{
		{"maintenance", &modbus.WriteSingleRegister{Address: 100}, true},
		{"maintenance", &modbus.WriteSingleRegister{Address: 99}, false},
		{"maintenance", &modbus.WriteSingleRegister{Address: 299}, true},
		{"maintenance", modbus.NewWriteMultipleRegisters(198, make([]uint16, 3)), false}, // 198..200 passes 199
		{"maintenance", modbus.NewWriteSingleCoil(15, true), true},
		{"maintenance", modbus.NewWriteSingleCoil(16, true), false},
		{"maintenance", &modbus.MaskWriteRegister{Address: 100}, false},
		{"maintenance", modbus.NewReadHoldingRegisters(0, 100), true},
		{"viewer", modbus.NewReadHoldingRegisters(0, 100), true},
		{"viewer", &modbus.WriteSingleRegister{Address: 100}, false},
		{"operator", &modbus.WriteSingleRegister{Address: 100}, true},
		{"", modbus.NewReadHoldingRegisters(0, 1), false},
		{"Operator", modbus.NewReadHoldingRegisters(0, 1), false},
	} {
		if d := pol.Decide(tt.role, 1, tt.req); d.Allow != tt.allow {
			t.Errorf("Decide(%q, %s) = %+v, want allow %v", tt.role, tt.req.Function(), d, tt.allow)
		}
	}
	if pc := c.Policy(); pc.Decide("operator", 1, &modbus.ReadRegisters{FC: modbus.FuncReadInputRegisters, Quantity: 1}).Allow ||
		!pc.Decide("operator", 1, modbus.NewReadHoldingRegisters(0, 10)).Allow || pc.Decide("operator", 1, modbus.NewReadHoldingRegisters(0, 11)).Allow {
		t.Error("device c: the rule does not allow exactly holding registers 0..9 with FC 3")
	}
	if p2, err := Parse([]byte("version: 1\ndevices:\n  - name: d\n"), "x.yaml"); err != nil || p2.AccessFor(p2.Devices[0]) != nil {
		t.Errorf("a file without access: gives %v, %v; want nil (the server's own policy)", p2, err)
	}
}

// TestAccessMistakes: each bad rule is one error with its line and key.
func TestAccessMistakes(t *testing.T) {
	top := "version: 1\ndevices: [{name: d}]\naccess:\n  roles:\n"
	tests := []struct {
		name string
		file string
		line int
		key  string
		msg  string
	}{
		{"unknown function", top + "    viewer: {functions: [read-holding-register]}\n", 5, "viewer.functions[0]", `unknown function "read-holding-register"`},
		{"suggestion", top + "    viewer: {functions: [read-holding-register]}\n", 5, "viewer.functions[0]", "did you mean read-holding-registers?"},
		{"code 0", top + "    viewer: {functions: [0]}\n", 5, "viewer.functions[0]", "out of range 1..127"},
		{"code 128", top + "    viewer: {functions: [128]}\n", 5, "viewer.functions[0]", "out of range 1..127"},
		{"function not a scalar", top + "    viewer: {functions: [[3]]}\n", 5, "viewer.functions[0]", "want a function code or name"},
		{"no functions", top + "    viewer: {holding_registers: [\"0-9\"]}\n", 5, "viewer.functions", "functions is required"},
		{"empty functions", top + "    viewer: {functions: []}\n", 5, "viewer.functions", "functions is empty"},
		{"empty role", top + "    \"\": {functions: [3]}\n", 5, "roles", "a role name cannot be empty"},
		{"null role", top + "    ~: {functions: [3]}\n", 5, "roles", "a role name cannot be empty"},
		{"role a list", top + "    [a, b]: {functions: [3]}\n", 5, "roles", "a role name must be a plain string, got a list"},
		{"role with spaces", top + "    \"viewer \": {functions: [3]}\n", 5, "viewer ", "spaces at its ends"},
		{"no grants", top + "    viewer: []\n", 5, "roles.viewer", "has no grants"},
		{"role twice", top + "    viewer: {functions: [3]}\n    viewer: {functions: [4]}\n", 6, "roles.viewer", "given twice"},
		{"unknown table", top + "    viewer: {functions: [3], holding: [\"0-9\"]}\n", 5, "viewer.holding", `unknown key "holding"`},
		{"bad range", top + "    viewer: {functions: [3], holding_registers: [\"0-x\"]}\n", 5, "holding_registers[0]", "not a range such as 0-99"},
		{"range backwards", top + "    viewer: {functions: [3], holding_registers: [\"9-0\"]}\n", 5, "holding_registers[0]", "ends before it starts"},
		{"range too big", top + "    viewer: {functions: [3], coils: [70000]}\n", 5, "coils[0]", "out of range 0..65535"},
		{"ranges not a list", top + "    viewer: {functions: [3], coils: \"0-9\"}\n", 5, "coils", "want a list"},
		{"file 0", top + "    viewer: {functions: [20], files: [0]}\n", 5, "files", "no file 0"},
		{"read_only type", "version: 1\ndevices: [{name: d}]\naccess: {read_only: yes please}\n", 3, "access.read_only", "want true or false"},
		{"unknown access key", "version: 1\ndevices: [{name: d}]\naccess: {rules: []}\n", 3, "access.rules", `unknown key "rules"`},
		{"device access", "version: 1\ndevices:\n  - name: d\n    access: {roles: {op: {functions: [nope]}}}\n", 4, "devices[0].access.roles.op.functions[0]", "unknown function"},
		{"one-based 0", "version: 1\nnumbering: one-based\ndevices: [{name: d}]\naccess: {roles: {op: {functions: [3], holding_registers: [0]}}}\n", 4, "holding_registers[0]", "out of range 1..65536"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.file), "bad.yaml")
			checkError(t, err, tc.line, tc.key, tc.msg)
		})
	}
}

// TestAccessUnits: a grant's units: limits it to those unit ids (N, "N-M",
// hex too); without units: it holds for every unit; every mistake is one
// error with its file:line:col and key, an unknown key near units a "did
// you mean".
func TestAccessUnits(t *testing.T) {
	a, err := ParseAccess([]byte("access:\n  roles:\n    operator:\n      - functions: [all]\n        units: [1, \"3-5\", 0x10]\n"+
		"      - functions: [reads]\n"), "units.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []access.Rule{
		{Role: "operator", Functions: access.AllFunctions(), Units: []access.Range{{First: 1, Last: 1}, {First: 3, Last: 5}, {First: 16, Last: 16}}},
		{Role: "operator", Functions: access.ReadFunctions()},
	}
	if !reflect.DeepEqual(withoutSource(a.Rules), want) {
		t.Fatalf("rules = %+v, want %+v", a.Rules, want)
	}
	pol := a.Policy()
	for _, tt := range []struct {
		unit  uint8
		req   modbus.Request
		allow bool
	}{
		{1, &modbus.WriteSingleRegister{}, true},
		{4, &modbus.WriteSingleRegister{}, true},
		{16, &modbus.WriteSingleRegister{}, true},
		{2, &modbus.WriteSingleRegister{}, false},
		{2, modbus.NewReadHoldingRegisters(0, 1), true}, // the second grant: every unit
		{255, modbus.NewReadHoldingRegisters(0, 1), true},
	} {
		if d := pol.Decide("operator", tt.unit, tt.req); d.Allow != tt.allow {
			t.Errorf("Decide(operator, unit %d, %s) = %+v, want allow %v", tt.unit, tt.req.Function(), d, tt.allow)
		}
	}
	head := "access:\n  roles:\n    op:\n      - functions: [reads]\n"
	for _, tc := range []struct {
		name, file string
		want       string // the whole error
	}{
		{"empty", head + "        units: []\n",
			`plant: bad.yaml:5:16: access.roles.op[0].units: units is empty: give unit ids such as [1, "3-5"], or leave units out: the grant then holds for every unit`},
		{"too big", head + "        units: [1, 256]\n",
			`plant: bad.yaml:5:20: access.roles.op[0].units[1]: 256 is out of range 0..255`},
		{"negative", head + "        units: [-1]\n",
			`plant: bad.yaml:5:17: access.roles.op[0].units[0]: -1 is out of range 0..255`},
		{"not an id", head + "        units: [\"one\"]\n",
			`plant: bad.yaml:5:17: access.roles.op[0].units[0]: "one" is not a unit id 0..255 or a range of them such as "1-5"`},
		{"range too big", head + "        units: [\"250-300\"]\n",
			`plant: bad.yaml:5:17: access.roles.op[0].units[0]: "250-300" is not a unit id 0..255 or a range of them such as "1-5"`},
		{"backwards", head + "        units: [\"5-3\"]\n",
			`plant: bad.yaml:5:17: access.roles.op[0].units[0]: unit range "5-3" ends before it starts`},
		{"overlap", head + "        units: [\"1-5\", 3]\n",
			`plant: bad.yaml:5:24: access.roles.op[0].units[1]: unit range 3 overlaps 1..5, given before`},
		{"not a list", head + "        units: 1\n",
			`plant: bad.yaml:5:16: access.roles.op[0].units: want a list, got the integer 1`},
		{"a list in the list", head + "        units: [[1]]\n",
			`plant: bad.yaml:5:17: access.roles.op[0].units[0]: want a unit id 0..255 or a range such as "1-5", got a list`},
		{"unit", head + "        unit: [1]\n",
			`plant: bad.yaml:5:9: access.roles.op[0].unit: unknown key "unit" (want one of functions, units, coils, discrete_inputs, holding_registers, input_registers, files); did you mean units?`},
		{"unist", head + "        unist: [1]\n",
			`did you mean units?`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseAccess([]byte(tc.file), "bad.yaml")
			var es Errors
			if !errors.As(err, &es) || len(es) != 1 || !strings.HasSuffix(es[0].Error(), tc.want) {
				t.Errorf("ParseAccess:\n%v\nwant one error ending %q", err, tc.want)
			}
		})
	}
	// A plant file's device access takes units too.
	p, err := Parse([]byte("version: 1\ndevices:\n  - name: gw\n    units: [{ids: [1, 2]}]\n    access:\n      roles:\n        op: {functions: [3], units: [2]}\n"), "gw.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if r := p.AccessFor(p.Devices[0]).Rules; len(r) != 1 || !reflect.DeepEqual(r[0].Units, []access.Range{{First: 2, Last: 2}}) {
		t.Errorf("device rules = %+v, want one grant on unit 2", r)
	}
}

// TestGrantUnitsServed: a grant naming a unit that no device under it
// serves is an error at the unit's file:line:col (a device's own access:
// against its units, the plant's against every device without its own);
// unit 255, the direct-TCP id, is a unit like the others.
func TestGrantUnitsServed(t *testing.T) {
	const devs = "devices:\n  - name: pumps\n    units: [{ids: [1, 255]}]\n  - name: tanks\n    units: [{id: 2}]\n"
	for _, tc := range []struct {
		name, file string
		want       string // the whole error; "" for none
	}{
		{"served somewhere", "access:\n  roles:\n    op: {functions: [reads], units: [\"1-2\", 255]}\n" + devs, ""},
		{"served nowhere", "access:\n  roles:\n    op: {functions: [reads], units: [1, \"2-4\"]}\n" + devs,
			`plant: bad.yaml:4:41: access.roles.op.units[1]: unit 3: no device under these rules serves it (pumps: 1, 255; tanks: 2), so a grant for it never applies`},
		{"device's own", devs + "    access:\n      roles:\n        op:\n          - functions: [reads]\n          - {functions: [writes], units: [1]}\n",
			`plant: bad.yaml:11:43: devices[1].access.roles.op[1].units[0]: unit 1: device tanks serves only unit 2, so a grant for it never applies`},
		{"the plant's, for the others", "access:\n  roles:\n    op: {functions: [reads], units: [2]}\n" + devs + "    access: {read_only: true}\n",
			`plant: bad.yaml:4:38: access.roles.op.units[0]: unit 2: device pumps serves only units 1, 255, so a grant for it never applies`},
		{"the plant's, for no device", "access:\n  roles:\n    op: {functions: [reads], units: [9]}\ndevices:\n  - name: d\n    access: {read_only: true}\n", ""},
		{"no units: every unit", devs + "    access:\n      roles:\n        op: {functions: [reads]}\n", ""},
		{"default unit 1", "access:\n  roles:\n    op: {functions: [reads], units: [0]}\ndevices:\n  - name: d\n",
			`plant: bad.yaml:4:38: access.roles.op.units[0]: unit 0: device d serves only unit 1, so a grant for it never applies`},
	} {
		t.Run(tc.name, func(t *testing.T) { parsesOrOneError(t, tc.file, tc.want) })
	}
}

// TestAccessFileUnitsServed: the rules of an access file served with a
// plant are checked as the plant's own access: is (TestGrantUnitsServed),
// against the devices served, at the access file's line and key.
func TestAccessFileUnitsServed(t *testing.T) {
	p, err := Parse([]byte("version: 1\ndevices:\n  - name: pumps\n    units: [{ids: [1, 255]}]\n  - name: tanks\n    units: [{id: 2}]\n"), "two.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pumps, tanks := p.Device("pumps"), p.Device("tanks")
	const rules = "access:\n  roles:\n    op:\n      - {functions: [reads]}\n      - {functions: [writes], units: [1, \"2-3\"]}\n"
	a, err := ParseAccess([]byte(rules), "rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		devs []*Device
		want string // the whole error; "" for none
	}{
		{"no devices: nothing to check", nil, ""},
		{"one device", []*Device{pumps},
			"plant: rules.yaml:5:42: access.roles.op[1].units[1]: unit 2: device pumps serves only units 1, 255, so a grant for it never applies"},
		{"two devices", []*Device{pumps, tanks},
			"plant: rules.yaml:5:42: access.roles.op[1].units[1]: unit 3: no device under these rules serves it (pumps: 1, 255; tanks: 2), so a grant for it never applies"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := a.CheckUnits(tc.devs)
			if tc.want == "" {
				if err != nil {
					t.Errorf("CheckUnits: %v, want nil", err)
				}
				return
			}
			var es Errors
			if !errors.As(err, &es) || len(es) != 1 || es[0].Error() != tc.want {
				t.Errorf("CheckUnits:\n%v\nwant one error %q", err, tc.want)
			}
		})
	}
	if err := (&AccessRules{}).CheckUnits([]*Device{pumps}); err != nil {
		t.Errorf("rules without units: CheckUnits = %v, want nil", err)
	}
}

// TestAccessFileUnitIDs: CheckUnitIDs checks an access file's grant units
// against the unit ids served without a plant (plcsim --unit-ids), as
// CheckUnits does against devices, each units: item that names one not
// served once, with the item's line and key.
func TestAccessFileUnitIDs(t *testing.T) {
	const rules = "access:\n  roles:\n    op:\n      - {functions: [reads], units: [0, 255]}\n      - {functions: [writes], units: [1, \"2-4\", 9]}\n"
	a, err := ParseAccess([]byte(rules), "rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const served = "plcsim serves only units 1, 2"
	for _, tc := range []struct {
		name string
		ids  []uint8
		want []string // the errors, in order
	}{
		{"every unit served", []uint8{0, 1, 2, 3, 4, 9, 255}, nil},
		{"a range partly served, a unit not", []uint8{0, 1, 2, 255}, []string{
			"plant: rules.yaml:5:42: access.roles.op[1].units[1]: unit 3: " + served + ", so a grant for it never applies",
			"plant: rules.yaml:5:49: access.roles.op[1].units[2]: unit 9: " + served + ", so a grant for it never applies"}},
		{"0 and 255 not served", []uint8{1, 2, 3, 4, 9}, []string{
			"plant: rules.yaml:4:38: access.roles.op[0].units[0]: unit 0: " + served + ", so a grant for it never applies",
			"plant: rules.yaml:4:41: access.roles.op[0].units[1]: unit 255: " + served + ", so a grant for it never applies"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := a.CheckUnitIDs(func(id uint8) bool { return slices.Contains(tc.ids, id) }, served)
			var got []string
			var es Errors
			if errors.As(err, &es) {
				for _, e := range es {
					got = append(got, e.Error())
				}
			} else if err != nil {
				t.Fatalf("CheckUnitIDs: %v is not Errors", err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("CheckUnitIDs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
	var none *AccessRules
	if err := none.CheckUnitIDs(func(uint8) bool { return false }, served); err != nil {
		t.Errorf("no rules: CheckUnitIDs = %v, want nil", err)
	}
}

// checkError checks that err (from Parse) holds a one-line error at line
// for a key ending in key, saying msg.
func checkError(t *testing.T, err error, line int, key, msg string) {
	t.Helper()
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %v is not Errors", err)
	}
	for _, e := range es {
		if e.Line == line && strings.HasSuffix(e.Key, key) && strings.Contains(e.Msg, msg) {
			if strings.Count(e.Error(), "\n") != 0 || !strings.HasPrefix(e.Error(), "plant: bad.yaml:") {
				t.Errorf("error %q is not one line starting with the file:line", e.Error())
			}
			return
		}
	}
	t.Errorf("errors:\n%v\nwant one at line %d, key ...%s, saying %q", err, line, key, msg)
}

func TestParseAccessFile(t *testing.T) {
	a, err := ParseAccess([]byte("numbering: one-based\naccess:\n  roles:\n    tech:\n      - {functions: [6], holding_registers: [\"1-10\"]}\n"), "rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []access.Rule{{Role: "tech", Functions: []modbus.FunctionCode{6},
		Ranges: map[access.Table][]access.Range{access.HoldingRegisters: {{First: 0, Last: 9}}}}}
	if !reflect.DeepEqual(withoutSource(a.Rules), want) || a.Line != 3 {
		t.Errorf("ParseAccess = %+v, want %+v at line 3", a, want)
	}
	if a, err := ParseAccess([]byte("access:\n  roles: {}\n"), "none.yaml"); err != nil || a.Rules == nil || len(a.Rules) != 0 {
		t.Errorf("roles: {} = %+v, %v; want an empty, non-nil list (nothing allowed)", a, err)
	}
	for _, tc := range []struct {
		name, file string
		line       int
		key, msg   string
	}{
		{"empty", "", 0, "", "the file is empty: it needs at least access:"},
		{"no access", "numbering: one-based\n", 1, "access", "access is required"},
		{"plant keys", "version: 1\naccess: {}\n", 1, "version", `unknown key "version"`},
		{"plant file", "version: 1\naccess: {}\ndevices: [{name: d}]\n", 3, "devices", "this is a plant file: serve it with --plant"},
		{"bad rule", "access:\n  roles:\n    op: {functions: [reads], colis: [1]}\n", 3, "roles.op.colis", `unknown key "colis"`},
		{"not YAML", "access: [\n", 1, "", "not valid YAML"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseAccess([]byte(tc.file), "bad.yaml")
			checkError(t, err, tc.line, tc.key, tc.msg)
		})
	}
}

// TestAccessExamples: the example plant with an access: section loads, and
// testdata/access-rules.yaml holds the same rules as a file of its own.
func TestAccessExamples(t *testing.T) {
	p, err := Load("../testdata/plants/secure-station.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, err := LoadAccess("../testdata/access-rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pa := p.AccessFor(p.Devices[0])
	if pa == nil || len(pa.Rules) != 3 || !reflect.DeepEqual(withoutSource(pa.Rules), withoutSource(a.Rules)) {
		t.Errorf("secure-station.yaml rules %+v\naccess-rules.yaml rules %+v\nwant the same three", pa, a)
	}
}

// TestReadmeAccess: the access: example in the README parses to the rules
// it describes, and its error messages are what this package says.
func TestReadmeAccess(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "#### Rules in the plant file")
	_, blk, ok2 := strings.Cut(sec, "```yaml\n")
	blk, rest, ok3 := strings.Cut(blk, "```")
	_, msgs, ok4 := strings.Cut(rest, "```\n")
	msgs, _, ok5 := strings.Cut(msgs, "```")
	if !ok || !ok2 || !ok3 || !ok4 || !ok5 {
		t.Fatal("README has no access: example and error block under \"#### Rules in the plant file\"")
	}
	a, err := ParseAccess([]byte(blk), "README.md")
	if err != nil {
		t.Fatal(err)
	}
	pol := a.Policy()
	for _, tt := range []struct {
		role  string
		unit  uint8
		req   modbus.Request
		allow bool
	}{
		{"operator", 1, modbus.NewReadHoldingRegisters(1000, 10), true},
		{"operator", 1, &modbus.WriteSingleRegister{Address: 99}, true},
		{"operator", 1, &modbus.WriteSingleRegister{Address: 100}, false},
		{"maintenance", 1, modbus.NewWriteMultipleCoils(0, make([]bool, 8)), true},
		{"maintenance", 1, modbus.NewWriteSingleCoil(12, true), true},
		{"maintenance", 1, modbus.NewWriteSingleCoil(8, true), false},
		{"viewer", 1, modbus.NewReadHoldingRegisters(0, 1), true},
		{"viewer", 1, &modbus.WriteSingleRegister{Address: 0}, false},
		{"viewer", 200, modbus.NewReadHoldingRegisters(0, 1), true},
		{"gateway", 1, modbus.NewReadHoldingRegisters(0, 1), true},
		{"gateway", 4, modbus.NewReadHoldingRegisters(0, 1), true},
		{"gateway", 2, modbus.NewReadHoldingRegisters(0, 1), false},
		{"gateway", 4, &modbus.WriteSingleRegister{Address: 0}, false},
	} {
		if d := pol.Decide(tt.role, tt.unit, tt.req); d.Allow != tt.allow {
			t.Errorf("README rules: Decide(%q, unit %d, %s) = %+v, want allow %v", tt.role, tt.unit, tt.req.Function(), d, tt.allow)
		}
	}
	bad := "access:\n  roles:\n    viewer: {functions: [read-holding-register, 3]}\n    \"\": {functions: [3]}\n" +
		"    tech:\n      - functions: [6]\n        holding: [\"0-9\"]\n      - functions: [6]\n        holding_registers: [\"10-x\"]\n"
	_, err = ParseAccess([]byte(bad), "rules.yaml")
	if got, want := fmt.Sprint(err), strings.TrimSpace(msgs); got != want {
		t.Errorf("errors:\n%s\nREADME says:\n%s", got, want)
	}
}

// parsesOrOneError parses file (after "version: 1") as bad.yaml: with want
// empty it must parse, else fail with exactly one error, want.
func parsesOrOneError(t *testing.T, file, want string) {
	t.Helper()
	_, err := Parse([]byte("version: 1\n"+file), "bad.yaml")
	if want == "" {
		if err != nil {
			t.Errorf("Parse: %v, want no error", err)
		}
		return
	}
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 || es[0].Error() != want {
		t.Errorf("Parse:\n%v\nwant one error %q", err, want)
	}
}

// withoutSource returns rs with each rule's Source cleared, for comparing
// the rules of two files, or of a file and Go.
func withoutSource(rs []access.Rule) []access.Rule {
	out := slices.Clone(rs)
	for i := range out {
		out[i].Source = ""
	}
	return out
}

// TestAccessRuleSource: each grant's rule says where it was written, which
// access.Policy.Validate names in an error.
func TestAccessRuleSource(t *testing.T) {
	a, err := ParseAccess([]byte("access:\n  roles:\n    operator: {functions: [all]}\n    tech:\n      - functions: [3]\n      - {functions: [6]}\n"), "src.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range a.Rules {
		got = append(got, r.Source)
	}
	if want := []string{"src.yaml:3:15", "src.yaml:5:9", "src.yaml:6:9"}; !slices.Equal(got, want) {
		t.Errorf("rule sources = %q, want %q", got, want)
	}
}
