package access

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/plcctl/plcctl/modbus"
)

var (
	readHR    = modbus.NewReadHoldingRegisters(100, 10)
	readIR    = &modbus.ReadRegisters{FC: modbus.FuncReadInputRegisters, Address: 0, Quantity: 4}
	readCoils = &modbus.ReadBits{FC: modbus.FuncReadCoils, Address: 0, Quantity: 8}
	writeReg  = &modbus.WriteSingleRegister{Address: 100, Value: 1}
	writeHigh = &modbus.WriteSingleRegister{Address: 500, Value: 1}
	writeRegs = modbus.NewWriteMultipleRegisters(95, make([]uint16, 10)) // 95..104
	writeCoil = modbus.NewWriteSingleCoil(3, true)
	rwRegs    = modbus.NewReadWriteRegisters(0, 2, 10, []uint16{1})
	deviceID  = &modbus.ReadDeviceID{Code: 1}
	userFC    = &modbus.Raw{FC: 65}
	readFile  = &modbus.ReadFileRecord{SubRequests: []modbus.FileSubRequest{{RefType: 6, File: 4, Length: 1}}}
	writeFile = &modbus.WriteFileRecord{Records: []modbus.FileRecord{{RefType: 6, File: 4, Data: []byte{0, 1}}}}
)

func TestDefaultPolicy(t *testing.T) {
	var p Policy
	all := []modbus.Request{readHR, readIR, readCoils, writeReg, writeRegs, writeCoil, rwRegs, deviceID, userFC, readFile, writeFile}
	reads := map[modbus.Request]bool{readHR: true, readIR: true, readCoils: true, deviceID: true, readFile: true}
	for _, role := range []string{"operator", "viewer", "", "maintenance", "Operator"} {
		for _, req := range all {
			want := role == "operator" || role == "viewer" && reads[req]
			d := p.Decide(role, 1, req)
			if d.Allow != want {
				t.Errorf("Decide(%q, %s) = %+v, want allow=%v", role, req.Function(), d, want)
			}
			if !d.Allow && d.Reason == "" {
				t.Errorf("Decide(%q, %s): refused without a reason", role, req.Function())
			}
		}
	}
}

func TestRulesPolicy(t *testing.T) {
	hr := func(rs ...Range) map[Table][]Range { return map[Table][]Range{HoldingRegisters: rs} }
	p := Policy{Rules: []Rule{
		{Role: "operator", Functions: ReadFunctions()},
		{Role: "operator", Functions: []modbus.FunctionCode{6, 16, 23}, Ranges: hr(Range{0, 99}, Range{100, 199})},
		{Role: "tech", Functions: []modbus.FunctionCode{3}, Ranges: hr(Range{100, 109})},
		{Role: "tech", Functions: []modbus.FunctionCode{5}},
		{Role: "files", Functions: []modbus.FunctionCode{20, 21}, Ranges: map[Table][]Range{FileRecords: {{4, 4}}}},
		{Role: "nothing", Functions: nil},
	}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		role   string
		req    modbus.Request
		allow  bool
		reason string
	}{
		{"operator", readHR, true, ""},
		{"operator", writeReg, true, ""},
		{"operator", writeRegs, false, "write holding-registers 95..104"}, // spans two ranges: neither covers it
		{"operator", writeHigh, false, "write holding-registers 500"},
		{"operator", writeCoil, false, "may not use write single coil (FC 5)"},
		{"operator", rwRegs, true, ""},
		{"tech", readHR, true, ""},
		{"tech", modbus.NewReadHoldingRegisters(100, 11), false, "read holding-registers 100..110"},
		{"tech", readIR, false, "may not use read input registers"},
		{"tech", writeCoil, true, ""},
		{"files", readFile, true, ""},
		{"files", writeFile, true, ""},
		{"files", &modbus.ReadFileRecord{SubRequests: []modbus.FileSubRequest{{RefType: 6, File: 4}, {RefType: 6, File: 5}}}, false, "read files 5"},
		{"nothing", readHR, false, "may not use"},
		{"viewer", readHR, false, `role "viewer" may not use`}, // rules given: the defaults no longer apply
		{"", readHR, false, "no role"},
	}
	for _, tt := range tests {
		d := p.Decide(tt.role, 1, tt.req)
		if d.Allow != tt.allow || !strings.Contains(d.Reason, tt.reason) {
			t.Errorf("Decide(%q, %s) = %+v, want allow=%v reason containing %q", tt.role, tt.req.Function(), d, tt.allow, tt.reason)
		}
	}
}

func TestReadOnlyAndMayUse(t *testing.T) {
	p := Policy{ReadOnly: true}
	for _, req := range []modbus.Request{writeReg, writeCoil, rwRegs, writeFile, userFC} {
		if d := p.Decide("operator", 1, req); d.Allow || !strings.Contains(d.Reason, "read-only") {
			t.Errorf("read-only Decide(operator, %s) = %+v", req.Function(), d)
		}
	}
	if d := p.Decide("operator", 1, readHR); !d.Allow {
		t.Errorf("read-only Decide(operator, read) = %+v", d)
	}
	var q Policy
	for _, tt := range []struct {
		role  string
		fc    modbus.FunctionCode
		allow bool
	}{{"operator", 16, true}, {"viewer", 16, false}, {"viewer", 3, true}, {"", 3, false}, {"x", 3, false}} {
		if d := q.MayUse(tt.role, 1, tt.fc); d.Allow != tt.allow {
			t.Errorf("MayUse(%q, %d) = %+v, want %v", tt.role, tt.fc, d, tt.allow)
		}
	}
	if d := p.MayUse("operator", 1, 6); d.Allow {
		t.Errorf("read-only MayUse(operator, 6) = %+v", d)
	}
}

// TestValidate: every mistake is one line of its own, each a complete
// sentence naming the rule, its role, where it was written (when known)
// and the field. It was errors.Join of lines that said "rule 3", with the
// place only on the first line of a wrapping message, and the tables of
// a rule in map order.
func TestValidate(t *testing.T) {
	hr := HoldingRegisters
	tests := []struct {
		name  string
		rules []Rule
		want  []string
	}{
		{"empty role", []Rule{{Role: "", Functions: []modbus.FunctionCode{3}}},
			[]string{`access: rule 1 (role ""): role: the role is empty: write the role as the client certificates carry it`}},
		{"three mistakes, one from a file", []Rule{
			{Role: "ok", Functions: []modbus.FunctionCode{3}},
			{Role: "x", Source: "rules.yaml:7:9", Functions: []modbus.FunctionCode{3, 0, 0x83}},
			{Role: "y", Functions: []modbus.FunctionCode{3}, Units: []Range{{5, 4}}},
		}, []string{
			`access: rules.yaml:7:9: rule 2 (role "x"): functions[1]: function code 0 is not a request code 1..127`,
			`access: rules.yaml:7:9: rule 2 (role "x"): functions[2]: function code 131 is not a request code 1..127`,
			`access: rule 3 (role "y"): units[0]: unit range 5..4 is not unit ids 0..255, first <= last`,
		}},
		{"tables in their order", []Rule{{Role: "y", Functions: []modbus.FunctionCode{3},
			Ranges: map[Table][]Range{Table(99): {{0, 1}}, hr: {{0, 1}, {9, 3}}, Coils: {{2, 1}}}}}, []string{
			`access: rule 1 (role "y"): coils[0]: range 2..1 is empty: it ends before it starts`,
			`access: rule 1 (role "y"): holding-registers[1]: range 9..3 is empty: it ends before it starts`,
			`access: rule 1 (role "y"): ranges: table(99) is not a table: want coils, discrete-inputs, holding-registers, input-registers or files`,
		}},
		{"valid", []Rule{{Role: "a", Functions: AllFunctions(), Units: []Range{{0, 255}}}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Policy{Rules: tc.rules}
			err := p.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("Validate() = %v (%T), want Errors", err, err)
			}
			if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, tc.want) {
				t.Errorf("Validate() lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			var re *RuleError
			if !errors.As(err, &re) || re.Error() != tc.want[0] {
				t.Errorf("errors.As(RuleError) = %v, want the first, %q", re, tc.want[0])
			}
		})
	}
}

// TestUnitsPolicy: a rule with Units holds only on those unit ids, one
// without on every unit; the reason of a refusal names the unit, unless a
// rule for the unit refused the addresses; MayUse judges the unit too; and
// Validate refuses unit ranges beyond 255 or backwards.
func TestUnitsPolicy(t *testing.T) {
	p := Policy{Rules: []Rule{
		{Role: "operator", Functions: AllFunctions(), Units: []Range{{1, 1}, {10, 19}}},
		{Role: "operator", Functions: ReadFunctions(), Units: []Range{{2, 2}}},
		{Role: "operator", Functions: []modbus.FunctionCode{6}, Units: []Range{{3, 3}},
			Ranges: map[Table][]Range{HoldingRegisters: {{0, 9}}}},
		{Role: "viewer", Functions: ReadFunctions()},
		{Role: "nobody", Functions: AllFunctions(), Units: []Range{}},
	}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		role   string
		unit   uint8
		req    modbus.Request
		allow  bool
		reason string
	}{
		{"operator", 1, writeReg, true, ""},
		{"operator", 10, writeReg, true, ""},
		{"operator", 19, writeCoil, true, ""},
		{"operator", 20, readHR, false, `role "operator" may not use read holding registers (FC 3) on unit 20 (allowed on units 1, 2, 10..19)`},
		{"operator", 2, readHR, true, ""},
		{"operator", 2, writeReg, false, `role "operator" may not use write single register (FC 6) on unit 2 (allowed on units 1, 3, 10..19)`},
		{"operator", 3, &modbus.WriteSingleRegister{Address: 5}, true, ""},
		{"operator", 3, writeReg, false, "may not write holding-registers 100"}, // the unit's rule, not its addresses
		{"operator", 0, readHR, false, "on unit 0"},
		{"viewer", 0, readHR, true, ""},
		{"viewer", 255, readHR, true, ""},
		{"nobody", 1, readHR, false, "on unit 1 (allowed on no unit)"},
	} {
		d := p.Decide(tt.role, tt.unit, tt.req)
		if d.Allow != tt.allow || !strings.Contains(d.Reason, tt.reason) {
			t.Errorf("Decide(%q, unit %d, %s) = %+v, want allow=%v reason containing %q", tt.role, tt.unit, tt.req.Function(), d, tt.allow, tt.reason)
		}
	}
	for _, tt := range []struct {
		unit  uint8
		fc    modbus.FunctionCode
		allow bool
	}{{1, 16, true}, {2, 16, false}, {2, 3, true}, {4, 3, false}, {3, 6, true}} {
		if d := p.MayUse("operator", tt.unit, tt.fc); d.Allow != tt.allow || !d.Allow && !strings.Contains(d.Reason, "on unit") {
			t.Errorf("MayUse(operator, unit %d, %d) = %+v, want %v", tt.unit, tt.fc, d, tt.allow)
		}
	}
	for _, u := range []Range{{0, 256}, {5, 4}} {
		bad := Policy{Rules: []Rule{{Role: "x", Functions: []modbus.FunctionCode{3}, Units: []Range{u}}}}
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "unit range") {
			t.Errorf("Validate(units %v) = %v, want a unit range error", u, err)
		}
	}
}
