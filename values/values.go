package values

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrValue is wrapped by every *ValueError.
var ErrValue = errors.New("values: value does not fit")

// ValueError reports a value that cannot be encoded as Type: out of range,
// not a number, or of the wrong Go type. It names the value and the type.
type ValueError struct {
	Value  string // the value as given
	Type   Type
	Reason string // e.g. "out of range 0..65535"
	// Range is Type's range when Value is a number outside it ("0..65535",
	// "0x0000..0xFFFF", "±3.403e+38"), and empty when Value is not a number
	// of Type at all, so a caller can tell the two apart and word its own
	// message without parsing Reason.
	Range string
}

func (e *ValueError) Error() string {
	v := e.Value
	if strings.TrimSpace(v) != v || v == "" || !utf8.ValidString(v) ||
		strings.ContainsFunc(v, func(r rune) bool { return !strconv.IsPrint(r) }) {
		v = strconv.Quote(v) // make an empty, padded or unprintable value visible, on one line
	}
	return "values: value " + v + " does not fit " + e.Type.String() + ": " + e.Reason
}

// Unwrap returns ErrValue.
func (e *ValueError) Unwrap() error { return ErrValue }

// Type is how registers are read as values: the CLI's --type. Every type but
// String has a fixed width (Registers); Hex and Bits are one raw register,
// shown in hex or as 16 binary digits, and ignore the word order.
type Type uint8

// Types. The zero value is Uint16, one plain register.
const (
	Uint16 Type = iota
	Int16
	Uint32
	Int32
	Uint64
	Int64
	Float32
	Float64
	Hex    // one register, written and shown as 0x0000..0xFFFF
	Bits   // one register, written and shown as 16 binary digits, MSB first
	String // two characters per register, first in the high byte
)

var typeNames = [...]string{Uint16: "uint16", Int16: "int16", Uint32: "uint32", Int32: "int32",
	Uint64: "uint64", Int64: "int64", Float32: "float32", Float64: "float64", Hex: "hex", Bits: "bits",
	String: "string"}

// typeAliases are other spellings ParseType accepts. A slice, not a map: a
// map literal is built by the package's init at every program start, a
// slice of constants is laid out by the linker (issue 10).
var typeAliases = []struct {
	name string
	t    Type
}{{"float", Float32}, {"double", Float64}, {"u16", Uint16}, {"i16", Int16}, {"u32", Uint32}, {"i32", Int32},
	{"u64", Uint64}, {"i64", Int64}, {"f32", Float32}, {"f64", Float64}, {"ascii", String}}

// Types returns every Type in declaration order.
func Types() []Type {
	ts := make([]Type, len(typeNames))
	for i := range ts {
		ts[i] = Type(i)
	}
	return ts
}

// String returns the type's name as ParseType accepts it, e.g. "float32".
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// ParseType parses a type name ("uint16", "float32", ... in any letter case)
// or one of the aliases float, double, u16, i16, u32, i32, u64, i64, f32,
// f64 and ascii.
func ParseType(s string) (Type, error) {
	ls := strings.ToLower(s)
	for i, n := range typeNames {
		if ls == n {
			return Type(i), nil
		}
	}
	for _, a := range typeAliases {
		if ls == a.name {
			return a.t, nil
		}
	}
	return 0, fmt.Errorf("values: unknown type %q (want %s)", s, strings.Join(typeNames[:], ", "))
}

// Registers returns the registers one value occupies: 1 for the 16-bit
// types, Hex and Bits, 2 for the 32-bit, 4 for the 64-bit types. A String
// occupies as many registers as it is given; Registers reports 1, the unit in
// which its length is counted (two characters).
func (t Type) Registers() int {
	switch t {
	case Uint32, Int32, Float32:
		return 2
	case Uint64, Int64, Float64:
		return 4
	}
	return 1
}

// intRanges are the bounds of the integer types (an array for the reason
// typeAliases is a slice).
var intRanges = [...]bounds{Uint16: {0, math.MaxUint16}, Hex: {0, math.MaxUint16}, Bits: {0, math.MaxUint16},
	Int16: {math.MinInt16, math.MaxInt16}, Uint32: {0, math.MaxUint32}, Int32: {math.MinInt32, math.MaxInt32},
	Uint64: {0, math.MaxUint64}, Int64: {math.MinInt64, math.MaxInt64}}

// bounds are an integer type's least and greatest values.
type bounds struct {
	lo int64
	hi uint64
}

// intRange returns t's bounds (zero for the types without any).
func (t Type) intRange() bounds {
	if int(t) < len(intRanges) {
		return intRanges[t]
	}
	return bounds{}
}

func (t Type) rangeText() string {
	if t == Bits {
		return "out of range: " + t.rangeOf()
	}
	return "out of range " + t.rangeOf()
}

// rangeOf is the range of t's values as ValueError.Range gives it. Float64
// needs its own case: it has no integer bounds (it said "0..0").
func (t Type) rangeOf() string {
	switch t {
	case Hex:
		return "0x0000..0xFFFF"
	case Bits:
		return "at most 16 binary digits"
	case Float32:
		return "±" + strconv.FormatFloat(math.MaxFloat32, 'g', 4, 32)
	case Float64:
		return "±" + strconv.FormatFloat(math.MaxFloat64, 'g', 4, 64)
	}
	r := t.intRange()
	return strconv.FormatInt(r.lo, 10) + ".." + strconv.FormatUint(r.hi, 10)
}

// outOfRange is the *ValueError for value s, a number outside t's range.
func outOfRange(s string, t Type) *ValueError {
	return &ValueError{Value: s, Type: t, Reason: t.rangeText(), Range: t.rangeOf()}
}

// Encode converts Go values to registers in order o, checking each value
// against t's range: the integer types accept any Go integer that fits, the
// float types any Go integer or float (a float64 beyond float32's range does
// not fit Float32), String one or more strings (concatenated). A value that
// does not fit is a *ValueError and nothing is returned.
func Encode(t Type, o WordOrder, vals ...any) ([]uint16, error) {
	if t == String {
		var sb strings.Builder
		for _, v := range vals {
			s, ok := v.(string)
			if !ok {
				return nil, &ValueError{Value: fmt.Sprint(v), Type: t, Reason: fmt.Sprintf("a %T is not a string", v)}
			}
			sb.WriteString(s)
		}
		return EncodeString(sb.String(), o.ByteSwap()), nil
	}
	regs := make([]uint16, len(vals)*t.Registers())
	for i, v := range vals {
		cv, err := convert(t, v)
		if err != nil {
			return nil, err
		}
		put(t, o, regs[i*t.Registers():], cv)
	}
	return regs, nil
}

// EncodeText parses each text as a value of type t (ParseValue) and encodes
// them all; for String the texts are concatenated.
func EncodeText(t Type, o WordOrder, texts ...string) ([]uint16, error) {
	vals := make([]any, len(texts))
	for i, s := range texts {
		v, err := ParseValue(t, s)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	return Encode(t, o, vals...)
}

// ParseValue parses text as a value of type t and returns it as t's Go type
// (uint16 for Uint16, Hex and Bits; int16 for Int16; ...; string for
// String). Integers are decimal, or hex, binary or octal with a 0x, 0b or 0o
// prefix (a leading 0 alone stays decimal: "010" is ten); Hex takes hex
// digits with or without 0x; Bits takes up to 16 binary digits with an
// optional 0b prefix and _ separators; floats take anything
// strconv.ParseFloat does, including NaN and Inf.
func ParseValue(t Type, s string) (any, error) {
	switch t {
	case String:
		return s, nil
	case Hex:
		return parseDigits(t, s, "0x", 16)
	case Bits:
		return parseDigits(t, s, "0b", 2)
	case Float32, Float64:
		bits := 64
		if t == Float32 {
			bits = 32
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(s), bits)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return nil, outOfRange(s, t)
			}
			return nil, &ValueError{Value: s, Type: t, Reason: "not a number"}
		}
		if t == Float32 {
			return float32(f), nil
		}
		return f, nil
	}
	v, err := parseInt(s)
	if errors.Is(err, errBeyond64) {
		return nil, outOfRange(s, t) // beyond 64 bits is beyond every type
	}
	if err != nil {
		return nil, &ValueError{Value: s, Type: t, Reason: err.Error()}
	}
	cv, err := convert(t, v)
	var ve *ValueError
	if errors.As(err, &ve) {
		ve.Value = s // name the value as the user wrote it
	}
	return cv, err
}

// parseDigits parses Hex or Bits text: optional prefix, _ separators.
func parseDigits(t Type, s, prefix string, base int) (any, error) {
	d := strings.ReplaceAll(strings.TrimSpace(s), "_", "")
	if len(d) >= 2 && strings.EqualFold(d[:2], prefix) {
		d = d[2:]
	}
	u, err := strconv.ParseUint(d, base, 16)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return nil, outOfRange(s, t)
		}
		return nil, &ValueError{Value: s, Type: t, Reason: "not " + map[int]string{2: "binary", 16: "hex"}[base] + " digits"}
	}
	return uint16(u), nil
}

// parseInt parses a decimal or prefixed integer into an int64 or, when too
// big for one, a uint64.
func parseInt(s string) (any, error) {
	s = strings.TrimSpace(s)
	digits := strings.TrimLeft(s, "+-")
	base := 10
	if len(digits) > 1 && digits[0] == '0' && strings.ContainsRune("xXbBoO", rune(digits[1])) {
		base = 0
	}
	i, err := strconv.ParseInt(s, base, 64)
	if err == nil {
		return i, nil
	}
	if errors.Is(err, strconv.ErrRange) {
		if u, uerr := strconv.ParseUint(strings.TrimPrefix(s, "+"), base, 64); uerr == nil {
			return u, nil
		}
		return nil, errBeyond64
	}
	return nil, errors.New("not an integer")
}

// errBeyond64 is an integer that fits neither int64 nor uint64.
var errBeyond64 = errors.New("out of range")

// convert checks v against t and returns it as t's Go type.
func convert(t Type, v any) (any, error) {
	fail := func(reason string) error { return &ValueError{Value: fmt.Sprint(v), Type: t, Reason: reason} }
	if t == Float32 || t == Float64 {
		return convertFloat(t, v, fail)
	}
	i, u, signed, ok := integer(v)
	if !ok {
		return nil, fail(fmt.Sprintf("a %T is not an integer", v))
	}
	r := t.intRange()
	if signed && (i < r.lo || (i > 0 && uint64(i) > r.hi)) || !signed && u > r.hi {
		return nil, outOfRange(fmt.Sprint(v), t)
	}
	if signed {
		u = uint64(i)
	} else {
		i = int64(u) // u <= hi, so this only wraps for Uint64, which uses u
	}
	switch t {
	case Int16:
		return int16(i), nil
	case Uint32:
		return uint32(u), nil
	case Int32:
		return int32(i), nil
	case Uint64:
		return u, nil
	case Int64:
		return i, nil
	}
	return uint16(u), nil
}

func convertFloat(t Type, v any, fail func(string) error) (any, error) {
	var f float64
	switch x := v.(type) {
	case float32:
		if t == Float32 {
			return x, nil // keep NaN payloads bit for bit
		}
		f = float64(x)
	case float64:
		f = x
	default:
		i, u, signed, ok := integer(v)
		if !ok {
			return nil, fail(fmt.Sprintf("a %T is not a number", v))
		}
		if f = float64(u); signed {
			f = float64(i)
		}
	}
	if t == Float64 {
		return f, nil
	}
	if !math.IsInf(f, 0) && !math.IsNaN(f) && math.Abs(f) > math.MaxFloat32 {
		return nil, outOfRange(fmt.Sprint(v), t)
	}
	return float32(f), nil
}

// integer reports a Go integer (any int or uint kind, named types too) as
// int64 for the signed kinds or uint64 for the unsigned ones.
func integer(v any) (i int64, u uint64, signed, ok bool) {
	rv := reflect.ValueOf(v)
	switch {
	case rv.CanInt():
		return rv.Int(), 0, true, true
	case rv.CanUint() && rv.Kind() != reflect.Uintptr:
		return 0, rv.Uint(), false, true
	}
	return 0, 0, false, false
}

// put stores v, already converted to t's Go type, at dst[0:t.Registers()].
func put(t Type, o WordOrder, dst []uint16, v any) {
	switch x := v.(type) {
	case uint16:
		if t == Hex || t == Bits {
			dst[0] = x
			return
		}
		o.PutUint16(dst, x)
	case int16:
		o.PutUint16(dst, uint16(x))
	case uint32:
		o.PutUint32(dst, x)
	case int32:
		o.PutUint32(dst, uint32(x))
	case uint64:
		o.PutUint64(dst, x)
	case int64:
		o.PutUint64(dst, uint64(x))
	case float32:
		o.PutFloat32(dst, x)
	case float64:
		o.PutFloat64(dst, x)
	}
}

// Decode reads registers as values of type t in order o, returned as t's Go
// type (see ParseValue). len(regs) must be a multiple of t.Registers(); a
// String decodes all of regs into one string.
func Decode(t Type, o WordOrder, regs []uint16) ([]any, error) {
	if t == String {
		return []any{DecodeString(regs, o.ByteSwap())}, nil
	}
	n := t.Registers()
	if len(regs)%n != 0 {
		return nil, fmt.Errorf("values: %d registers do not hold whole %s values (%d registers each)", len(regs), t, n)
	}
	vals := make([]any, 0, len(regs)/n)
	for i := 0; i < len(regs); i += n {
		vals = append(vals, decodeOne(t, o, regs[i:i+n]))
	}
	return vals, nil
}

func decodeOne(t Type, o WordOrder, r []uint16) any {
	switch t {
	case Int16:
		return int16(o.Uint16(r))
	case Uint32:
		return o.Uint32(r)
	case Int32:
		return int32(o.Uint32(r))
	case Uint64:
		return o.Uint64(r)
	case Int64:
		return int64(o.Uint64(r))
	case Float32:
		return o.Float32(r)
	case Float64:
		return o.Float64(r)
	case Hex, Bits:
		return r[0]
	}
	return o.Uint16(r)
}

// FormatValue formats a value of type t (as Decode returns it) so that
// ParseValue gives it back: integers in decimal, Hex as 0x00FF, Bits as 16
// binary digits, floats in the shortest form that round-trips.
func FormatValue(t Type, v any) string {
	switch x := v.(type) {
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case uint16:
		switch t {
		case Hex:
			return fmt.Sprintf("0x%04X", x)
		case Bits:
			return fmt.Sprintf("%016b", x)
		}
	}
	return fmt.Sprint(v)
}
