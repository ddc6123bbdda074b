package main

import (
	"strconv"
	"strings"
)

// table is one of the four Modbus data tables, numbered by the leading digit
// of a Modicon reference (MODBUS-NOTES §7.3).
type table int

const (
	coils            table = 0
	discreteInputs   table = 1
	inputRegisters   table = 3
	holdingRegisters table = 4
)

// tableNames name the tables by their reference digit (an array, not a
// map: a map literal is built at every start; issue 10).
var tableNames = [...]string{coils: "coil", discreteInputs: "discrete input",
	inputRegisters: "input register", holdingRegisters: "holding register"}

const refPrefix = "ref:"

const addressHelp = `Addresses: ADDR is the 0-based protocol address (0..65535) as it travels in the
frame, in decimal or with a 0x prefix. With --one-based, ADDR is the 1-based register
number printed in most PLC manuals (1..65536; 1 is protocol address 0; 0 is rejected),
and output shows the same numbering. A Modicon reference names table and number in
one: ref:40001 is holding register 1 (protocol address 0), ref:30010 input register
10, ref:10197 discrete input 197, ref:00001 coil 1; six digits (ref:465536) reach
every address. A reference must match the command's table and is 1-based whatever
--one-based says. A plain 40001 is protocol address 40001, never a reference.
JSON and CSV output always carry the 0-based protocol address.`

// parseAddress parses ADDR for an item in tbl and returns the protocol
// address. See addressHelp.
func (a *app) parseAddress(s string, tbl table) (uint16, error) {
	if ref, ok := cutPrefixFold(s, refPrefix); ok {
		return parseReference(s, ref, tbl)
	}
	max := uint64(65535)
	if a.opts.oneBased {
		max = 65536
	}
	n, err := parseUint(s, max)
	if err != nil {
		if !a.opts.oneBased {
			if v, err2 := parseUint(s, 65536); err2 == nil && v == 65536 {
				return 0, usagef("address %d: protocol addresses are 0..65535 (did you mean --one-based?)", v)
			}
		}
		if a.opts.oneBased {
			return 0, usagef("address %q: want a register number 1..65536 (--one-based)", s)
		}
		return 0, usagef("address %q: %v", s, err)
	}
	if a.opts.oneBased && n == 0 {
		return 0, usagef("address 0: --one-based numbers start at 1")
	}
	if len(s) == 5 && s[0] == byte('0'+tbl) && tbl >= inputRegisters {
		// Most likely a Modicon number from a manual; with --one-based,
		// the manual's reader is all the more likely to have meant one.
		is := "protocol address " + s
		if a.opts.oneBased {
			is = "register number " + s + " (protocol address " + strconv.FormatUint(n-1, 10) + ")"
		}
		a.log.Warn().Str("addr", s).Msgf("%s is %s; for Modicon %s %s write %s%s",
			s, is, tableNames[tbl], strings.TrimLeft(s[1:], "0"), refPrefix, s)
	}
	if a.opts.oneBased {
		return uint16(n - 1), nil
	}
	return uint16(n), nil
}

// parseReference parses the digits of a ref:NNNNN or ref:NNNNNN reference.
func parseReference(s, digits string, tbl table) (uint16, error) {
	if (len(digits) != 5 && len(digits) != 6) || strings.Trim(digits, "0123456789") != "" {
		return 0, usagef("reference %q: want ref: and 5 or 6 digits, e.g. ref:40001", s)
	}
	got := table(digits[0] - '0')
	if int(got) >= len(tableNames) || tableNames[got] == "" {
		return 0, usagef("reference %q: the first digit must be 0 (coil), 1 (discrete input), 3 (input register) or 4 (holding register)", s)
	}
	if got != tbl {
		name := tableNames[got]
		return 0, usagef("reference %q names %s %s; this command addresses %ss (%s%dxxxx)", s, article(name), name, tableNames[tbl], refPrefix, tbl)
	}
	n, _ := strconv.Atoi(digits[1:])
	max := 9999
	if len(digits) == 6 {
		max = 65536
	}
	if n < 1 || n > max {
		return 0, usagef("reference %q: number %d outside 1..%d", s, n, max)
	}
	return uint16(n - 1), nil
}

// article is "a" or "an" for name.
func article(name string) string {
	if strings.ContainsRune("aeiou", rune(name[0])) {
		return "an"
	}
	return "a"
}

// plural is "1 value", "2 values".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// display is how the user numbers protocol address addr.
func (a *app) display(addr int) int {
	if a.opts.oneBased {
		return addr + 1
	}
	return addr
}

// span formats n items from addr as the user numbers them: "100" or "100..109".
func (a *app) span(addr uint16, n int) string {
	first := a.display(int(addr))
	if n <= 1 {
		return strconv.Itoa(first)
	}
	return strconv.Itoa(first) + ".." + strconv.Itoa(first+n-1)
}

// parseUint parses a decimal or 0x-prefixed number up to max.
func parseUint(s string, max uint64) (uint64, error) {
	base := 10
	digits := s
	if p, ok := cutPrefixFold(s, "0x"); ok {
		base, digits = 16, p
	}
	n, err := strconv.ParseUint(digits, base, 64)
	if err != nil || n > max {
		return 0, errNotInRange(max)
	}
	return n, nil
}

type errNotInRange uint64

func (e errNotInRange) Error() string {
	return "want a number 0.." + strconv.FormatUint(uint64(e), 10)
}

// parseCount parses a positive count up to max.
func parseCount(s string, max int) (int, error) {
	n, err := parseUint(s, uint64(max))
	if err != nil || n == 0 {
		return 0, usagef("count %q: want 1..%d", s, max)
	}
	return int(n), nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}
