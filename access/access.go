// Package access decides what a Modbus client may do: the role a client
// certificate carries (Modbus/TCP Security, MODBUS-NOTES §4.4), and a policy
// that maps a role to the function codes, units and address ranges per table it
// may use. It is pure, with no I/O: the simulator asks Decide for every
// request on a TLS connection and carries out the answer (exception 01 for
// a refusal); a plant file may hold the rules as a Policy.
//
//	p := access.Policy{Rules: []access.Rule{
//		{Role: "operator", Functions: access.ReadFunctions()},
//		{Role: "operator", Functions: []modbus.FunctionCode{6, 16},
//			Ranges: map[access.Table][]access.Range{access.HoldingRegisters: {{First: 0, Last: 99}}}},
//	}}
//	d := p.Decide("operator", 1, modbus.NewReadHoldingRegisters(0, 10)) // d.Allow on unit 1
//
// A rule with Units holds only for those unit ids (a gateway's devices
// behind one address); without, for every unit.
package access

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/plcctl/plcctl/modbus"
)

// RoleOID is the certificate extension that carries a client's role, an
// ASN.1 UTF8String [Modbus/TCP Security ].
var RoleOID = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 50316, 802, 1}

// Why a certificate has no role.
var (
	ErrNoRole       = errors.New("access: the certificate has no role extension (OID 1.3.6.1.4.1.50316.802.1)")
	ErrManyRoles    = errors.New("access: the certificate has more than one role extension, so no valid role")
	ErrRoleEncoding = errors.New("access: the role extension is not an ASN.1 UTF8String")
)

// Role returns the role of a client certificate: the value of its one role
// extension. No extension, more than one, or a value that is
// not exactly one UTF8String give "" and an error saying which.
func Role(cert *x509.Certificate) (string, error) {
	var val []byte
	n := 0
	for _, ext := range cert.Extensions {
		if ext.Id.Equal(RoleOID) {
			n++
			val = ext.Value
		}
	}
	switch {
	case n == 0:
		return "", ErrNoRole
	case n > 1:
		return "", ErrManyRoles
	}
	var raw asn1.RawValue
	rest, err := asn1.Unmarshal(val, &raw)
	if err != nil || len(rest) != 0 || raw.Class != asn1.ClassUniversal || raw.Tag != asn1.TagUTF8String || raw.IsCompound {
		return "", ErrRoleEncoding
	}
	var role string
	if _, err := asn1.UnmarshalWithParams(val, &role, "utf8"); err != nil {
		return "", ErrRoleEncoding
	}
	return role, nil
}

// Table is one of the data tables a request touches.
type Table uint8

const (
	Coils Table = iota + 1
	DiscreteInputs
	HoldingRegisters
	InputRegisters
	FileRecords // address = file number
)

var tableNames = map[Table]string{Coils: "coils", DiscreteInputs: "discrete-inputs",
	HoldingRegisters: "holding-registers", InputRegisters: "input-registers", FileRecords: "files"}

func (t Table) String() string {
	if s, ok := tableNames[t]; ok {
		return s
	}
	return "table(" + strconv.Itoa(int(t)) + ")"
}

// ParseTable parses a table name as String prints it.
func ParseTable(s string) (Table, error) {
	for t, name := range tableNames {
		if s == name {
			return t, nil
		}
	}
	return 0, fmt.Errorf("access: unknown table %q: want coils, discrete-inputs, holding-registers, input-registers or files", s)
}

// Range is an inclusive range of PDU addresses (file numbers for files).
type Range struct{ First, Last uint16 }

func (r Range) String() string {
	if r.First == r.Last {
		return strconv.Itoa(int(r.First))
	}
	return strconv.Itoa(int(r.First)) + ".." + strconv.Itoa(int(r.Last))
}

// ParseRange parses "N" or "N..M" (decimal or 0x hex).
func ParseRange(s string) (Range, error) {
	a, b, ok := strings.Cut(s, "..")
	if !ok {
		b = a
	}
	first, err1 := strconv.ParseUint(strings.TrimSpace(a), 0, 16)
	last, err2 := strconv.ParseUint(strings.TrimSpace(b), 0, 16)
	if err1 != nil || err2 != nil || first > last {
		return Range{}, fmt.Errorf("access: range %q: want N or N..M with 0 <= N <= M <= 65535", s)
	}
	return Range{First: uint16(first), Last: uint16(last)}, nil
}

// covers reports whether address..address+count-1 lies inside r.
func (r Range) covers(address uint16, count int) bool {
	return address >= r.First && int(address)+count-1 <= int(r.Last)
}

// Access is one table access of a request.
type Access struct {
	Table   Table
	Write   bool
	Address uint16
	Count   int
}

func (a Access) String() string {
	verb := "read"
	if a.Write {
		verb = "write"
	}
	return verb + " " + a.Table.String() + " " + Range{a.Address, uint16(min(int(a.Address)+max(a.Count, 1)-1, 0xFFFF))}.String()
}

// Accesses appends the table accesses of req to dst. A request the codec
// does not know in detail (a user function, FC 43) touches no table.
func Accesses(dst []Access, req modbus.Request) []Access {
	switch r := req.(type) {
	case *modbus.ReadBits:
		t := Coils
		if r.FC == modbus.FuncReadDiscreteInputs {
			t = DiscreteInputs
		}
		return append(dst, Access{Table: t, Address: r.Address, Count: int(r.Quantity)})
	case *modbus.ReadRegisters:
		t := HoldingRegisters
		if r.FC == modbus.FuncReadInputRegisters {
			t = InputRegisters
		}
		return append(dst, Access{Table: t, Address: r.Address, Count: int(r.Quantity)})
	case *modbus.WriteSingleCoil:
		return append(dst, Access{Table: Coils, Write: true, Address: r.Address, Count: 1})
	case *modbus.WriteMultipleCoils:
		return append(dst, Access{Table: Coils, Write: true, Address: r.Address, Count: int(r.Quantity)})
	case *modbus.WriteSingleRegister:
		return append(dst, Access{Table: HoldingRegisters, Write: true, Address: r.Address, Count: 1})
	case *modbus.WriteMultipleRegisters:
		return append(dst, Access{Table: HoldingRegisters, Write: true, Address: r.Address, Count: int(r.Quantity)})
	case *modbus.MaskWriteRegister:
		return append(dst, Access{Table: HoldingRegisters, Write: true, Address: r.Address, Count: 1})
	case *modbus.ReadWriteRegisters:
		return append(dst, Access{Table: HoldingRegisters, Write: true, Address: r.WriteAddress, Count: int(r.WriteQuantity)},
			Access{Table: HoldingRegisters, Address: r.ReadAddress, Count: int(r.ReadQuantity)})
	case *modbus.ReadFIFOQueue:
		return append(dst, Access{Table: HoldingRegisters, Address: r.Address, Count: 1})
	case *modbus.ReadFileRecord:
		for _, s := range r.SubRequests {
			dst = append(dst, Access{Table: FileRecords, Address: s.File, Count: 1})
		}
	case *modbus.WriteFileRecord:
		for _, s := range r.Records {
			dst = append(dst, Access{Table: FileRecords, Write: true, Address: s.File, Count: 1})
		}
	}
	return dst
}

// IsWrite reports whether a function code may change the device: every
// code but the reads (FC 1-4, 20, 24, 43 Read Device Identification). A
// user-defined function counts as a write, since nobody knows what it does.
func IsWrite(fc modbus.FunctionCode) bool { return !slices.Contains(readFunctions, fc) }

var readFunctions = []modbus.FunctionCode{modbus.FuncReadCoils, modbus.FuncReadDiscreteInputs,
	modbus.FuncReadHoldingRegisters, modbus.FuncReadInputRegisters, modbus.FuncReadFileRecord,
	modbus.FuncReadFIFOQueue, modbus.FuncEncapsulatedInterface}

// ReadFunctions returns the function codes that only read.
func ReadFunctions() []modbus.FunctionCode { return slices.Clone(readFunctions) }

// AllFunctions returns every request function code, 1..127.
func AllFunctions() []modbus.FunctionCode {
	fcs := make([]modbus.FunctionCode, 0, 127)
	for fc := modbus.FunctionCode(1); fc < 0x80; fc++ {
		fcs = append(fcs, fc)
	}
	return fcs
}
