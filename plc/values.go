package plc

import "github.com/plcctl/plcctl/values"

// The typed-value codec lives in package values, below both this client and
// the simulator (it has no I/O, so plcsim and the plant file use it without
// importing plc). These aliases keep plc's API: plc.Float32, plc.CDAB and
// plc.Decode are the same types and functions as values.Float32, values.CDAB
// and values.Decode.

// WordOrder is values.WordOrder: how a value wider than one register is laid
// out across registers and whether the bytes inside each are swapped.
type WordOrder = values.WordOrder

// Word orders (see values.WordOrder).
const (
	ABCD = values.ABCD // big-endian, high word first
	CDAB = values.CDAB // word-swapped, low word first (mbpoll and modpoll default)
	BADC = values.BADC // byte-swapped within each register
	DCBA = values.DCBA // fully little-endian
)

// Type is values.Type: how registers are read as values (the CLI's --type).
type Type = values.Type

// Types (see values.Type).
const (
	Uint16  = values.Uint16
	Int16   = values.Int16
	Uint32  = values.Uint32
	Int32   = values.Int32
	Uint64  = values.Uint64
	Int64   = values.Int64
	Float32 = values.Float32
	Float64 = values.Float64
	Hex     = values.Hex
	Bits    = values.Bits
	String  = values.String
)

// ValueError is values.ValueError: a value that does not fit its type.
type ValueError = values.ValueError

// ErrValue is wrapped by every *ValueError (values.ErrValue).
var ErrValue = values.ErrValue

// ParseWordOrder is values.ParseWordOrder.
func ParseWordOrder(s string) (WordOrder, error) { return values.ParseWordOrder(s) }

// Types is values.Types: every Type in declaration order.
func Types() []Type { return values.Types() }

// ParseType is values.ParseType.
func ParseType(s string) (Type, error) { return values.ParseType(s) }

// EncodeString is values.EncodeString.
func EncodeString(s string, byteSwap bool) []uint16 { return values.EncodeString(s, byteSwap) }

// DecodeString is values.DecodeString.
func DecodeString(regs []uint16, byteSwap bool) string { return values.DecodeString(regs, byteSwap) }

// Encode is values.Encode: Go values to registers, range-checked.
func Encode(t Type, o WordOrder, vals ...any) ([]uint16, error) { return values.Encode(t, o, vals...) }

// EncodeText is values.EncodeText: texts parsed as t and encoded.
func EncodeText(t Type, o WordOrder, texts ...string) ([]uint16, error) {
	return values.EncodeText(t, o, texts...)
}

// ParseValue is values.ParseValue.
func ParseValue(t Type, s string) (any, error) { return values.ParseValue(t, s) }

// Decode is values.Decode: registers to values of t's Go type.
func Decode(t Type, o WordOrder, regs []uint16) ([]any, error) { return values.Decode(t, o, regs) }

// FormatValue is values.FormatValue.
func FormatValue(t Type, v any) string { return values.FormatValue(t, v) }
