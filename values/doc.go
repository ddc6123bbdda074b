// Package values is the typed-value codec of plcctl: how Modbus registers
// hold integers, floats, strings and raw words (MODBUS-NOTES §7). It has no
// I/O, so the client (package plc), the simulator and the plant file all use
// it without importing each other.
//
//	regs, err := values.EncodeText(values.Float32, values.CDAB, "123.456") // E979 42F6
//	vals, err := values.Decode(values.Float32, values.CDAB, regs)          // []any{float32(123.456)}
//
// A Type names a value's layout (uint16 ... float64, hex, bits, string) and
// a WordOrder how a wide value is split across registers (ABCD, CDAB, BADC,
// DCBA). The word order is always explicit: nothing depends on the host's
// byte order. Encode and ParseValue check ranges and return a *ValueError
// naming the value and the type; nothing is encoded from a value that does
// not fit.
package values
