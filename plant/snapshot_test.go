package plant

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// TestWriteSnapshot: the file written parses back to exactly the recorded
// ranges and values, and tables not recorded have no address.
func TestWriteSnapshot(t *testing.T) {
	regs := make([]uint16, 200)
	for i := range regs {
		regs[i] = uint16(i * 331)
	}
	bits := make([]bool, 37)
	for i := range bits {
		bits[i] = i%3 == 0
	}
	s := &Snapshot{Device: "plc-3", Address: "127.0.0.1:5020", UnitID: 7, Comment: "recorded by a test\nsecond line",
		Tables: [4][]Block{
			Coils:            {{Start: 0, Bits: bits}, {Start: 100, Bits: []bool{true}}},
			HoldingRegisters: {{Start: 10, Regs: regs}, {Start: 65535, Regs: []uint16{0xFFFF}}},
		}}
	var buf bytes.Buffer
	if err := WriteSnapshot(&buf, s); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "# recorded by a test\n# second line\nversion: 1\n") {
		t.Errorf("snapshot starts %q", buf.String()[:60])
	}
	p, err := Parse(buf.Bytes(), "snap.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	d := p.Devices[0]
	u := d.Unit(7)
	if d.Name != "plc-3" || d.Address != "127.0.0.1:5020" || u == nil || len(d.Units) != 1 {
		t.Fatalf("device %+v", d)
	}
	for k := Coils; k <= InputRegisters; k++ {
		var want []Range
		for _, b := range s.Tables[k] {
			want = append(want, Range{b.Start, b.Start + uint16(b.Len()-1)})
		}
		if got := u.Tables[k].Ranges; !reflect.DeepEqual(got, want) {
			t.Errorf("%s ranges = %v, want %v", k, got, want)
		}
		if got := u.Tables[k].Blocks; !reflect.DeepEqual(got, s.Tables[k]) && len(s.Tables[k])+len(got) > 0 {
			t.Errorf("%s values differ:\n got %v\nwant %v", k, got, s.Tables[k])
		}
	}
}
