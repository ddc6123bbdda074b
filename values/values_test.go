package values

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

var orders = []WordOrder{ABCD, CDAB, BADC, DCBA}

func TestValuesParseWordOrder(t *testing.T) {
	for _, o := range orders {
		for _, s := range []string{o.String(), strings.ToLower(o.String())} {
			got, err := ParseWordOrder(s)
			if err != nil || got != o {
				t.Errorf("ParseWordOrder(%q) = %v, %v, want %v", s, got, err, o)
			}
		}
	}
	for _, s := range []string{"", "ABDC", "big", "ABCDE"} {
		if _, err := ParseWordOrder(s); err == nil {
			t.Errorf("ParseWordOrder(%q) = nil error, want one", s)
		}
	}
}

func TestValuesParseType(t *testing.T) {
	for _, typ := range Types() {
		for _, s := range []string{typ.String(), strings.ToUpper(typ.String())} {
			got, err := ParseType(s)
			if err != nil || got != typ {
				t.Errorf("ParseType(%q) = %v, %v, want %v", s, got, err, typ)
			}
		}
	}
	for s, want := range map[string]Type{"float": Float32, "double": Float64, "ascii": String} {
		if got, err := ParseType(s); err != nil || got != want {
			t.Errorf("ParseType(%q) = %v, %v, want %v", s, got, err, want)
		}
	}
	if _, err := ParseType("int128"); err == nil {
		t.Error("ParseType(int128) = nil error, want one")
	}
	want := map[Type]int{Uint16: 1, Int16: 1, Hex: 1, Bits: 1, String: 1, Uint32: 2, Int32: 2, Float32: 2,
		Uint64: 4, Int64: 4, Float64: 4}
	for typ, n := range want {
		if got := typ.Registers(); got != n {
			t.Errorf("%v.Registers() = %d, want %d", typ, got, n)
		}
	}
}

// checkValues are MODBUS-NOTES §7 examples plus 64-bit and string layouts.
var checkValues = []struct {
	name  string
	typ   Type
	order WordOrder
	value any
	regs  []uint16
}{
	{"int32 ABCD", Int32, ABCD, int32(123456789), []uint16{0x075B, 0xCD15}},
	{"int32 CDAB", Int32, CDAB, int32(123456789), []uint16{0xCD15, 0x075B}},
	{"int32 BADC", Int32, BADC, int32(123456789), []uint16{0x5B07, 0x15CD}},
	{"int32 DCBA", Int32, DCBA, int32(123456789), []uint16{0x15CD, 0x5B07}},
	{"int32 -2", Int32, ABCD, int32(-2), []uint16{0xFFFF, 0xFFFE}},
	{"uint32 ABCD", Uint32, ABCD, uint32(0x075BCD15), []uint16{0x075B, 0xCD15}},
	{"float32 ABCD", Float32, ABCD, float32(123.456), []uint16{0x42F6, 0xE979}},
	{"float32 CDAB", Float32, CDAB, float32(123.456), []uint16{0xE979, 0x42F6}},
	{"float32 BADC", Float32, BADC, float32(123.456), []uint16{0xF642, 0x79E9}},
	{"float32 DCBA", Float32, DCBA, float32(123.456), []uint16{0x79E9, 0xF642}},
	{"float32 1 ABCD", Float32, ABCD, float32(1), []uint16{0x3F80, 0x0000}},
	{"float32 1 CDAB", Float32, CDAB, float32(1), []uint16{0x0000, 0x3F80}},
	{"float32 -1.5", Float32, ABCD, float32(-1.5), []uint16{0xBFC0, 0x0000}},
	{"float32 wireshark modicon", Float32, CDAB, float32(59.991459), []uint16{0xF741, 0x426F}},
	{"uint64 ABCD", Uint64, ABCD, uint64(0x0102030405060708), []uint16{0x0102, 0x0304, 0x0506, 0x0708}},
	{"uint64 CDAB", Uint64, CDAB, uint64(0x0102030405060708), []uint16{0x0708, 0x0506, 0x0304, 0x0102}},
	{"uint64 BADC", Uint64, BADC, uint64(0x0102030405060708), []uint16{0x0201, 0x0403, 0x0605, 0x0807}},
	{"uint64 DCBA", Uint64, DCBA, uint64(0x0102030405060708), []uint16{0x0807, 0x0605, 0x0403, 0x0201}},
	{"int64 -2", Int64, ABCD, int64(-2), []uint16{0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE}},
	{"float64 1", Float64, ABCD, float64(1), []uint16{0x3FF0, 0, 0, 0}},
	{"float64 1 CDAB", Float64, CDAB, float64(1), []uint16{0, 0, 0, 0x3FF0}},
	{"uint16 ABCD", Uint16, ABCD, uint16(0x1234), []uint16{0x1234}},
	{"uint16 CDAB", Uint16, CDAB, uint16(0x1234), []uint16{0x1234}},
	{"uint16 BADC", Uint16, BADC, uint16(0x1234), []uint16{0x3412}},
	{"int16 -1", Int16, ABCD, int16(-1), []uint16{0xFFFF}},
	{"int16 DCBA", Int16, DCBA, int16(0x0102), []uint16{0x0201}},
	{"hex ignores order", Hex, DCBA, uint16(0x1234), []uint16{0x1234}},
	{"bits ignores order", Bits, BADC, uint16(0x8001), []uint16{0x8001}},
	{"string", String, ABCD, "PLC-01", []uint16{0x504C, 0x432D, 0x3031}},
	{"string odd", String, ABCD, "ABC", []uint16{0x4142, 0x4300}},
	{"string word order ignored", String, CDAB, "ABC", []uint16{0x4142, 0x4300}},
	{"string byte swap", String, BADC, "ABC", []uint16{0x4241, 0x0043}},
	{"string byte swap DCBA", String, DCBA, "PLC-01", []uint16{0x4C50, 0x2D43, 0x3130}},
}

func TestValuesEncode(t *testing.T) {
	for _, tc := range checkValues {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Encode(tc.typ, tc.order, tc.value)
			if err != nil || !reflect.DeepEqual(got, tc.regs) {
				t.Errorf("Encode(%v, %v, %v) = %04X, %v, want %04X", tc.typ, tc.order, tc.value, got, err, tc.regs)
			}
		})
	}
}

func TestValuesDecode(t *testing.T) {
	for _, tc := range checkValues {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(tc.typ, tc.order, tc.regs)
			if err != nil || len(got) != 1 || got[0] != tc.value {
				t.Errorf("Decode(%v, %v, %04X) = %v, %v, want %v", tc.typ, tc.order, tc.regs, got, err, tc.value)
			}
		})
	}
}

func TestValuesEncodeText(t *testing.T) {
	tests := []struct {
		typ   Type
		order WordOrder
		texts []string
		regs  []uint16
	}{
		{Int32, CDAB, []string{"123456789"}, []uint16{0xCD15, 0x075B}},
		{Float32, ABCD, []string{"123.456", "-1.5"}, []uint16{0x42F6, 0xE979, 0xBFC0, 0}},
		{Uint16, ABCD, []string{"0x10", "0b11", "0o10", "010", "+7"}, []uint16{16, 3, 8, 10, 7}},
		{Int16, ABCD, []string{"-0x8000", "32767"}, []uint16{0x8000, 0x7FFF}},
		{Hex, ABCD, []string{"0xBEEF", "beef", "00ff"}, []uint16{0xBEEF, 0xBEEF, 0x00FF}},
		{Bits, ABCD, []string{"0b1000_0000_0000_0001", "101"}, []uint16{0x8001, 5}},
		{Uint64, ABCD, []string{"18446744073709551615"}, []uint16{0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF}},
		{Int64, ABCD, []string{"-9223372036854775808"}, []uint16{0x8000, 0, 0, 0}},
		{String, ABCD, []string{"PLC", "-01"}, []uint16{0x504C, 0x432D, 0x3031}},
	}
	for _, tc := range tests {
		got, err := EncodeText(tc.typ, tc.order, tc.texts...)
		if err != nil || !reflect.DeepEqual(got, tc.regs) {
			t.Errorf("EncodeText(%v, %v, %q) = %04X, %v, want %04X", tc.typ, tc.order, tc.texts, got, err, tc.regs)
		}
	}
}

func TestValuesOutOfRange(t *testing.T) {
	// rng is the ValueError's Range: the type's range for a number outside
	// it, empty for text that is not a number of the type.
	tests := []struct {
		typ       Type
		text, rng string
	}{
		{Uint16, "65536", "0..65535"}, {Uint16, "70000", "0..65535"}, {Uint16, "-1", "0..65535"},
		{Uint16, "99999999999999999999999", "0..65535"},
		{Uint16, "1.5", ""}, {Uint16, "abc", ""}, {Uint16, "", ""},
		{Int16, "32768", "-32768..32767"}, {Int16, "-32769", "-32768..32767"}, {Int16, "0xFFFF", "-32768..32767"},
		{Uint32, "4294967296", "0..4294967295"}, {Uint32, "-1", "0..4294967295"},
		{Int32, "2147483648", "-2147483648..2147483647"}, {Int32, "-2147483649", "-2147483648..2147483647"},
		{Uint64, "18446744073709551616", "0..18446744073709551615"}, {Uint64, "-1", "0..18446744073709551615"},
		{Int64, "9223372036854775808", "-9223372036854775808..9223372036854775807"},
		{Int64, "-9223372036854775809", "-9223372036854775808..9223372036854775807"},
		{Float32, "1e39", "±3.403e+38"}, {Float32, "-3.5e38", "±3.403e+38"}, {Float32, "twelve", ""},
		{Float64, "1e309", "±1.798e+308"},
		{Hex, "0x10000", "0x0000..0xFFFF"}, {Hex, "xyz", ""},
		{Bits, "1_0000_0000_0000_0000", "at most 16 binary digits"}, {Bits, "102", ""},
	}
	for _, tc := range tests {
		regs, err := EncodeText(tc.typ, ABCD, "1", tc.text)
		var ve *ValueError
		if !errors.As(err, &ve) || !errors.Is(err, ErrValue) {
			t.Errorf("EncodeText(%v, %q) = %04X, %v, want a *ValueError", tc.typ, tc.text, regs, err)
			continue
		}
		if regs != nil {
			t.Errorf("EncodeText(%v, %q) returned registers %04X with an error", tc.typ, tc.text, regs)
		}
		if ve.Range != tc.rng {
			t.Errorf("EncodeText(%v, %q) error Range = %q, want %q", tc.typ, tc.text, ve.Range, tc.rng)
		}
		msg := err.Error()
		shown := tc.text
		if strings.TrimSpace(shown) != shown || shown == "" {
			shown = strconv.Quote(shown)
		}
		if !strings.Contains(msg, "value "+shown+" ") || !strings.Contains(msg, tc.typ.String()) {
			t.Errorf("EncodeText(%v, %q) error %q does not name the value and the type", tc.typ, tc.text, msg)
		}
		if tc.rng != "" && !strings.Contains(msg, tc.rng) {
			t.Errorf("EncodeText(%v, %q) error %q does not give the range %s", tc.typ, tc.text, msg, tc.rng)
		}
	}
	goValues := []struct {
		typ Type
		v   any
	}{
		{Uint16, 70000}, {Uint16, -1}, {Int16, uint64(40000)}, {Uint32, int64(-5)}, {Int64, uint64(math.MaxUint64)},
		{Float32, 1e39}, {Uint16, 1.0}, {Uint16, "7"}, {Float64, "7"}, {String, 7},
	}
	for _, tc := range goValues {
		if regs, err := Encode(tc.typ, ABCD, tc.v); !errors.As(err, new(*ValueError)) {
			t.Errorf("Encode(%v, %T(%v)) = %04X, %v, want a *ValueError", tc.typ, tc.v, tc.v, regs, err)
		}
	}
}

func TestValuesDecodePartial(t *testing.T) {
	if vals, err := Decode(Float32, ABCD, []uint16{1, 2, 3}); err == nil {
		t.Errorf("Decode(float32, 3 registers) = %v, nil, want an error", vals)
	}
	if got, _ := Decode(String, ABCD, []uint16{0x4142, 0, 0}); got[0] != "AB" {
		t.Errorf("Decode(string, 4142 0000 0000) = %q, want trailing NULs stripped", got[0])
	}
}

// randomValue returns a random Go value of t's type, biased toward edges.
func randomValue(r *rand.Rand, t Type) any {
	u := r.Uint64()
	switch r.IntN(4) {
	case 0:
		u = 0
	case 1:
		u = math.MaxUint64
	case 2:
		u = 1 << r.IntN(64)
	}
	switch t {
	case Int16:
		return int16(u)
	case Uint32:
		return uint32(u)
	case Int32:
		return int32(u)
	case Uint64:
		return u
	case Int64:
		return int64(u)
	case Float32:
		return math.Float32frombits(uint32(u))
	case Float64:
		return math.Float64frombits(u)
	case String:
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(1 + r.IntN(255))
		}
		return string(b)
	}
	return uint16(u)
}

// TestValuesRoundTrip is a property test: for every type and word order,
// Decode(Encode(v)) == v bit for bit, and ParseValue(FormatValue(v)) == v
// for every value that is not NaN.
func TestValuesRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, typ := range Types() {
		for _, o := range orders {
			t.Run(typ.String()+"/"+o.String(), func(t *testing.T) {
				for range 500 {
					roundTrip(t, typ, o, randomValue(r, typ))
				}
			})
		}
	}
}

func roundTrip(t *testing.T, typ Type, o WordOrder, v any) {
	t.Helper()
	regs, err := Encode(typ, o, v)
	if err != nil {
		t.Fatalf("Encode(%v, %v, %v): %v", typ, o, v, err)
	}
	if typ != String && len(regs) != typ.Registers() {
		t.Fatalf("Encode(%v, %v, %v) gave %d registers, want %d", typ, o, v, len(regs), typ.Registers())
	}
	got, err := Decode(typ, o, regs)
	if err != nil || len(got) != 1 || !sameBits(got[0], v) {
		t.Fatalf("Decode(%v, %v, Encode(%v) = %04X) = %v, %v", typ, o, v, regs, got, err)
	}
	if isNaN(v) {
		return
	}
	text := FormatValue(typ, v)
	back, err := ParseValue(typ, text)
	if err != nil || !sameBits(back, v) {
		t.Fatalf("ParseValue(%v, FormatValue(%v) = %q) = %v, %v", typ, v, text, back, err)
	}
}

func sameBits(a, b any) bool {
	switch x := a.(type) {
	case float32:
		y, ok := b.(float32)
		return ok && math.Float32bits(x) == math.Float32bits(y)
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	}
	return a == b
}

func isNaN(v any) bool {
	switch x := v.(type) {
	case float32:
		return x != x
	case float64:
		return math.IsNaN(x)
	}
	return false
}

// FuzzValuesDecode: any registers decode and encode back to themselves for
// every fixed-width type and order (strings: up to trailing NUL bytes).
func FuzzValuesDecode(f *testing.F) {
	for _, tc := range checkValues {
		var b []byte
		for _, r := range tc.regs {
			b = append(b, byte(r>>8), byte(r))
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, s string) {
		regs := make([]uint16, 0, len(s)/2)
		for i := 0; i+1 < len(s); i += 2 {
			regs = append(regs, uint16(s[i])<<8|uint16(s[i+1]))
		}
		for _, typ := range Types() {
			n := typ.Registers()
			in := regs[:len(regs)/n*n]
			for _, o := range orders {
				vals, err := Decode(typ, o, in)
				if err != nil {
					t.Fatalf("Decode(%v, %v, %04X): %v", typ, o, in, err)
				}
				out, err := Encode(typ, o, vals...)
				if err != nil {
					t.Fatalf("Encode(%v, %v, %v): %v", typ, o, vals, err)
				}
				if typ == String {
					out = append(out, make([]uint16, len(in)-len(out))...)
				}
				if !reflect.DeepEqual(out, in) && !(len(out) == 0 && len(in) == 0) {
					t.Fatalf("Encode(Decode(%v, %v, %04X)) = %04X", typ, o, in, out)
				}
			}
		}
	})
}

// FuzzParseValue: any text, as any type, is a value or a *ValueError that
// names it on one printable line; a value encodes, decodes and formats
// back to itself in every order.
func FuzzParseValue(f *testing.F) {
	for _, s := range []string{"0", "65535", "65536", "-32768", "0x7fff", "0b1010", "0o17", "010", "1e3", "NaN",
		"-Inf", "3.4e39", "1e-46", "1_000", "0xFF_FF", "FFFF", "1111000011110000", "18446744073709551616",
		"-9223372036854775809", "PLC-01", "", " 5", "1\n2", "\x1b[2J", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, typ := range Types() {
			v, err := ParseValue(typ, s)
			if err != nil {
				var ve *ValueError
				msg := err.Error()
				if !errors.As(err, &ve) || ve.Type != typ || ve.Value != s || !strings.HasPrefix(msg, "values: value ") ||
					!printableLine(msg) {
					t.Fatalf("ParseValue(%v, %q) = %q (%T): want a *ValueError naming the value on one printable line", typ, s, msg, err)
				}
				continue
			}
			if typ == String && strings.HasSuffix(s, "\x00") {
				continue // a device pads with NULs, so decoding drops them
			}
			for _, o := range orders {
				roundTrip(t, typ, o, v)
			}
		}
	})
}

// printableLine reports whether s is one line of valid UTF-8 with only
// printable runes (strconv.CanBackquote would refuse a backquote too).
func printableLine(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !strconv.IsPrint(r) })
}
