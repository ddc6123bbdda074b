package plant

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse: no input makes Parse or ParseAccess panic or hang; a file it
// accepts can be planned and imaged, and its access rules are valid.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../testdata/plants/*.yaml")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(head + "      - {name: a, table: hr, address: 0, sim: {kind: follow, tag: a}}\n"))
	f.Add([]byte("version: 1\ndevices: [{name: d, units: [{id: 1, coils: [\"1-0x10\"]}]}]\n"))
	f.Add([]byte("&a [*a]"))
	f.Add([]byte("version: 1\ndevices:\n  - name: d\xff\n\t- x\x01\u0090\n"))
	f.Add([]byte("version: 1\ndevices: [{name: d, address: \":5020\"}, {name: e, address: 5021}]\n"))
	f.Add([]byte("version: 1\ndevices: [{name: d, units: [{id: 1, coils: [3, \"0-5\", 5], holding_registers: {values: {0: [1, 2], 1: [3]}}}]}]\n"))
	if b, err := os.ReadFile("../testdata/access-rules.yaml"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// The same bytes as an access file: rules it accepts are rules
		// the simulator accepts.
		if a, err := ParseAccess(data, "fuzz.yaml"); err == nil {
			if pol := a.Policy(); pol.Validate() != nil {
				t.Fatalf("ParseAccess accepted rules the policy refuses: %v", pol.Validate())
			}
		} else if a != nil {
			t.Fatal("ParseAccess returned rules and an error")
		} else {
			checkPrintable(t, "ParseAccess", err)
		}
		p, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if p != nil {
				t.Fatal("Parse returned a plant and an error")
			}
			checkPrintable(t, "Parse", err)
			return
		}
		PlanReads(p.Tags, PlanOptions{MaxGap: 3})
		for _, d := range p.Devices {
			if a := p.AccessFor(d); a != nil {
				if pol := a.Policy(); pol.Validate() != nil {
					t.Fatalf("Parse accepted access rules the policy refuses: %v", pol.Validate())
				}
			}
			for _, u := range d.Units {
				if err := u.Preload(newFake()); err != nil {
					t.Fatalf("Preload of a parsed plant: %v", err)
				}
			}
		}
	})
}

// checkPrintable: one problem a line, each printable: what the file holds
// is quoted in an error, never written raw to the terminal.
func checkPrintable(t *testing.T, call string, err error) {
	t.Helper()
	for _, line := range strings.Split(err.Error(), "\n") {
		if !printableLine(line) {
			t.Fatalf("%s error line %q is not printable", call, line)
		}
	}
}

// printableLine reports whether s is one line of valid UTF-8 with only
// printable runes (strconv.CanBackquote would refuse a backquote too).
func printableLine(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !strconv.IsPrint(r) })
}
