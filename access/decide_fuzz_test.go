package access

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/plcctl/plcctl/modbus"
)

// span is a request's items in one table, as the model below sees them.
type span struct {
	t           Table
	first, last int
}

// spansOf lists the items a decoded request touches, read from its fields
// (not through Accesses, which is what is checked).
func spansOf(req modbus.Request) []span {
	one := func(t Table, a, n uint16) span { return span{t, int(a), int(a) + max(int(n), 1) - 1} }
	switch r := req.(type) {
	case *modbus.ReadBits:
		if r.FC == modbus.FuncReadDiscreteInputs {
			return []span{one(DiscreteInputs, r.Address, r.Quantity)}
		}
		return []span{one(Coils, r.Address, r.Quantity)}
	case *modbus.ReadRegisters:
		if r.FC == modbus.FuncReadInputRegisters {
			return []span{one(InputRegisters, r.Address, r.Quantity)}
		}
		return []span{one(HoldingRegisters, r.Address, r.Quantity)}
	case *modbus.WriteSingleCoil:
		return []span{one(Coils, r.Address, 1)}
	case *modbus.WriteMultipleCoils:
		return []span{one(Coils, r.Address, r.Quantity)}
	case *modbus.WriteSingleRegister:
		return []span{one(HoldingRegisters, r.Address, 1)}
	case *modbus.WriteMultipleRegisters:
		return []span{one(HoldingRegisters, r.Address, r.Quantity)}
	case *modbus.MaskWriteRegister:
		return []span{one(HoldingRegisters, r.Address, 1)}
	case *modbus.ReadWriteRegisters:
		return []span{one(HoldingRegisters, r.ReadAddress, r.ReadQuantity), one(HoldingRegisters, r.WriteAddress, r.WriteQuantity)}
	case *modbus.ReadFIFOQueue:
		return []span{one(HoldingRegisters, r.Address, 1)}
	case *modbus.ReadFileRecord:
		var s []span
		for _, sr := range r.SubRequests {
			s = append(s, one(FileRecords, sr.File, 1))
		}
		return s
	case *modbus.WriteFileRecord:
		var s []span
		for _, fr := range r.Records {
			s = append(s, one(FileRecords, fr.File, 1))
		}
		return s
	}
	return nil
}

// FuzzDecide: for any request PDU a client sends and a rule limiting
// every table to first..last, the policy allows a valid request exactly
// when every item it touches lies in the range, refuses with a reason on
// one line, and judges a request that does not validate by its function
// code alone. The text of a rule (ranges, tables, functions) parses to
// what writes back to the same.
func FuzzDecide(f *testing.F) {
	f.Add([]byte{3, 0, 100, 0, 10}, uint16(100), uint16(109), "0..99")
	f.Add([]byte{3, 0, 100, 0, 11}, uint16(100), uint16(109), "0x10..0x1F")
	f.Add([]byte{0x17, 0, 0, 0, 2, 1, 0xF4, 0, 1, 2, 0, 7}, uint16(0), uint16(600), "read-write-registers")
	f.Add([]byte{0x17, 0, 0, 0, 2, 1, 0xF4, 0, 2, 4, 0, 7, 0, 8}, uint16(0), uint16(500), "23")
	f.Add([]byte{0x14, 7, 6, 0, 4, 0, 1, 0, 2}, uint16(4), uint16(4), "files")
	f.Add([]byte{0x2B, 0x0E, 1, 0}, uint16(0), uint16(0), "read-device-id")
	f.Add([]byte{0x41}, uint16(0), uint16(65535), "function-0x41")
	f.Fuzz(func(t *testing.T, pdu []byte, first, last uint16, text string) {
		checkRuleText(t, text)
		if first > last {
			first, last = last, first
		}
		rg := []Range{{first, last}}
		pol := Policy{Rules: []Rule{{Role: "r", Functions: AllFunctions(), Ranges: map[Table][]Range{
			Coils: rg, DiscreteInputs: rg, HoldingRegisters: rg, InputRegisters: rg, FileRecords: rg}}}}
		req, err := modbus.DecodeRequest(pdu)
		if err != nil {
			return
		}
		if req.Validate() != nil {
			d := pol.MayUse("r", 1, req.Function())
			if fc := req.Function(); d.Allow != (fc >= 1 && fc < 0x80) { // AllFunctions: every request code
				t.Fatalf("MayUse(% x) = %+v", pdu, d)
			}
			return
		}
		want := true
		for _, s := range spansOf(req) {
			want = want && s.first >= int(first) && s.last <= int(last)
		}
		d := pol.Decide("r", 1, req)
		if d.Allow != want || (!d.Allow && (d.Reason == "" || strings.Contains(d.Reason, "\n"))) {
			t.Fatalf("Decide(% x) under %d..%d = %+v, want allow=%v (spans %v)", pdu, first, last, d, want, spansOf(req))
		}
		if d := (&Policy{Rules: []Rule{}}).Decide("r", 1, req); d.Allow {
			t.Fatalf("an empty rule list allowed % x", pdu)
		}
	})
}

// checkRuleText: a range, table or function as an access file writes it.
func checkRuleText(t *testing.T, s string) {
	t.Helper()
	if r, err := ParseRange(s); err == nil {
		if back, err := ParseRange(r.String()); err != nil || back != r || r.First > r.Last {
			t.Fatalf("ParseRange(%q) = %v, which parses back as %v, %v", s, r, back, err)
		}
	} else if !strings.HasPrefix(err.Error(), "access: range ") {
		t.Fatalf("ParseRange(%q) error %q", s, err)
	}
	if tb, err := ParseTable(s); err == nil && tb.String() != s {
		t.Fatalf("ParseTable(%q) = %v", s, tb)
	}
	fcs, err := ParseFunction(s)
	if err != nil {
		if !strings.HasPrefix(err.Error(), "access: ") {
			t.Fatalf("ParseFunction(%q) error %q", s, err)
		}
		return
	}
	if len(fcs) == 0 || slices.ContainsFunc(fcs, func(fc modbus.FunctionCode) bool { return fc == 0 || fc >= 0x80 }) {
		t.Fatalf("ParseFunction(%q) = %v", s, fcs)
	}
	if len(fcs) == 1 {
		if back, err := ParseFunction(fmt.Sprint(int(fcs[0]))); err != nil || !slices.Equal(back, fcs) {
			t.Fatalf("ParseFunction(%q) = %v, whose code parses back as %v, %v", s, fcs, back, err)
		}
		if n := FunctionName(fcs[0]); n != "" {
			if back, err := ParseFunction(n); err != nil || !slices.Equal(back, fcs) {
				t.Fatalf("ParseFunction(%q) = %v, named %q, which parses as %v, %v", s, fcs, n, back, err)
			}
		}
	}
}
