package values

// Word orders: how a value's bytes lie in registers, and strings two
// characters per register.

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// WordOrder says how a value wider than one register is laid out across
// registers, and whether the two bytes inside each register are swapped
// (MODBUS-NOTES §7.1). Name the bytes of the big-endian value A B C D (32 bit)
// or A B C D E F G H (64 bit), A most significant; the name lists the bytes in
// the order they travel on the wire (register n high byte first):
//
//	order  32 bit      64 bit            int32 123456789  float32 123.456
//	ABCD   AB CD       AB CD EF GH       075B CD15        42F6 E979
//	CDAB   CD AB       GH EF CD AB       CD15 075B        E979 42F6
//	BADC   BA DC       BA DC FE HG       5B07 15CD        F642 79E9
//	DCBA   DC BA       HG FE DC BA       15CD 5B07        79E9 F642
//
// So the orders are two independent switches: CDAB and DCBA reverse the order
// of the registers ("word swap", first register = least significant word), and
// BADC and DCBA swap the two bytes inside every register ("byte swap"). For a
// 16-bit value only the byte swap matters (ABCD = CDAB = AB, BADC = DCBA =
// BA); for a string only the byte swap applies (characters never move between
// registers). The zero value is ABCD, plain big-endian as the spec sends one
// register [AP §4.2].
type WordOrder uint8

// Word orders, named as Modbus Poll, pymodbus and most vendor manuals do.
const (
	ABCD WordOrder = iota // big-endian, high word first
	CDAB                  // word-swapped, low word first (mbpoll and modpoll default)
	BADC                  // byte-swapped within each register
	DCBA                  // fully little-endian
)

var wordOrderNames = [...]string{ABCD: "ABCD", CDAB: "CDAB", BADC: "BADC", DCBA: "DCBA"}

// String returns the order's name, e.g. "CDAB".
func (o WordOrder) String() string {
	if int(o) < len(wordOrderNames) {
		return wordOrderNames[o]
	}
	return "WordOrder(" + strconv.Itoa(int(o)) + ")"
}

// ParseWordOrder parses "ABCD", "CDAB", "BADC" or "DCBA" in any letter case.
func ParseWordOrder(s string) (WordOrder, error) {
	for i, n := range wordOrderNames {
		if strings.EqualFold(s, n) {
			return WordOrder(i), nil
		}
	}
	return 0, fmt.Errorf("values: unknown word order %q (want ABCD, CDAB, BADC or DCBA)", s)
}

// WordSwap reports whether the order reverses the register order (CDAB, DCBA).
func (o WordOrder) WordSwap() bool { return o == CDAB || o == DCBA }

// ByteSwap reports whether the order swaps the bytes inside each register
// (BADC, DCBA).
func (o WordOrder) ByteSwap() bool { return o == BADC || o == DCBA }

// putBytes stores the big-endian value bytes b (2 per register) into
// dst[:len(b)/2] in order o.
func (o WordOrder) putBytes(dst []uint16, b []byte) {
	n := len(b) / 2
	_ = dst[n-1]
	for i := 0; i < n; i++ {
		r := uint16(b[2*i])<<8 | uint16(b[2*i+1])
		if o.ByteSwap() {
			r = r<<8 | r>>8
		}
		if o.WordSwap() {
			dst[n-1-i] = r
		} else {
			dst[i] = r
		}
	}
}

// bytes returns the big-endian value bytes held by src in order o.
func (o WordOrder) bytes(b []byte, src []uint16) []byte {
	n := len(b) / 2
	_ = src[n-1]
	for i := 0; i < n; i++ {
		r := src[i]
		if o.WordSwap() {
			r = src[n-1-i]
		}
		if o.ByteSwap() {
			r = r<<8 | r>>8
		}
		b[2*i], b[2*i+1] = byte(r>>8), byte(r)
	}
	return b
}

// PutUint16 stores v in dst[0], bytes swapped for BADC and DCBA.
func (o WordOrder) PutUint16(dst []uint16, v uint16) {
	o.putBytes(dst, []byte{byte(v >> 8), byte(v)})
}

// Uint16 returns the value of src[0], bytes swapped for BADC and DCBA.
func (o WordOrder) Uint16(src []uint16) uint16 {
	var b [2]byte
	o.bytes(b[:], src)
	return uint16(b[0])<<8 | uint16(b[1])
}

// PutUint32 stores v in dst[0:2]. It panics if dst is shorter, as
// encoding/binary does.
func (o WordOrder) PutUint32(dst []uint16, v uint32) {
	o.putBytes(dst, []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// Uint32 returns the value held by src[0:2].
func (o WordOrder) Uint32(src []uint16) uint32 {
	var b [4]byte
	o.bytes(b[:], src)
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// PutUint64 stores v in dst[0:4].
func (o WordOrder) PutUint64(dst []uint16, v uint64) {
	var b [8]byte
	for i := range b {
		b[i] = byte(v >> (56 - 8*i))
	}
	o.putBytes(dst, b[:])
}

// Uint64 returns the value held by src[0:4].
func (o WordOrder) Uint64(src []uint16) uint64 {
	var b [8]byte
	o.bytes(b[:], src)
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// PutFloat32 stores the IEEE 754 bits of v in dst[0:2].
func (o WordOrder) PutFloat32(dst []uint16, v float32) { o.PutUint32(dst, math.Float32bits(v)) }

// Float32 returns the IEEE 754 value held by src[0:2].
func (o WordOrder) Float32(src []uint16) float32 { return math.Float32frombits(o.Uint32(src)) }

// PutFloat64 stores the IEEE 754 bits of v in dst[0:4].
func (o WordOrder) PutFloat64(dst []uint16, v float64) { o.PutUint64(dst, math.Float64bits(v)) }

// Float64 returns the IEEE 754 value held by src[0:4].
func (o WordOrder) Float64(src []uint16) float64 { return math.Float64frombits(o.Uint64(src)) }

// EncodeString packs s two bytes per register, first byte in the high byte
// (MODBUS-NOTES §7.2): "PLC-01" is 504C 432D 3031, and an odd length is padded
// with 0x00 ("ABC" is 4142 4300). With byteSwap each register's bytes are
// swapped, as some devices store strings.
func EncodeString(s string, byteSwap bool) []uint16 {
	b := []byte(s)
	if len(b)%2 != 0 {
		b = append(b, 0)
	}
	regs := make([]uint16, len(b)/2)
	o := ABCD
	if byteSwap {
		o = BADC
	}
	for i := range regs {
		o.putBytes(regs[i:i+1], b[2*i:2*i+2])
	}
	return regs
}

// DecodeString unpacks registers written by EncodeString and strips trailing
// NUL bytes (a device pads a fixed-size field with them).
func DecodeString(regs []uint16, byteSwap bool) string {
	b := make([]byte, 2*len(regs))
	o := ABCD
	if byteSwap {
		o = BADC
	}
	for i := range regs {
		o.bytes(b[2*i:2*i+2], regs[i:i+1])
	}
	return strings.TrimRight(string(b), "\x00")
}
