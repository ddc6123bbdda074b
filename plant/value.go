package plant

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/plcctl/plcctl/values"
)

// ParseValue parses text as the tag's engineering value, checking its type
// and range (a scaled tag's value must give a raw value that fits): "true",
// "false", "on", "off", "1" or "0" for bool tags; the text itself for a
// string tag (at most Chars bytes); a float64 for a scaled tag; otherwise
// the raw type's Go value as values.ParseValue returns it. Nothing is
// rounded silently: a scaled integer tag refuses a value between two raw
// steps by more than a thousandth of a step.
func (t *Tag) ParseValue(s string) (any, error) {
	switch {
	case t.Bool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "1", "true", "on":
			return true, nil
		case "0", "false", "off":
			return false, nil
		}
		return nil, t.valueError(s, "want true, false, on, off, 1 or 0")
	case t.Type == values.String:
		if n := utf8.RuneCountInString(s); len(s) > t.Chars && n != len(s) {
			// chars: counts bytes (two to a register): "Zähler" is 6
			// characters in 7 bytes, and was said to have 7 characters.
			return nil, t.valueError(s, fmt.Sprintf("%d bytes in UTF-8 (%d characters), more than the tag's %d: chars counts bytes, two to a register", len(s), n, t.Chars))
		} else if len(s) > t.Chars {
			return nil, t.valueError(s, fmt.Sprintf("%d characters, more than the tag's %d", len(s), t.Chars))
		}
		return s, nil
	case t.Scaled:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, t.valueError(s, "not a finite number")
		}
		if lo, hi := t.bounds(); f < lo || f > hi {
			return nil, t.valueError(s, fmt.Sprintf("out of range %s..%s%s (raw %s)", t.Format(t.engineering((lo-t.Offset)/t.Scale)),
				t.Format(t.engineering((hi-t.Offset)/t.Scale)), t.unitSuffix(), t.Type.String()))
		}
		raw := (f - t.Offset) / t.Scale
		if t.isInt() && math.Abs(raw-math.Round(raw)) > 1e-3 {
			return nil, t.valueError(s, fmt.Sprintf("not a whole step of %g%s (raw %g)", t.Scale, t.unitSuffix(), raw))
		}
		if _, err := t.EncodeValue(f); err != nil {
			return nil, err
		}
		return f, nil
	}
	v, err := values.ParseValue(t.Type, s)
	if err != nil {
		return nil, &TagError{Tag: t.Name, Err: err}
	}
	return v, nil
}

// TagError is a value that does not fit a tag.
type TagError struct {
	Tag string
	Err error
}

func (e *TagError) Error() string { return "plant: tag " + e.Tag + ": " + e.Err.Error() }

// Unwrap returns the cause (a *values.ValueError when the raw value does
// not fit).
func (e *TagError) Unwrap() error { return e.Err }

func (t *Tag) valueError(s, reason string) error {
	return &TagError{Tag: t.Name, Err: &values.ValueError{Value: s, Type: t.Type, Reason: reason}}
}

// unitSuffix is " bar" for a tag in bar, "" without a unit.
func (t *Tag) unitSuffix() string {
	if t.EngUnit == "" {
		return ""
	}
	return " " + t.EngUnit
}

func (t *Tag) isInt() bool {
	return t.Type != values.Float32 && t.Type != values.Float64
}

// EncodeValue returns the registers that hold engineering value v in a
// register tag that is not Bool (for those see Mask). v may be any Go
// number for number tags (a float is rounded to the nearest raw integer, as
// a living value needs), a string for string tags (padded with NUL bytes to
// Chars). A value whose raw value does not fit is an error naming the tag.
func (t *Tag) EncodeValue(v any) ([]uint16, error) {
	if t.Bool {
		return nil, &TagError{Tag: t.Name, Err: errors.New("a bool tag is written as a bit (see Mask)")}
	}
	if t.Type == values.String {
		s, ok := v.(string)
		if !ok || len(s) > t.Chars {
			return nil, t.valueError(fmt.Sprint(v), fmt.Sprintf("want a string of at most %d characters", t.Chars))
		}
		regs := values.EncodeString(s, t.Order.ByteSwap())
		return append(regs, make([]uint16, t.Registers()-len(regs))...), nil
	}
	raw := v
	if f, ok := toFloat(v); ok && (t.Scaled || isFloat(v)) {
		f = (f - t.Offset) / t.Scale
		if raw = f; t.isInt() {
			r, err := t.roundRaw(f)
			if err != nil {
				return nil, err
			}
			raw = r
		}
	}
	regs, err := values.Encode(t.Type, t.Order, raw)
	if err != nil {
		return nil, &TagError{Tag: t.Name, Err: err}
	}
	return regs, nil
}

// roundRaw rounds a raw value for an integer type, as int64 or uint64.
func (t *Tag) roundRaw(f float64) (any, error) {
	r := math.Round(f)
	switch {
	case math.IsNaN(r) || math.IsInf(r, 0):
		return nil, t.valueError(fmt.Sprint(f), "not a finite number")
	case r >= -(1<<63) && r < 1<<63:
		return int64(r), nil
	case r >= 0 && r < 1<<64:
		return uint64(r), nil
	}
	lo, hi := t.bounds()
	return nil, t.valueError(strconv.FormatFloat(f, 'g', -1, 64), fmt.Sprintf("out of range %g..%g", lo, hi))
}

func isFloat(v any) bool {
	switch v.(type) {
	case float32, float64:
		return true
	}
	return false
}

// toFloat converts any Go number to float64.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	}
	return 0, false
}

// DecodeValue returns the engineering value held by regs (exactly
// Registers() registers): a bool for a Bool tag in a register (its Bit) or
// in a bit table (regs[0] != 0), a
// float64 for a scaled tag, at most Chars bytes for a string tag, otherwise
// the raw type's Go value.
func (t *Tag) DecodeValue(regs []uint16) (any, error) {
	if len(regs) != t.Registers() {
		return nil, fmt.Errorf("plant: tag %s: %d registers given, the tag has %d", t.Name, len(regs), t.Registers())
	}
	switch {
	case t.Table.IsBits():
		return regs[0] != 0, nil // a coil or discrete input given as 0 or 1
	case t.Bool:
		return regs[0]>>t.Bit&1 == 1, nil
	}
	vs, err := values.Decode(t.Type, t.Order, regs)
	if err != nil {
		return nil, fmt.Errorf("plant: tag %s: %w", t.Name, err)
	}
	if s, ok := vs[0].(string); ok && len(s) > t.Chars {
		// An odd Chars leaves a byte of the last register outside the
		// field; a device may keep anything there, and a value longer
		// than Chars is one the tag's own ParseValue refuses.
		return strings.TrimRight(s[:t.Chars], "\x00"), nil
	}
	if !t.Scaled {
		return vs[0], nil
	}
	f, _ := toFloat(vs[0])
	return t.engineering(f), nil
}

// engineering scales a raw value. For integer types the result is rounded
// to the decimals of scale and offset (32767 * 0.1 is 3276.7, not
// 3276.7000000000003): the raw steps are exact, so the digits past them are
// only float noise.
func (t *Tag) engineering(raw float64) float64 {
	eng := raw*t.Scale + t.Offset
	if !t.isInt() {
		return eng
	}
	d := max(decimals(t.Scale), decimals(t.Offset))
	r, err := strconv.ParseFloat(strconv.FormatFloat(eng, 'f', d, 64), 64)
	if err != nil {
		return eng
	}
	return r
}

// decimals returns the digits after the point of f's shortest form, at
// most 15.
func decimals(f float64) int {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return min(len(s)-i-1, 15)
	}
	return 0
}

// Format formats an engineering value of the tag for display: bools as
// true/false, scaled values in the shortest form that round-trips, raw
// values as values.FormatValue does. The unit is not added.
func (t *Tag) Format(v any) string {
	switch x := v.(type) {
	case bool:
		return strconv.FormatBool(x)
	case float64:
		if t.Scaled {
			if a := math.Abs(x); a == 0 || a >= 1e-4 && a < 1e15 {
				return strconv.FormatFloat(x, 'f', -1, 64) // 4294867.295, not 4.294867295e+06
			}
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
	}
	return values.FormatValue(t.Type, v)
}

// Mask returns the FC 22 masks [AP §6.16] that set the tag's Bit to v and
// leave the other bits of the register alone: result = (current AND and)
// OR (or AND NOT and).
func (t *Tag) Mask(v bool) (and, or uint16) {
	bit := uint16(1) << t.Bit
	if v {
		return ^bit, bit
	}
	return ^bit, 0
}

// bounds returns the engineering range of a number tag.
func (t *Tag) bounds() (lo, hi float64) {
	switch t.Type {
	case values.Int16:
		lo, hi = math.MinInt16, math.MaxInt16
	case values.Uint32:
		lo, hi = 0, math.MaxUint32
	case values.Int32:
		lo, hi = math.MinInt32, math.MaxInt32
	case values.Uint64:
		lo, hi = 0, math.MaxUint64
	case values.Int64:
		lo, hi = math.MinInt64, math.MaxInt64
	case values.Float32:
		lo, hi = -math.MaxFloat32, math.MaxFloat32
	case values.Float64:
		lo, hi = -math.MaxFloat64, math.MaxFloat64
	default:
		lo, hi = 0, math.MaxUint16
	}
	lo, hi = lo*t.Scale+t.Offset, hi*t.Scale+t.Offset
	if lo > hi {
		lo, hi = hi, lo
	}
	return lo, hi
}
