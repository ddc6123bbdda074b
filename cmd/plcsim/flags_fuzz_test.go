package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzFlagLists: --unit-ids, --allow and --listen, from any text, parse or
// give one printable error that names the flag; what they accept writes
// back to text that parses the same, and a --listen address given back
// is taken as it is.
func FuzzFlagLists(f *testing.F) {
	for _, s := range []string{"1,2,3", "0x10, 255", "256", "1,,2", "", " ", "127.0.0.1/32,::1,10.0.0.0/8",
		"10.1.2.3/8", "::ffff:127.0.0.1", "fe80::1%eth0", "127.0.0.1", "127.0.0.1:5020", "[::1]:0", "[::1",
		"localhost:65536", ":502", "\x1b[2J", "1\n2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkErr := func(flag string, err error) {
			t.Helper()
			msg := err.Error()
			if !strings.HasPrefix(msg, flag) || !printableLine(msg) {
				t.Fatalf("%s %q: error %q: want one printable line naming the flag", flag, s, msg)
			}
		}
		if ids, err := parseUnitIDs(s); err != nil {
			checkErr("--unit-ids", err)
		} else if len(ids) > 0 {
			parts := make([]string, len(ids))
			for i, u := range ids {
				parts[i] = strconv.Itoa(int(u))
			}
			if back, err := parseUnitIDs(strings.Join(parts, ",")); err != nil || !slices.Equal(back, ids) {
				t.Fatalf("--unit-ids %q = %v, which parses back as %v, %v", s, ids, back, err)
			}
		}
		if ps, err := parseAllow(s); err != nil {
			checkErr("--allow", err)
		} else if len(ps) > 0 {
			parts := make([]string, len(ps))
			for i, p := range ps {
				parts[i] = p.String()
			}
			if back, err := parseAllow(strings.Join(parts, ",")); err != nil || !slices.Equal(back, ps) {
				t.Fatalf("--allow %q = %v, which parses back as %v, %v", s, ps, back, err)
			}
			for _, p := range ps {
				if p != p.Masked() || !p.IsValid() {
					t.Fatalf("--allow %q gave %v, not a masked network", s, p)
				}
			}
		}
		if addr, err := listenAddress(s); err != nil {
			checkErr("--listen", err)
		} else if again, err := listenAddress(addr); err != nil || again != addr {
			t.Fatalf("--listen %q = %q, which gives %q, %v", s, addr, again, err)
		}
	})
}

// printableLine reports whether s is one line of valid UTF-8 with only
// printable runes (strconv.CanBackquote would refuse a backquote too).
func printableLine(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !strconv.IsPrint(r) })
}
