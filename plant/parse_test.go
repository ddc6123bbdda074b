package plant

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// head is a valid file up to its first tag; tags start at line 10.
const head = `version: 1
devices:
  - name: d
    units:
      - id: 1
        holding_registers: 100
        input_registers: 100
        coils: 16
    tags:
`

// TestParseMistakes: each kind of mistake is reported with its line and the
// key's path, and nothing else goes wrong.
func TestParseMistakes(t *testing.T) {
	tests := []struct {
		name string
		file string
		line int
		key  string // suffix of Error.Key
		msg  string // part of Error.Msg
	}{
		{"not YAML", "version: 1\ndevices: [\n", 2, "", "not valid YAML"},
		// the decoder said these without a line
		{"not UTF-8", "version: 1\ndevices:\n  - name: d\xff\n", 3, "", "not valid YAML: byte 0xFF is not UTF-8"},
		{"control character", "version: 1\ndevices:\n  - name: \"d\x01\"\n", 3, "", "not valid YAML: control character U+0001"},
		{"C1 control character", "version: 1\ndevices:\n  - name: d\u0090\n", 3, "", "not valid YAML: control character U+0090"},
		{"tab indent", "version: 1\ndevices:\n\t- name: d\n", 3, "", "a tab in the indentation: YAML indents with spaces"},
		{"empty file", "", 0, "", "empty"},
		{"unknown top key", "version: 1\nverison: 1\ndevices: []\n", 2, "verison", "unknown key"},
		{"no version", "devices:\n  - name: d\n", 1, "version", "version is required"},
		{"version 2", "version: 2\ndevices:\n  - name: d\n", 1, "version", "not supported"},
		{"duplicate key", "version: 1\ndevices:\n  - name: d\n    name: e\n", 4, "devices[0].name", "given twice (first at line 3)"},
		{"wrong type", "version: 1\ndevices:\n  - name: d\n    address: [5020]\n", 4, "devices[0].address", "want a string"},
		{"bad address", "version: 1\ndevices:\n  - name: d\n    address: plc\n", 4, "devices[0].address", "not host:port"},
		{"unknown tag key", head + "      - {name: a, table: hr, address: 0, scael: 2}\n", 10, "tags[0].scael", "unknown key"},
		{"unknown type", head + "      - {name: a, table: hr, address: 0, type: flot32}\n", 10, "tags[0].type", `unknown type "flot32"`},
		{"unknown table", head + "      - {name: a, table: holding, address: 0}\n", 10, "tags[0].table", "not a table"},
		{"no address", head + "      - {name: a, table: hr}\n", 10, "tags[0].address", "address is required"},
		{"outside table", head + "      - {name: a, table: hr, address: 99, type: float32}\n", 10, "tags[0].address", "outside the table's ranges 0-99"},
		{"past 65535", "version: 1\ndevices:\n  - name: d\n    tags:\n      - {name: a, table: hr, address: 65535, type: uint32}\n", 5, "tags[0].address", "passes the last address"},
		{"overlap", head + "      - {name: a, table: hr, address: 0, type: float32}\n      - {name: b, table: hr, address: 1}\n", 11, "tags[1].address", "overlaps tag a"},
		{"same bit twice", head + "      - {name: a, table: hr, address: 0, bit: 3}\n      - {name: b, table: hr, address: 0, bit: 3}\n", 11, "tags[1].address", "overlaps tag a"},
		{"duplicate tag", head + "      - {name: a, table: hr, address: 0}\n      - {name: a, table: hr, address: 5}\n", 11, "tags[1].name", "defined twice (first at line 10)"},
		{"bad tag name", head + "      - {name: 1a, table: hr, address: 0}\n", 10, "tags[0].name", "not a tag name"},
		{"bad word order", head + "      - {name: a, table: hr, address: 0, type: int32, order: ABDC}\n", 10, "tags[0].order", "unknown word order"},
		{"order on hex", head + "      - {name: a, table: hr, address: 0, type: hex, order: BADC}\n", 10, "tags[0].order", "no meaning"},
		{"bit 16", head + "      - {name: a, table: hr, address: 0, bit: 16}\n", 10, "tags[0].bit", "out of range 0..15"},
		{"bit with type", head + "      - {name: a, table: hr, address: 0, type: int16, bit: 2}\n", 10, "tags[0].bit", "leave type out"},
		{"scale on coil", head + "      - {name: a, table: coil, address: 0, scale: 2}\n", 10, "tags[0].scale", "no meaning for a coils tag"},
		{"scale 0", head + "      - {name: a, table: hr, address: 0, scale: 0}\n", 10, "tags[0].scale", "scale 0"},
		{"string without chars", head + "      - {name: a, table: hr, address: 0, type: string}\n", 10, "tags[0].chars", "needs chars"},
		{"initial too big", head + "      - {name: a, table: hr, address: 0, initial: 70000}\n", 10, "tags[0].initial", "out of range 0..65535"},
		{"initial scaled too big", head + "      - {name: a, table: hr, address: 0, type: int16, scale: 0.1, initial: 4000}\n", 10, "tags[0].initial", "out of range"},
		{"initial wrong kind", head + "      - {name: a, table: coil, address: 0, initial: yes please}\n", 10, "tags[0].initial", "want true or false"},
		{"initial string too long", head + "      - {name: a, table: hr, address: 0, type: string, chars: 4, initial: ABCDE}\n", 10, "tags[0].initial", "more than the tag's 4"},
		{"read-write input", head + "      - {name: a, table: ir, address: 0, access: read-write}\n", 10, "tags[0].access", "input_registers cannot be written over Modbus: a tag of input_registers is read-only (leave access out)"},
		{"access spelling", head + "      - {name: a, table: hr, address: 0, access: rw}\n", 10, "tags[0].access", "not one of read-only, read-write"},
		{"one-based address 0", "version: 1\nnumbering: one-based\ndevices:\n  - name: d\n    tags:\n      - {name: a, table: hr, address: 0}\n", 6, "tags[0].address", "out of range 1..65536"},
		{"ramp without period", head + "      - {name: a, table: ir, address: 0, sim: {kind: ramp, min: 0, max: 10}}\n", 10, "sim.period", "needs period"},
		{"sim key of another kind", head + "      - {name: a, table: ir, address: 0, sim: {kind: counter, period: 1s}}\n", 10, "sim.period", "does not apply to kind counter"},
		{"sim unknown kind", head + "      - {name: a, table: ir, address: 0, sim: {kind: square}}\n", 10, "sim.kind", "not one of counter"},
		{"sim min above max", head + "      - {name: a, table: ir, address: 0, sim: {kind: sine, min: 10, max: 5, period: 1s}}\n", 10, "sim.max", "must be above min"},
		{"sim max does not fit", head + "      - {name: a, table: ir, address: 0, type: int16, sim: {kind: sine, min: 0, max: 40000, period: 1s}}\n", 10, "sim.max", "does not fit"},
		{"sine on a coil", head + "      - {name: a, table: coil, address: 0, sim: {kind: sine, min: 0, max: 1, period: 1s}}\n", 10, "sim.kind", "needs a number tag"},
		{"clock on uint16", head + "      - {name: a, table: ir, address: 0, sim: {kind: clock}}\n", 10, "sim.kind", "32- or 64-bit"},
		{"follow unknown", head + "      - {name: a, table: coil, address: 0, sim: {kind: follow, tag: b}}\n", 10, "sim.tag", `no tag "b"`},
		{"follow kind mismatch", head + "      - {name: a, table: coil, address: 0, sim: {kind: follow, tag: b}}\n      - {name: b, table: hr, address: 0}\n", 10, "sim.tag", "both must be bool"},
		{"follow cycle", head + "      - {name: a, table: coil, address: 0, sim: {kind: follow, tag: b}}\n      - {name: b, table: coil, address: 1, sim: {kind: follow, tag: a}}\n", 10, "sim.tag", "cycle"},
		{"bad delay", head + "      - {name: a, table: coil, address: 0, sim: {kind: follow, tag: b, delay: soon}}\n      - {name: b, table: coil, address: 1}\n", 10, "sim.delay", "not a duration"},
		{"bad scan", "version: 1\nscan: fast\ndevices:\n  - name: d\n", 2, "scan", "not a duration"},
		{"escape in a description", head + "      - {name: a, table: hr, address: 0, description: \"x\\e[2J\"}\n", 10, "tags[0].description", "control character U+001B in the text"},
		{"bell in a unit", head + "      - {name: a, table: hr, address: 0, eng_unit: \"bar\\a\"}\n", 10, "tags[0].eng_unit", "control character U+0007 in the text"},
		{"line break in a tag description", head + "      - {name: a, table: hr, address: 0, description: \"two\\nlines\"}\n", 10, "tags[0].description", "control character U+000A"},
		{"escape in the plant name", "version: 1\nname: \"p\\e]0;x\\a\"\ndevices:\n  - name: d\n", 2, "name", "control character U+001B"},
		{"hex initial in decimal", head + "      - {name: a, table: hr, address: 0, type: hex, initial: 4660}\n", 10, "tags[0].initial",
			"4660 is a decimal number here, but plcctl set reads a hex tag's digits in base 16: write 0x1234 (or 0x4660 if that was meant)"},
		{"bits initial in decimal", head + "      - {name: a, table: hr, address: 0, type: bits, initial: 101}\n", 10, "tags[0].initial",
			"101 is a decimal number here, but plcctl set reads a bits tag's digits in base 2: write 0b1100101 (or 0b101 if that was meant)"},
		{"bits initial not binary", head + "      - {name: a, table: hr, address: 0, type: bits, initial: 12}\n", 10, "tags[0].initial",
			"12 is a decimal number here, but plcctl set reads a bits tag's digits in base 2: write 0b1100"},
		{"scan without unit", "version: 1\nscan: 100\ndevices:\n  - name: d\n", 2, "scan", "100 is a number without a unit: write a duration such as 100ms or 100s"},
		{"version quoted", "version: \"1\"\ndevices:\n  - name: d\n", 1, "version", `version is the integer 1, not the string "1": leave out the quotes`},
		{"range overlap", "version: 1\ndevices:\n  - name: d\n    units:\n      - id: 1\n        coils: [\"0-10\", \"5-20\"]\n", 6, "coils[1]", "overlaps"},
		{"range backwards", "version: 1\ndevices:\n  - name: d\n    units:\n      - id: 1\n        coils: [\"10-5\"]\n", 6, "coils[0]", "ends before it starts"},
		{"table too big", "version: 1\ndevices:\n  - name: d\n    units:\n      - id: 1\n        coils: 70000\n", 6, "coils", "out of range 0..65536"},
		{"values outside", "version: 1\ndevices:\n  - name: d\n    units:\n      - id: 1\n        holding_registers:\n          size: 10\n          values: {8: [1, 2, 3]}\n", 8, "values.8", "outside the table's ranges"},
		{"size and ranges", "version: 1\ndevices:\n  - name: d\n    units:\n      - id: 1\n        holding_registers: {size: 10, ranges: [\"0-9\"]}\n", 6, "ranges", "not both"},
		{"register value too big", "version: 1\ndevices:\n  - name: d\n    units:\n      - id: 1\n        holding_registers:\n          values:\n            0: [1, 0x10000]\n", 8, "values.0[1]", "out of range 0..65535"},
		{"duplicate unit", "version: 1\ndevices:\n  - name: d\n    units:\n      - id: 1\n      - id: 1\n", 6, "units[1].id", "defined twice"},
		{"unit id 0", "version: 1\ndevices:\n  - name: d\n    units:\n      - id: 0\n", 5, "units[0].id", "unit 0 cannot be a unit of its own: behind a gateway it is the serial broadcast address"},
		{"unit ids 0", "version: 1\ndevices:\n  - name: d\n    units:\n      - ids: [1, 0]\n", 5, "units[0].ids[1]", "use 255 (the id recommended for a device directly on TCP) or a serial address 1..247"},
		{"unit id 256", "version: 1\ndevices:\n  - name: d\n    units:\n      - id: 256\n", 5, "units[0].id", "out of range 1..255"},
		{"unit_id needed", "version: 1\ndevices:\n  - name: d\n    units: [{id: 1}, {id: 2}]\n    tags:\n      - {name: a, table: hr, address: 0}\n", 6, "tags[0].unit_id", "unit_id is required"},
		{"no such unit", "version: 1\ndevices:\n  - name: d\n    tags:\n      - {name: a, unit_id: 3, table: hr, address: 0}\n", 5, "tags[0].unit_id", "no unit 3"},
		{"fifo too long", "version: 1\ndevices:\n  - name: d\n    units:\n      - id: 1\n        fifos:\n          10: [" + strings.Repeat("1, ", 31) + "1]\n", 7, "fifos.10", "at most 31"},
		{"fifo outside holding", "version: 1\ndevices:\n  - name: d\n    units:\n      - id: 1\n        holding_registers: 10\n        fifos: {20: [1]}\n", 7, "fifos.20", "not a holding register"},
		{"record past end", "version: 1\ndevices:\n  - name: d\n    units:\n      - id: 1\n        files:\n          1:\n            9999: [1, 2]\n", 8, "files.1.9999", "pass the last record"},
		{"file 0", "version: 1\ndevices:\n  - name: d\n    units:\n      - id: 1\n        files: {0: {0: [1]}}\n", 6, "files.0", "out of range 1..65535"},
		{"identity missing basic", "version: 1\ndevices:\n  - name: d\n    units:\n      - id: 1\n        identification: {vendor_name: ACME}\n", 6, "identification.product_code", "required"},
		{"server id too long", "version: 1\ndevices:\n  - name: d\n    units:\n      - id: 1\n        server_id: {id: " + strings.Repeat("x", 251) + "}\n", 6, "server_id", "more than the 251"},
		{"server id byte", "version: 1\ndevices:\n  - name: d\n    units:\n      - id: 1\n        server_id: {id: [1, 256]}\n", 6, "server_id.id[1]", "out of range 0..255"},
		{"fault not a string", "version: 1\nfaults:\n  - {action: drop}\ndevices:\n  - name: d\n", 3, "faults[0]", "want a string"},
		{"merge key", "version: 1\nx: &x {name: d}\ndevices:\n  - <<: *x\n", 2, "x", "unknown key"},
		{"two documents", "version: 1\ndevices:\n  - name: d\n---\nversion: 1\n", 4, "", "more than one YAML document"},
		{"duplicate device", "version: 1\ndevices:\n  - name: d\n  - name: d\n", 4, "devices[1].name", "defined twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.file), "bad.yaml")
			if err == nil {
				t.Fatalf("Parse = %v, nil error; want one at line %d", p, tc.line)
			}
			checkError(t, err, tc.line, tc.key, tc.msg)
		})
	}
}

// TestDeviceAddress: a port alone (5020, "5020", ":5020") is loopback, as
// plcsim --listen takes it since it refused to serve every interface
// unasked; every interface is 0.0.0.0:PORT spelled out. ":5020" was kept
// as it was, which plcsim served on every interface ([::]:5020), and a
// bare port was refused.
func TestDeviceAddress(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{":5020", "127.0.0.1:5020", ""},
		{`":5020"`, "127.0.0.1:5020", ""},
		{"5020", "127.0.0.1:5020", ""},
		{`"5020"`, "127.0.0.1:5020", ""},
		{"0", "127.0.0.1:0", ""},
		{"0.0.0.0:5020", "0.0.0.0:5020", ""},
		{"127.0.0.1:05020", "127.0.0.1:5020", ""},
		{"plc-3:502", "plc-3:502", ""},
		{`"[::1]:502"`, "[::1]:502", ""},
		{`"[::]:502"`, "[::]:502", ""},
		{"plc", "", `"plc" is not host:port`},
		{`"plc-3:"`, "", `port "" is not a number 0..65535`},
		{"plc-3:modbus", "", `port "modbus" is not a number 0..65535`},
		{"70000", "", `port "70000" is not a number 0..65535`},
		{`"[]:502"`, "", "is not host:port"},
		{"-1", "", "is not host:port"},
		{"::1", "", "is not host:port"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			p, err := Parse([]byte("version: 1\ndevices:\n  - name: d\n    address: "+tc.in+"\n"), "a.yaml")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), "a.yaml:4:14: devices[0].address: ") || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Parse(address: %s) = %v, want an error at a.yaml:4:14 saying %q", tc.in, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(address: %s): %v", tc.in, err)
			}
			if got := p.Devices[0].Address; got != tc.want {
				t.Errorf("Parse(address: %s).Address = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestParseHexBitsInitial: a hex or bits tag's initial value in a form
// both readings agree on (a prefix, or a digit that means the same in
// both bases) is taken.
func TestParseHexBitsInitial(t *testing.T) {
	for _, tc := range []struct {
		typ, lit string
		want     uint16
	}{{"hex", "0xBEEF", 0xBEEF}, {"hex", "7", 7}, {"hex", "0", 0}, {"bits", "0b101", 5}, {"bits", "1", 1}, {"hex", "0o17", 15}} {
		p, err := Parse([]byte(head+"      - {name: a, table: hr, address: 0, type: "+tc.typ+", initial: "+tc.lit+"}\n"), "h.yaml")
		if err != nil || p.Tag("a").Initial != tc.want {
			t.Errorf("%s initial %s: %v, %v; want %d", tc.typ, tc.lit, p, err, tc.want)
		}
	}
}

// TestParseDescriptionLines: a plant's and a device's description may
// have line breaks (no table shows them); a tag's may not.
func TestParseDescriptionLines(t *testing.T) {
	p, err := Parse([]byte("version: 1\ndescription: |\n  two\n  lines\ndevices:\n  - name: d\n    description: \"a\\tb\\nc\"\n"), "d.yaml")
	if err != nil || p.Description != "two\nlines\n" || p.Devices[0].Description != "a\tb\nc" {
		t.Errorf("Parse = %+v, %v; want both descriptions kept", p, err)
	}
}

// TestParseOneErrorPerMistake: a wrong value in a table's values: is one
// error; it was followed by "no values" for the list that held it.
func TestParseOneErrorPerMistake(t *testing.T) {
	for _, tc := range []struct{ name, file string }{
		{"wrong value", "version: 1\ndevices:\n  - name: d\n    units:\n      - id: 1\n        holding_registers: {values: {0: [\"1\"]}}\n"},
		{"empty list", "version: 1\ndevices:\n  - name: d\n    units:\n      - id: 1\n        holding_registers: {values: {0: []}}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.file), "v.yaml")
			if es, ok := err.(Errors); !ok || len(es) != 1 {
				t.Errorf("Parse = %v, want one error", err)
			}
		})
	}
}

// TestParseInitialWords: an initial value that does not fit says so in the
// value's words after the key path, which names the tag already. It said
// "initial: plant: tag a: values: value 40000 does not fit int16", two
// package names and the tag once more; and a file of another version said
// "this plcctl reads version 1" to plcsim's user too.
func TestParseInitialWords(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{head + "      - {name: a, table: hr, address: 0, type: int16, initial: 40000}\n",
			"bad.yaml:10:64: devices[0].tags[0].initial: value 40000 does not fit int16: out of range -32768..32767"},
		{"version: 2\ndevices:\n  - name: d\n",
			"bad.yaml:1:10: version: version 2 is not supported: plcctl and plcsim read version 1"},
		{"version: 1\ndevices:\n  - name: dä\xff\n",
			"bad.yaml:3:13: not valid YAML: byte 0xFF is not UTF-8 (a file in another encoding, such as Latin-1? save it as UTF-8)"},
	} {
		_, err := Parse([]byte(tc.file), "bad.yaml")
		var es Errors
		if !errors.As(err, &es) || len(es) == 0 || strings.TrimPrefix(es[0].Error(), "plant: ") != tc.want {
			t.Errorf("Parse:\n%v\nwant first error %q", err, tc.want)
		}
	}
}

// TestParseAliasBomb: aliases of aliases that would expand to a hundred
// million values are refused after a bounded walk.
func TestParseAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\nv: &v [" + strings.Repeat("1, ", 999) + "1]\n")
	b.WriteString("u: &u {id: 1, holding_registers: {values: {")
	for j := 0; j < 60; j++ {
		fmt.Fprintf(&b, "%d: *v, ", j*1000)
	}
	b.WriteString("}}}\nd: &d {name: d, units: [" + strings.Repeat("*u, ", 99) + "*u]}\n")
	b.WriteString("devices: [" + strings.Repeat("*d, ", 19) + "*d]\n")
	_, err := Parse([]byte(b.String()), "bomb.yaml")
	if err == nil || !strings.Contains(err.Error(), "aliases expand the file past") {
		t.Fatalf("Parse(alias bomb) = %.300v, want the expansion refused", err)
	}
}
