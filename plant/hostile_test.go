package plant

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestFollowCycles: every tag on a cycle of follow rules is reported, once,
// and a tag that only leads into a cycle is not.
func TestFollowCycles(t *testing.T) {
	follow := func(name string, addr int, src string) string {
		return fmt.Sprintf("      - {name: %s, table: coil, address: %d, sim: {kind: follow, tag: %s}}\n", name, addr, src)
	}
	plain := func(name string, addr int) string {
		return fmt.Sprintf("      - {name: %s, table: coil, address: %d}\n", name, addr)
	}
	tests := []struct {
		name string
		tags string
		want []string // tags reported, in line order
	}{
		{"chain", plain("a", 0) + follow("b", 1, "a") + follow("c", 2, "b"), nil},
		{"two", follow("a", 0, "b") + follow("b", 1, "a"), []string{"a", "b"}},
		{"three and a lead-in", follow("x", 0, "a") + follow("a", 1, "b") + follow("b", 2, "c") + follow("c", 3, "a"), []string{"a", "b", "c"}},
		{"two cycles", follow("a", 0, "b") + follow("b", 1, "a") + follow("c", 2, "d") + follow("d", 3, "c") + follow("e", 4, "d"), []string{"a", "b", "c", "d"}},
		{"into a chain seen before", plain("a", 0) + follow("b", 1, "a") + follow("c", 2, "b") + follow("d", 3, "b"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(head+tc.tags), "f.yaml")
			var got []string
			if es, ok := err.(Errors); ok {
				for _, e := range es {
					if !strings.Contains(e.Msg, "through a cycle") {
						t.Errorf("unexpected error %v", e)
						continue
					}
					got = append(got, strings.Fields(e.Msg)[1])
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("cycle errors for %v, want %v (%v)", got, tc.want, err)
			}
		})
	}
}

// TestFollowChainCost: a long chain of follow rules is checked with work in
// proportion to its length. Each tag's walk to the chain's end used a map
// of its own: 20000 follows (1.7 MB) allocated gigabytes and took 28 s.
func TestFollowChainCost(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\ndevices:\n  - name: d\n    tags:\n      - {name: t0, table: coil, address: 0}\n")
	const n = 5000
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "      - {name: t%d, table: coil, address: %d, sim: {kind: follow, tag: t%d}}\n", i, i, i-1)
	}
	data := []byte(b.String())
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := Parse(data, "chain.yaml"); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if got, most := after.TotalAlloc-before.TotalAlloc, uint64(200*len(data)); got > most {
		t.Errorf("Parse of %d follows (%d bytes) allocated %d bytes, want at most %d", n, len(data), got, most)
	}
}

// TestOverlapCost: the overlap check compares pairs in proportion to the
// tags, aliases or not. 60000 aliases of one register were compared each
// with each (1.8e9 pairs, 7 s); a file of tags that all overlap compares
// until the error limit.
func TestOverlapCost(t *testing.T) {
	file := func(n int, extra string) []byte {
		var b strings.Builder
		b.WriteString("version: 1\ndevices:\n  - name: d\n    tags:\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "      - {name: t%d, table: hr, address: 5%s}\n", i, extra)
		}
		return []byte(b.String())
	}
	bits := []byte("version: 1\ndevices:\n  - name: d\n    tags:\n")
	for i := 0; i < 16; i++ {
		bits = fmt.Appendf(bits, "      - {name: b%d, table: hr, address: 5, bit: %d}\n", i, i)
	}
	const n = 3000
	tests := []struct {
		name   string
		data   []byte
		errors bool
		most   int
	}{
		{"aliases", file(n, ", alias: true"), false, 0},
		{"overlaps", file(n, ""), true, n + maxErrors},
		{"bits of one register", bits, false, 16 * 15 / 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &decoder{file: "o.yaml"}
			root, err := d.document(tc.data, "")
			if err != nil {
				t.Fatal(err)
			}
			c := &parseCtx{decoder: d, p: &Plant{Seed: 1, Scan: DefaultScan, byName: map[string]*Tag{}},
				tagNodes: map[*Tag]*object{}, simNodes: map[*Sim]*object{}}
			o := d.object(root, "", plantKeys)
			for i, dn := range d.list(o.get("devices"), "devices") {
				c.p.Devices = append(c.p.Devices, c.device(dn, fmt.Sprintf("devices[%d]", i), false))
			}
			if len(d.errs) > 0 {
				t.Fatal(d.errs)
			}
			pairs := c.checkOverlaps()
			if pairs > tc.most {
				t.Errorf("checkOverlaps compared %d pairs of %d tags, want at most %d", pairs, len(c.p.Tags), tc.most)
			}
			if got := len(d.errs) > 0; got != tc.errors {
				t.Errorf("checkOverlaps errors = %v, want errors %v", d.errs, tc.errors)
			}
		})
	}
}

// TestOverlaps: overlapping spans are reported at the one later in the
// file, naming the other; touching spans do not overlap.
func TestOverlaps(t *testing.T) {
	type pair struct{ later, earlier int }
	tests := []struct {
		name  string
		spans [][2]int
		want  []pair
	}{
		{"apart", [][2]int{{0, 9}, {20, 29}, {10, 19}}, nil},
		{"one pair", [][2]int{{0, 10}, {5, 20}}, []pair{{1, 0}}},
		{"earlier starts later", [][2]int{{5, 20}, {0, 10}}, []pair{{1, 0}}},
		{"inside", [][2]int{{0, 100}, {10, 10}, {50, 60}}, []pair{{1, 0}, {2, 0}}},
		{"same start", [][2]int{{3, 3}, {3, 3}}, []pair{{1, 0}}},
		{"chain", [][2]int{{0, 5}, {5, 10}, {10, 15}}, []pair{{1, 0}, {2, 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []pair
			overlaps(len(tc.spans), func(i int) (int, int) { return tc.spans[i][0], tc.spans[i][1] },
				func(l, e int) { got = append(got, pair{l, e}) })
			slices.SortFunc(got, func(a, b pair) int { return a.later - b.later })
			if !slices.Equal(got, tc.want) {
				t.Errorf("overlaps(%v) = %v, want %v", tc.spans, got, tc.want)
			}
		})
	}
}

// TestValuesOverlapCost: a table of 65536 values one register each (775 kB)
// is checked in n log n span look-ups; comparing each block with each took
// 17 s.
func TestValuesOverlapCost(t *testing.T) {
	const n = 65536
	calls := 0
	overlaps(n, func(i int) (int, int) { calls++; return i, i }, func(int, int) { t.Fatal("no overlap expected") })
	if most := 2*n*17 + n; calls > most {
		t.Errorf("overlaps of %d spans looked at %d, want at most %d", n, calls, most)
	}
	var b strings.Builder
	b.WriteString("version: 1\ndevices:\n  - name: d\n    units:\n      - id: 1\n        holding_registers:\n          values: {0: [1, 2], ")
	for i := 2; i < 1000; i++ {
		fmt.Fprintf(&b, "%d: [1], ", i)
	}
	b.WriteString("1: [7]}\n")
	_, err := Parse([]byte(b.String()), "v.yaml")
	if err == nil || !strings.Contains(err.Error(), "values.1: values from address 1 overlap the values from address 0 (line 7)") {
		t.Errorf("Parse = %v, want values.1 overlapping values.0", err)
	}
}

// TestGrantRangesHostile: a grant of 3000 ranges that all miss a table of
// 3000 ranges is reported up to the error limit, each message listing a
// few of the table's ranges. It built a message listing every range for
// each, comparing each range with each: 30000 of them (a 260 kB file)
// took 5 minutes.
func TestGrantRangesHostile(t *testing.T) {
	const n = 3000
	var grant, table strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&grant, "%d, ", 2*i+1)
		fmt.Fprintf(&table, "%d, ", 2*i)
	}
	data := "version: 1\naccess:\n  roles:\n    op: {functions: [reads], holding_registers: [" + grant.String() + "]}\n" +
		"devices:\n  - name: d\n    units:\n      - id: 1\n        holding_registers: [" + table.String() + "]\n"
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Parse([]byte(data), "g.yaml")
	runtime.ReadMemStats(&after)
	es, _ := err.(Errors)
	if len(es) != maxErrors {
		t.Fatalf("%d errors, want the limit %d", len(es), maxErrors)
	}
	if want := "holding registers 1: device d unit 1 has holding registers 0, 2, 4, 6, 8, 10, 12, 14 and 2992 more ranges only, so a grant for them never applies"; es[0].Msg != want {
		t.Errorf("first error %q, want %q", es[0].Msg, want)
	}
	if got, most := after.TotalAlloc-before.TotalAlloc, uint64(200*len(data)); got > most {
		t.Errorf("Parse allocated %d bytes for a %d-byte file, want at most %d", got, len(data), most)
	}
}
