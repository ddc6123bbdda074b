package access

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/plcctl/plcctl/modbus"
)

func roleExt(t testing.TB, v string) pkix.Extension {
	val, err := asn1.MarshalWithParams(v, "utf8")
	if err != nil {
		t.Fatal(err)
	}
	return pkix.Extension{Id: RoleOID, Value: val}
}

func TestRole(t *testing.T) {
	printable, _ := asn1.MarshalWithParams("operator", "printable")
	ia5, _ := asn1.MarshalWithParams("operator", "ia5")
	other := pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 50316, 802, 2}, Value: roleExt(t, "x").Value}
	tests := []struct {
		name string
		exts []pkix.Extension
		want string
		err  error
	}{
		{"one role", []pkix.Extension{roleExt(t, "operator")}, "operator", nil},
		{"utf-8 role", []pkix.Extension{roleExt(t, "Bediener-Ü")}, "Bediener-Ü", nil},
		{"no extension", nil, "", ErrNoRole},
		{"other extension only", []pkix.Extension{other}, "", ErrNoRole},
		{"two roles", []pkix.Extension{roleExt(t, "operator"), roleExt(t, "viewer")}, "", ErrManyRoles},
		{"two equal roles", []pkix.Extension{roleExt(t, "operator"), roleExt(t, "operator")}, "", ErrManyRoles},
		{"PrintableString", []pkix.Extension{{Id: RoleOID, Value: printable}}, "", ErrRoleEncoding},
		{"IA5String", []pkix.Extension{{Id: RoleOID, Value: ia5}}, "", ErrRoleEncoding},
		{"trailing bytes", []pkix.Extension{{Id: RoleOID, Value: append(roleExt(t, "operator").Value, 0)}}, "", ErrRoleEncoding},
		{"truncated", []pkix.Extension{{Id: RoleOID, Value: roleExt(t, "operator").Value[:4]}}, "", ErrRoleEncoding},
		{"empty value", []pkix.Extension{{Id: RoleOID}}, "", ErrRoleEncoding},
		{"invalid UTF-8", []pkix.Extension{{Id: RoleOID, Value: []byte{0x0C, 0x02, 0xC3, 0x28}}}, "", ErrRoleEncoding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Role(&x509.Certificate{Extensions: tt.exts})
			if got != tt.want || !errors.Is(err, tt.err) {
				t.Errorf("Role = %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

// FuzzRole: any extension value gives a role or an error, never a panic;
// a role comes back only from a well-formed UTF8String that encodes back
// to the same bytes.
func FuzzRole(f *testing.F) {
	f.Add(roleExt(f, "operator").Value)
	f.Add(roleExt(f, "viewer").Value)
	f.Add([]byte{0x0C, 0x00})
	f.Add([]byte{0x13, 0x02, 'o', 'p'})
	f.Add([]byte{0x0C, 0x81, 0x01, 'x'})
	f.Fuzz(func(t *testing.T, val []byte) {
		role, err := Role(&x509.Certificate{Extensions: []pkix.Extension{{Id: RoleOID, Value: val}}})
		if err != nil {
			if role != "" {
				t.Fatalf("Role(% x) = %q with error %v", val, role, err)
			}
			return
		}
		back, merr := asn1.MarshalWithParams(role, "utf8")
		if merr != nil || string(back) != string(val) {
			// DER allows one encoding only; a long-form length would differ.
			if len(val) > 0 && val[1]&0x80 == 0 {
				t.Fatalf("Role(% x) = %q, which encodes as % x", val, role, back)
			}
		}
	})
}

func TestAccesses(t *testing.T) {
	tests := []struct {
		req  modbus.Request
		want string
	}{
		{modbus.NewReadHoldingRegisters(100, 10), "read holding-registers 100..109"},
		{&modbus.ReadRegisters{FC: modbus.FuncReadInputRegisters, Address: 5, Quantity: 1}, "read input-registers 5"},
		{&modbus.ReadBits{FC: modbus.FuncReadCoils, Address: 0, Quantity: 16}, "read coils 0..15"},
		{&modbus.ReadBits{FC: modbus.FuncReadDiscreteInputs, Address: 7, Quantity: 2}, "read discrete-inputs 7..8"},
		{modbus.NewWriteSingleCoil(3, true), "write coils 3"},
		{modbus.NewWriteMultipleCoils(8, make([]bool, 8)), "write coils 8..15"},
		{&modbus.WriteSingleRegister{Address: 9, Value: 1}, "write holding-registers 9"},
		{modbus.NewWriteMultipleRegisters(65530, make([]uint16, 6)), "write holding-registers 65530..65535"},
		{&modbus.MaskWriteRegister{Address: 4}, "write holding-registers 4"},
		{modbus.NewReadWriteRegisters(0, 2, 10, []uint16{1}), "write holding-registers 10, read holding-registers 0..1"},
		{&modbus.ReadFIFOQueue{Address: 1246}, "read holding-registers 1246"},
		{&modbus.ReadFileRecord{SubRequests: []modbus.FileSubRequest{{RefType: 6, File: 4, Length: 2}, {RefType: 6, File: 3, Length: 1}}}, "read files 4, read files 3"},
		{&modbus.WriteFileRecord{Records: []modbus.FileRecord{{RefType: 6, File: 4, Data: []byte{0, 1}}}}, "write files 4"},
		{&modbus.ReadDeviceID{Code: 1}, ""},
		{&modbus.Raw{FC: 65}, ""},
	}
	for _, tt := range tests {
		var s []string
		for _, a := range Accesses(nil, tt.req) {
			s = append(s, a.String())
		}
		if got := strings.Join(s, ", "); got != tt.want {
			t.Errorf("Accesses(%T) = %q, want %q", tt.req, got, tt.want)
		}
	}
}

func TestParseRangeAndTable(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Range
		ok   bool
	}{
		{"5", Range{5, 5}, true}, {"0..99", Range{0, 99}, true}, {"0x10..0x1F", Range{16, 31}, true},
		{"0..65535", Range{0, 65535}, true}, {"9..3", Range{}, false}, {"0..65536", Range{}, false}, {"", Range{}, false}, {"a..b", Range{}, false},
	} {
		got, err := ParseRange(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseRange(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	for tb, name := range tableNames {
		if got, err := ParseTable(name); err != nil || got != tb {
			t.Errorf("ParseTable(%q) = %v, %v", name, got, err)
		}
	}
	if _, err := ParseTable("registers"); err == nil {
		t.Error("ParseTable(registers) succeeded")
	}
}

func TestParseFunction(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []modbus.FunctionCode
	}{
		{"3", []modbus.FunctionCode{3}}, {"0x10", []modbus.FunctionCode{16}}, {"127", []modbus.FunctionCode{127}},
		{"read-holding-registers", []modbus.FunctionCode{3}}, {"Read-Coils", []modbus.FunctionCode{1}},
		{"read-write-multiple-registers", []modbus.FunctionCode{23}}, {"read-write-registers", []modbus.FunctionCode{23}},
		{"write-register", []modbus.FunctionCode{6}}, {"write-single-register", []modbus.FunctionCode{6}},
		{"read-device-id", []modbus.FunctionCode{43}}, {"encapsulated-interface-transport", []modbus.FunctionCode{43}},
		{"mask-write-register", []modbus.FunctionCode{22}}, {"read-fifo-queue", []modbus.FunctionCode{24}},
		{"reads", ReadFunctions()}, {"writes", WriteFunctions()}, {"all", AllFunctions()},
		{"0", nil}, {"128", nil}, {"300", nil}, {"read-holding-register", nil}, {"", nil}, {"function-0x41", nil},
	} {
		got, err := ParseFunction(tt.in)
		if (err == nil) != (tt.want != nil) || !slices.Equal(got, tt.want) {
			t.Errorf("ParseFunction(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, n := range FunctionNames() {
		if _, err := ParseFunction(n); err != nil {
			t.Errorf("FunctionNames has %q, which ParseFunction refuses: %v", n, err)
		}
	}
	for _, fc := range WriteFunctions() {
		if !IsWrite(fc) {
			t.Errorf("WriteFunctions has %s, which IsWrite says only reads", fc)
		}
	}
}
