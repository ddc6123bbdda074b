package modbus_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/plcctl/plcctl/internal/golden"
	"github.com/plcctl/plcctl/modbus"
)

// hx decodes spaced hex written in a test table; a typo is a test bug.
func hx(s string) []byte {
	b, err := golden.Hex(s)
	if err != nil {
		panic("bad hex in test table: " + s)
	}
	return b
}

// cat joins byte slices into a new one.
func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// u16s appends big-endian 16-bit values.
func u16s(dst []byte, vs ...int) []byte {
	for _, v := range vs {
		dst = append(dst, byte(v>>8), byte(v))
	}
	return dst
}

// zeros returns n zero bytes.
func zeros(n int) []byte { return make([]byte, n) }

// wantFrameError checks that err is a *FrameError at offset wrapping
// sentinel, and that its message names the offset, so a reader of the log
// can find the byte.
func wantFrameError(t *testing.T, call string, err error, where string, offset int, sentinel error) *modbus.FrameError {
	t.Helper()
	var fe *modbus.FrameError
	if !errors.As(err, &fe) {
		t.Fatalf("%s = %v (%T), want *FrameError", call, err, err)
	}
	if fe.Where != where || fe.Offset != offset || !errors.Is(err, sentinel) {
		t.Fatalf("%s = %v (where %q offset %d err %v), want where %q offset %d wrapping %v",
			call, err, fe.Where, fe.Offset, fe.Err, where, offset, sentinel)
	}
	if msg := err.Error(); !strings.Contains(msg, where+" byte "+strconv.Itoa(offset)+" ") || fe.Field == "" || fe.Reason == "" {
		t.Fatalf("%s error %q does not name the field and %s byte %d", call, msg, where, offset)
	}
	return fe
}
