package main

// Parsing the values a write command is given, and the one sentence that
// says which one cannot be sent and why.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/plcctl/plcctl/plc"
)

// valueArg names the argument whose values encodeValues parses, for its
// error: name as the usage line has it (VALUE, V, AND); typed, that the
// command has --type, so the error may suggest one.
type valueArg struct {
	name  string
	typed bool
}

// encodeValues parses texts as values of t: registers to send and the
// values to report. A value that does not fit is a usage error naming arg.
func encodeValues(t plc.Type, o plc.WordOrder, arg valueArg, texts []string) ([]uint16, []any, error) {
	if t == plc.String && strings.Join(texts, "") == "" {
		return nil, nil, usagef("empty string: nothing to write (write NULs as --type hex 0)")
	}
	if t != plc.String {
		for i, s := range texts {
			if _, err := plc.ParseValue(t, s); err != nil {
				return nil, nil, valueUsage(arg, i, len(texts), t, err)
			}
		}
	}
	regs, err := plc.EncodeText(t, o, texts...)
	if err != nil {
		return nil, nil, err
	}
	vals, err := plc.Decode(t, o, regs)
	if err != nil {
		return nil, nil, err
	}
	if t == plc.String {
		vals = []any{strings.Join(texts, "")}
	}
	return regs, vals, nil
}

// valueUsage words err, value i of n given for arg, as one sentence:
// "VALUE 65536 is out of range for a register (0..65535)". A negative value
// for an unsigned type names the signed --type that takes it.
func valueUsage(arg valueArg, i, n int, t plc.Type, err error) error {
	var ve *plc.ValueError
	if !errors.As(err, &ve) {
		return err
	}
	what := arg.name + " " + shownValue(ve.Value)
	if n > 1 {
		what += fmt.Sprintf(" (value %d of %d)", i+1, n)
	}
	typ := "--type " + t.String()
	if t == plc.Uint16 {
		typ = "a register"
	}
	if ve.Range == "" {
		// A text that is no number of t: Reason is "not an integer", "not a
		// number", "not hex digits" or "not binary digits".
		if t == plc.Uint16 {
			return usagef("%s is %s", what, ve.Reason)
		}
		return usagef("%s is %s (%s)", what, ve.Reason, typ)
	}
	msg := fmt.Sprintf("%s is out of range for %s (%s)", what, typ, ve.Range)
	if signed, ok := signedOf(t); ok && arg.typed && strings.HasPrefix(strings.TrimSpace(ve.Value), "-") {
		msg += "; give --type " + signed.String() + " to write a signed value"
	}
	return usagef("%s", msg)
}

// signedOf returns the signed type as wide as the unsigned type t.
func signedOf(t plc.Type) (plc.Type, bool) {
	switch t {
	case plc.Uint16:
		return plc.Int16, true
	case plc.Uint32:
		return plc.Int32, true
	case plc.Uint64:
		return plc.Int64, true
	}
	return t, false
}

// shownValue is s as an error shows it: quoted only when empty, padded or
// holding what a terminal would not show as typed (a newline, an escape
// sequence, bytes that are not UTF-8), so the user sees what was given and
// the error stays one line.
func shownValue(s string) string {
	if s == "" || strings.TrimSpace(s) != s || !printable(s) {
		return strconv.Quote(s)
	}
	return s
}

// printable reports whether s is valid UTF-8 with only printable runes.
func printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !strconv.IsPrint(r) })
}

// tagValueUsage words err, VALUE given to set for tag, as one sentence:
// "tag pressure.limit: VALUE 4000 is out of range -3276.8..3276.7 bar (raw
// int16)", "tag pump1.cmd: VALUE maybe: want true, false, on, off, 1 or 0".
func tagValueUsage(tag string, err error) error {
	var ve *plc.ValueError
	if !errors.As(err, &ve) {
		return usagef("tag %s: %v", tag, err)
	}
	verb := " is "
	switch r := ve.Reason; {
	case strings.HasPrefix(r, "want "):
		verb = ": "
	case r != "" && r[0] >= '0' && r[0] <= '9': // "9 characters, more than the tag's 6"
		verb = " has "
	}
	return usagef("tag %s: VALUE %s%s%s", tag, shownValue(ve.Value), verb, ve.Reason)
}

// coilWords are the words a coil value may be.
const coilWords = "on, off, 1, 0, true or false"

// parseBit parses one coil value.
func parseBit(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "on", "1", "true":
		return true, nil
	case "off", "0", "false":
		return false, nil
	}
	return false, usagef("coil value %s is not %s", shownValue(s), coilWords)
}

// parseBits parses value i of n given for write-coils' V...: a coil value or
// a run of 0/1 digits.
func parseBits(s string, i, n int) ([]bool, error) {
	if len(s) > 1 && strings.Trim(s, "01") == "" {
		bits := make([]bool, len(s))
		for i := range s {
			bits[i] = s[i] == '1'
		}
		return bits, nil
	}
	b, err := parseBit(s)
	if err != nil {
		what := "V " + shownValue(s)
		if n > 1 {
			what += fmt.Sprintf(" (value %d of %d)", i+1, n)
		}
		return nil, usagef("%s is not %s, nor a run of 0 and 1 digits such as 10110", what, coilWords)
	}
	return []bool{b}, nil
}
