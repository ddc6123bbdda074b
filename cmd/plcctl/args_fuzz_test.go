package main

import (
	"encoding/hex"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/plc"
)

// checkArgError: a bad argument is a usage error (exit 2) of one line with
// only printable characters, so a newline or an escape sequence in what
// the user typed reaches the terminal quoted, never raw.
func checkArgError(t *testing.T, call string, err error) {
	t.Helper()
	var ue *usageError
	if !errors.As(err, &ue) && exitCode(err) != 2 {
		t.Fatalf("%s = %v (%T), want a usage error", call, err, err)
	}
	msg := err.Error()
	if msg == "" || !utf8.ValidString(msg) || strings.ContainsFunc(msg, func(r rune) bool { return !strconv.IsPrint(r) }) {
		t.Fatalf("%s = %q: want one line of printable text", call, msg)
	}
}

var fuzzTables = []table{coils, discreteInputs, inputRegisters, holdingRegisters}

// FuzzAddressArgs: ADDR, A-B ranges, --units lists, FILE RECORD and raw's
// hex data, each from any text, parse or give one usage error; what they
// accept prints back (as plcctl shows it) to text that parses the same.
func FuzzAddressArgs(f *testing.F) {
	for _, s := range []string{"0", "65535", "65536", "0x10", "0X1f", "ref:40001", "REF:465536", "ref:30010",
		"ref:00000", "40001", "10-20", "0x10-0x20", " 5 - 3", "1-247", "1,2,10-20", "300", "5-3", "0-255",
		"00 6B 00 03", "0x01:0x02", "1_0", "+1", "-1", "", "\x1b[31m", "1\n2", "\xff"} {
		f.Add(s, "9999", uint8(0))
	}
	f.Add("4", "0", uint8(7))
	f.Fuzz(func(t *testing.T, s, s2 string, sel uint8) {
		a := &app{log: zerolog.Nop()}
		a.opts.oneBased = sel&4 != 0
		tbl := fuzzTables[sel&3]
		if n, err := a.parseAddress(s, tbl); err != nil {
			checkArgError(t, "parseAddress("+strconv.Quote(s)+")", err)
		} else if back, err := a.parseAddress(strconv.Itoa(a.display(int(n))), tbl); err != nil || back != n {
			t.Fatalf("parseAddress(%q) = %d, shown as %d, which parses to %d, %v", s, n, a.display(int(n)), back, err)
		}
		if r, err := a.parseRange(s, tbl); err != nil {
			if err.Error() != "ends before it starts" {
				checkArgError(t, "parseRange("+strconv.Quote(s)+")", err)
			}
		} else if r.End < r.Start {
			t.Fatalf("parseRange(%q) = %+v", s, r)
		}
		if ids, err := parseUnitList(s); err != nil {
			checkArgError(t, "parseUnitList("+strconv.Quote(s)+")", err)
		} else {
			checkUnitList(t, s, ids)
		}
		if b, err := parseHexBytes([]string{s, s2}); err != nil {
			checkArgError(t, "parseHexBytes("+strconv.Quote(s)+", "+strconv.Quote(s2)+")", err)
		} else if back, err := parseHexBytes([]string{hex.EncodeToString(b)}); err != nil || !slices.Equal(back, b) {
			t.Fatalf("parseHexBytes(%q %q) = % x, which prints back as %x, parsed %x, %v", s, s2, b, b, back, err)
		}
		if file, rec, err := parseFileRef(s, s2); err != nil {
			checkArgError(t, "parseFileRef("+strconv.Quote(s)+", "+strconv.Quote(s2)+")", err)
		} else if file == 0 {
			t.Fatalf("parseFileRef(%q, %q) = file 0", s, s2)
		} else if f2, r2, err := parseFileRef(strconv.Itoa(int(file)), strconv.Itoa(int(rec))); err != nil || f2 != file || r2 != rec {
			t.Fatalf("parseFileRef(%q, %q) = %d, %d, which parse back as %d, %d, %v", s, s2, file, rec, f2, r2, err)
		}
		if n, err := parseCount(s, 125); err != nil {
			checkArgError(t, "parseCount("+strconv.Quote(s)+")", err)
		} else if n < 1 || n > 125 {
			t.Fatalf("parseCount(%q, 125) = %d", s, n)
		}
	})
}

// checkUnitList: ids are sorted and unique, and written back as a list they
// parse to themselves.
func checkUnitList(t *testing.T, s string, ids []uint8) {
	t.Helper()
	if len(ids) == 0 || len(ids) > 256 || !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Fatalf("parseUnitList(%q) = %v: want sorted unique ids", s, ids)
	}
	parts := make([]string, len(ids))
	for i, u := range ids {
		parts[i] = strconv.Itoa(int(u))
	}
	if back, err := parseUnitList(strings.Join(parts, ",")); err != nil || !slices.Equal(back, ids) {
		t.Fatalf("parseUnitList(%q) = %v, which parses back as %v, %v", s, ids, back, err)
	}
}

// FuzzValueArgs: a write command's values, coil values and --type and
// --word-order, from any text, give registers or one usage error; the
// values reported are the registers decoded, and a reported value formats
// to text that encodes to the same registers.
func FuzzValueArgs(f *testing.F) {
	for _, s := range []string{"0", "65535", "65536", "-1", "0x7fff", "0b1010", "0o17", "010", "1e3", "NaN",
		"-Inf", "3.4e39", "1_000", "0xFF_FF", "on", "OFF", "10110", "ABC", "", " 5", "1\n2", "\x1b[2J", "\xff\xfe"} {
		f.Add(s, "ABCD", uint8(0))
	}
	f.Add("123456789", "cdab", uint8(4))
	f.Add("-1.5", "float32", uint8(6))
	f.Fuzz(func(t *testing.T, s, name string, sel uint8) {
		types := plc.Types()
		typ := types[int(sel)%len(types)]
		order := plc.WordOrder(int(sel/16) % 4)
		tf := &typeFlags{typ: name, order: name}
		if _, _, err := tf.parse(); err != nil {
			checkArgError(t, "--type/--word-order "+strconv.Quote(name), err)
		}
		regs, vals, err := encodeValues(typ, order, valueArg{name: "VALUE", typed: true}, []string{s})
		if err != nil {
			checkArgError(t, "encodeValues("+typ.String()+", "+strconv.Quote(s)+")", err)
		} else {
			checkEncoded(t, typ, order, s, regs, vals)
		}
		if bits, err := parseBits(s, 0, 1); err != nil {
			checkArgError(t, "parseBits("+strconv.Quote(s)+")", err)
		} else if len(bits) == 0 || len(bits) > len(s) {
			t.Fatalf("parseBits(%q) = %v", s, bits)
		}
	})
}

func checkEncoded(t *testing.T, typ plc.Type, order plc.WordOrder, s string, regs []uint16, vals []any) {
	t.Helper()
	if typ == plc.String {
		if want := plc.EncodeString(s, order.ByteSwap()); !slices.Equal(regs, want) || vals[0] != s {
			t.Fatalf("encodeValues(string, %q) = %04X %q", s, regs, vals)
		}
		return
	}
	if len(vals) != 1 || len(regs) != typ.Registers() {
		t.Fatalf("encodeValues(%v, %q) = %04X, %v: want one value in %d registers", typ, s, regs, vals, typ.Registers())
	}
	text := plc.FormatValue(typ, vals[0])
	back, _, err := encodeValues(typ, order, valueArg{name: "VALUE"}, []string{text})
	if err != nil || !reflect.DeepEqual(back, regs) {
		t.Fatalf("encodeValues(%v, %q) = %04X, reported as %q, which encodes to %04X, %v", typ, s, regs, text, back, err)
	}
}
