package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// TestTagOutputsAgree: get's and set's CSV carry the fields their JSON
// has, with the same values (but for value, which each writes its way):
// get's CSV had tag,value,eng_unit alone, not which device, unit, table or
// address a row came from.
func TestTagOutputsAgree(t *testing.T) {
	p := loadTestPlant(t, "all-types")
	s := servePlant(t, p)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"get", []string{"get", "hr.scaled.uint32", "hr.bit7", "coil.on", "hr.string"}},
		{"set scaled", []string{"set", "hr.scaled.int16", "-3.5"}},
		{"set bit", []string{"set", "hr.bit7", "on"}},
		{"set coil", []string{"set", "coil.off", "off"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := append([]string{"--plant", plantPath("all-types"), "-a", s.Addr}, tc.args...)
			js := strings.Split(strings.TrimSpace(mustRun(t, append(base, "-o", "json")...)), "\n")
			rows, err := csv.NewReader(strings.NewReader(mustRun(t, append(base, "-o", "csv")...))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != len(js)+1 {
				t.Fatalf("%d CSV rows for %d JSON objects", len(rows)-1, len(js))
			}
			for i, line := range js {
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatal(err)
				}
				if _, ok := rec["eng_unit"]; !ok {
					rec["eng_unit"] = "" // omitted when empty; CSV has the column
				}
				if len(rec) != len(rows[0]) {
					t.Errorf("JSON keys %v, CSV columns %v", slices.Sorted(maps.Keys(rec)), rows[0])
				}
				for j, col := range rows[0] {
					v, ok := rec[col]
					if !ok {
						t.Errorf("CSV column %q is not a JSON key of %s", col, line)
						continue
					}
					if col != "value" && fmt.Sprint(v) != rows[i+1][j] {
						t.Errorf("row %d %s: CSV %q, JSON %v", i+1, col, rows[i+1][j], v)
					}
				}
			}
		})
	}
}

// TestSetBitWithoutMaskWrite: set of a bit tag is one mask write (FC 22);
// a device that answers it with exception 01 gets a hint that says so and
// what to do, and no other request is sent (no read and write of the
// register in its place). A coil tag's 01 keeps the plain hint.
func TestSetBitWithoutMaskWrite(t *testing.T) {
	rule, err := simulator.ParseFaultRule("action=exception,exception=1,fc=22")
	if err != nil {
		t.Fatal(err)
	}
	s := simtest.Start(t, simulator.Config{Faults: []simulator.FaultRule{rule}})
	const hint = "; set writes a bit inside a register with mask write register (FC 22) only: on a device without it, " +
		"write the whole register (read-holding-registers, then write-register), if nothing else changes it in between\n"
	r := runCLI(t, "set", "--plant", plantPath("pump-station"), "-a", s.Addr, "mode.local", "on")
	if r.code != exitException || !strings.HasSuffix(r.stderr, hint) {
		t.Errorf("set mode.local on: exit %d, stderr:\n%s\nwant exit 3 ending with:\n%s", r.code, r.stderr, hint)
	}
	if n, fc22 := s.Stats().Requests, s.FunctionRequests(22); n != 1 || fc22 != 1 {
		t.Errorf("%d requests sent, %d of FC 22; want the one mask write", n, fc22)
	}
	if r := runCLI(t, "mask-write-register", "-a", s.Addr, "3", "0xFFFD", "2"); strings.Contains(r.stderr, "set writes a bit") {
		t.Errorf("mask-write-register got set's hint:\n%s", r.stderr)
	}
}

// TestTagsWordOrder: tags shows a word order wherever it changes the value,
// in every format: a byte swap of a one-register value or a string too,
// which was listed as plain uint16 (and, in text, string 4) as if ABCD.
func TestTagsWordOrder(t *testing.T) {
	for _, tc := range []struct{ tag, text, json string }{
		{"hr.uint16.abcd", "uint16", ""},
		{"hr.uint32.abcd", "uint32", "ABCD"}, // JSON and CSV name the order of every wider value
		{"hr.uint16.cdab", "uint16", ""},     // a word swap of one register changes nothing
		{"hr.uint16.badc", "uint16 BADC", "BADC"},
		{"hr.int16.dcba", "int16 DCBA", "DCBA"},
		{"hr.float32.cdab", "float32 CDAB", "CDAB"},
		{"hr.string.swapped", "string 4 BADC", "BADC"},
		{"hr.string", "string 6", ""},
		{"hr.hex", "hex", ""},
		{"hr.bit7", "bool bit 7", ""},
	} {
		t.Run(tc.tag, func(t *testing.T) {
			text := mustRun(t, "tags", "--plant", plantPath("all-types"), tc.tag)
			if got := strings.Join(strings.Fields(strings.Split(text, "\n")[1])[5:], " "); !strings.HasPrefix(got, tc.text+" read-") {
				t.Errorf("tags %s: type column %q, want %q", tc.tag, got, tc.text)
			}
			var rec struct {
				WordOrder string `json:"word_order"`
			}
			if err := json.Unmarshal([]byte(mustRun(t, "tags", "--plant", plantPath("all-types"), "-o", "json", tc.tag)), &rec); err != nil || rec.WordOrder != tc.json {
				t.Errorf("tags -o json %s: word_order %q (%v), want %q", tc.tag, rec.WordOrder, err, tc.json)
			}
			rows, err := csv.NewReader(strings.NewReader(mustRun(t, "tags", "--plant", plantPath("all-types"), "-o", "csv", tc.tag))).ReadAll()
			if col := slices.Index(rows[0], "word_order"); err != nil || col < 0 || rows[1][col] != tc.json {
				t.Errorf("tags -o csv %s: %v %v, want word_order %q", tc.tag, rows, err, tc.json)
			}
		})
	}
}
