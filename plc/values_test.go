package plc

import (
	"reflect"
	"testing"

	"github.com/plcctl/plcctl/values"
)

// TestValuesAliases: plc's names are package values' (the codec's own tests
// are in values/); a caller mixing both gets identical results.
func TestValuesAliases(t *testing.T) {
	if got, want := Types(), values.Types(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Types() = %v, want %v", got, want)
	}
	regs, err := EncodeText(Float32, CDAB, "123.456")
	if want := []uint16{0xE979, 0x42F6}; err != nil || !reflect.DeepEqual(regs, want) {
		t.Fatalf("EncodeText(float32, CDAB, 123.456) = %04X, %v, want %04X", regs, err, want)
	}
	vals, err := values.Decode(values.Float32, values.CDAB, regs)
	if err != nil || vals[0] != float32(123.456) {
		t.Fatalf("values.Decode(plc encoding) = %v, %v", vals, err)
	}
	if _, err := Encode(Uint16, ABCD, 70000); err == nil {
		t.Fatal("Encode(uint16, 70000) = nil error")
	}
	var ve *ValueError
	_, err = ParseValue(Int16, "40000")
	if ve, _ = err.(*values.ValueError); ve == nil || ve.Type != Int16 {
		t.Fatalf("ParseValue(int16, 40000) error = %v, want a *ValueError for int16", err)
	}
	if o, err := ParseWordOrder("dcba"); err != nil || o != DCBA {
		t.Fatalf("ParseWordOrder(dcba) = %v, %v", o, err)
	}
	if typ, err := ParseType("f64"); err != nil || typ != Float64 {
		t.Fatalf("ParseType(f64) = %v, %v", typ, err)
	}
	if s := DecodeString(EncodeString("PLC", true), true); s != "PLC" {
		t.Fatalf("DecodeString(EncodeString(PLC)) = %q", s)
	}
	if s := FormatValue(Hex, uint16(0xBEEF)); s != "0xBEEF" {
		t.Fatalf("FormatValue(hex, 0xBEEF) = %q", s)
	}
}
