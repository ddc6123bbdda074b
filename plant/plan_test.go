package plant

import (
	"fmt"
	"strings"
	"testing"
)

// TestPlanReads: the requests planned for sets of tags, as
// "table start+count[tags]" strings.
func TestPlanReads(t *testing.T) {
	one, two, nine := uint8(1), uint8(2), uint8(9)
	big := `version: 1
devices:
  - name: d
    units:
      - id: 1
        holding_registers: ["0-9", "20-499"]
      - id: 2
    tags:
`
	tests := []struct {
		name string
		tags string // tag lines; unit_id 1 unless given
		opt  PlanOptions
		want []string
	}{
		{"one tag", "a hr 0 uint16", PlanOptions{}, []string{"holding_registers 0+1[a]"}},
		{"neighbours share", "a hr 0 uint16; b hr 1 float32; c hr 3 uint16", PlanOptions{}, []string{"holding_registers 0+4[a b c]"}},
		{"order does not matter", "c hr 3 uint16; a hr 0 uint16; b hr 1 float32", PlanOptions{}, []string{"holding_registers 0+4[a b c]"}},
		{"a gap splits", "a hr 0 uint16; b hr 2 uint16", PlanOptions{}, []string{"holding_registers 0+1[a]", "holding_registers 2+1[b]"}},
		{"gap bridged inside a range", "a hr 0 uint16; b hr 2 uint16", PlanOptions{MaxGap: 1}, []string{"holding_registers 0+3[a b]"}},
		{"gap too wide", "a hr 0 uint16; b hr 3 uint16", PlanOptions{MaxGap: 1}, []string{"holding_registers 0+1[a]", "holding_registers 3+1[b]"}},
		{"no bridge over a hole", "a hr 9 uint16; b hr 20 uint16", PlanOptions{MaxGap: 20}, []string{"holding_registers 9+1[a]", "holding_registers 20+1[b]"}},
		{"tables apart", "a hr 0 uint16; b ir 0 uint16; c coil 0; d di 0", PlanOptions{},
			[]string{"coils 0+1[c]", "discrete_inputs 0+1[d]", "holding_registers 0+1[a]", "input_registers 0+1[b]"}},
		{"units apart", "a hr 0 uint16; b hr 1 uint16 2", PlanOptions{}, []string{"holding_registers 0+1[a]", "holding_registers 1+1[b]"}},
		{"bit tags share a register", "a hr 5 bit0; b hr 5 bit1; c hr 6 uint16", PlanOptions{}, []string{"holding_registers 5+2[a b c]"}},
		{"125 registers at most", "a hr 20 string250; b hr 145 uint16", PlanOptions{}, []string{"holding_registers 20+125[a]", "holding_registers 145+1[b]"}},
		{"limit option", "a hr 20 float64; b hr 24 float64; c hr 28 float64", PlanOptions{MaxRegisters: 8},
			[]string{"holding_registers 20+8[a b]", "holding_registers 28+4[c]"}},
		{"a value is never torn", "a hr 20 string246; b hr 143 float64; c hr 147 uint16", PlanOptions{},
			[]string{"holding_registers 20+123[a]", "holding_registers 143+5[b c]"}},
		{"duplicates read once", "a hr 0 uint16; a hr 0 uint16", PlanOptions{}, []string{"holding_registers 0+1[a]"}},
		{"aliases overlap", "a hr 20 float32; b hr 20 uint16 alias; c hr 21 uint16 alias", PlanOptions{}, []string{"holding_registers 20+2[b a c]"}},
		{"2000 bits", "a coil 0; b coil 1999; c coil 2000", PlanOptions{}, []string{"coils 0+1[a]", "coils 1999+2[b c]"}},
		// Unit: the unit read (plcctl -u) decides, by its ranges, not the tags' own.
		{"unit read has no hole", "a hr 9 uint16; b hr 20 uint16", PlanOptions{MaxGap: 20, Unit: &two}, []string{"holding_registers 9+12[a b]"}},
		{"unit read has the hole", "a hr 9 uint16 2; b hr 20 uint16 2", PlanOptions{MaxGap: 20, Unit: &one},
			[]string{"holding_registers 9+1[a]", "holding_registers 20+1[b]"}},
		{"one unit read, one group", "a hr 0 uint16; b hr 1 uint16 2", PlanOptions{Unit: &one}, []string{"holding_registers 0+2[a b]"}},
		{"unit read not in the file", "a hr 0 uint16; b hr 2 uint16", PlanOptions{MaxGap: 5, Unit: &nine},
			[]string{"holding_registers 0+1[a]", "holding_registers 2+1[b]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := big
			names := map[string]bool{}
			var order []string
			for _, spec := range strings.Split(tc.tags, "; ") {
				f := strings.Fields(spec)
				name := f[0]
				if names[name] {
					order = append(order, name)
					continue
				}
				names[name] = true
				order = append(order, name)
				line := fmt.Sprintf("      - {name: %s, table: %s, address: %s", name, f[1], f[2])
				unit := "1"
				for _, x := range f[3:] {
					switch {
					case x == "alias":
						line += ", alias: true"
					case strings.HasPrefix(x, "bit"):
						line += ", bit: " + x[3:]
					case strings.HasPrefix(x, "string"):
						line += ", type: string, chars: " + x[6:]
					case x == "2":
						unit = "2"
					default:
						line += ", type: " + x
					}
				}
				file += line + ", unit_id: " + unit + "}\n"
			}
			p, err := Parse([]byte(file), "plan.yaml")
			if err != nil {
				t.Fatalf("%v\n%s", err, file)
			}
			var tags []*Tag
			for _, n := range order {
				tags = append(tags, p.Tag(n))
			}
			var got []string
			for _, r := range PlanReads(tags, tc.opt) {
				var ns []string
				for _, tg := range r.Tags {
					ns = append(ns, tg.Name)
				}
				got = append(got, fmt.Sprintf("%s %d+%d[%s]", r.Table, r.Start, r.Count, strings.Join(ns, " ")))
				if tc.opt.Unit != nil && r.UnitID != *tc.opt.Unit {
					t.Errorf("read %s goes to unit %d, want PlanOptions.Unit %d", got[len(got)-1], r.UnitID, *tc.opt.Unit)
				}
				if r.Table.IsBits() && r.Count > 2000 || !r.Table.IsBits() && r.Count > 125 {
					t.Errorf("read %s exceeds the protocol limit", got[len(got)-1])
				}
			}
			if strings.Join(got, "; ") != strings.Join(tc.want, "; ") {
				t.Errorf("PlanReads = %q\nwant %q", got, tc.want)
			}
		})
	}
}
