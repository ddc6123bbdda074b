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
	s := &Snapshot{Device: "plc-3", Address: "127.0.0.1:5020", Comment: "recorded by a test\nsecond line",
		Units: []SnapshotUnit{{ID: 7, Tables: [4][]Block{
			Coils:            {{Start: 0, Bits: bits}, {Start: 100, Bits: []bool{true}}},
			HoldingRegisters: {{Start: 10, Regs: regs}, {Start: 65535, Regs: []uint16{0xFFFF}}},
		}}}}
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
		for _, b := range s.Units[0].Tables[k] {
			want = append(want, Range{b.Start, b.Start + uint16(b.Len()-1)})
		}
		if got := u.Tables[k].Ranges; !reflect.DeepEqual(got, want) {
			t.Errorf("%s ranges = %v, want %v", k, got, want)
		}
		if want := s.Units[0].Tables[k]; !reflect.DeepEqual(u.Tables[k].Blocks, want) && len(want)+len(u.Tables[k].Blocks) > 0 {
			t.Errorf("%s values differ:\n got %v\nwant %v", k, u.Tables[k].Blocks, want)
		}
	}
}

// TestWriteSnapshotIdentity: identification objects (named, extended,
// with quotes, escapes and non-ASCII text) and the server id (printable or
// not) parse back to what was recorded, so plcsim answers FC 43/14 and FC
// 17 with the same bytes.
func TestWriteSnapshotIdentity(t *testing.T) {
	tests := []struct {
		name string
		id   *Identity
		sid  *ServerID
	}{
		{"basic", &Identity{Objects: map[uint8]string{0: "ACME", 1: "AM-200", 2: "2.11"}}, nil},
		{"every kind of object", &Identity{Objects: map[uint8]string{0: `ACME "Meters" \ Co`, 1: "AM\t200\x00", 2: "2.11",
			3: "https://example.invalid", 4: "Zähler ⚡", 5: "m", 6: "", 0x80: "serial 1", 0xFF: "\x7f\u0085"}, Conformity: 0x83}, nil},
		{"server id printable", nil, &ServerID{ID: []byte("meter-2"), Run: false}},
		{"server id bytes", nil, &ServerID{ID: []byte{0x2A}, Run: true, Additional: []byte{'A', 0, 0xFF, '"'}}},
		{"both", &Identity{Objects: map[uint8]string{0: "a", 1: "b", 2: "c"}, Conformity: 0x01},
			&ServerID{ID: []byte{0}, Run: true, Additional: []byte("AM-200")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteSnapshot(&buf, &Snapshot{Units: []SnapshotUnit{{ID: 1, Identity: tt.id, ServerID: tt.sid}}}); err != nil {
				t.Fatal(err)
			}
			p, err := Parse(buf.Bytes(), "snap.yaml")
			if err != nil {
				t.Fatalf("%v\n%s", err, buf.String())
			}
			u := p.Devices[0].Units[0]
			if !reflect.DeepEqual(u.Identity, tt.id) {
				t.Errorf("identity = %+v, want %+v\n%s", u.Identity, tt.id, buf.String())
			}
			if tt.sid == nil && u.ServerID != nil || tt.sid != nil && (u.ServerID == nil || !bytes.Equal(u.ServerID.Bytes(), tt.sid.Bytes())) {
				t.Errorf("server id = %+v, want %+v\n%s", u.ServerID, tt.sid, buf.String())
			}
		})
	}
}

// TestWriteSnapshotUnitsAndTags: several units and the tags of a plant
// file (every type, word order, scale, bit, string, access, alias and
// retentive of all-types.yaml and sparse.yaml) are written so that they
// parse back the same, without their initial or living values (the
// values recorded are the device's). A snapshot had one unit and no tags.
func TestWriteSnapshotUnitsAndTags(t *testing.T) {
	for _, name := range []string{"all-types", "sparse", "pump-station"} {
		t.Run(name, func(t *testing.T) {
			p := load(t, name)
			d := p.Devices[0]
			s := &Snapshot{Device: d.Name, Address: d.Address}
			for _, u := range d.Units {
				su := SnapshotUnit{ID: u.ID}
				for k := Coils; k <= InputRegisters; k++ {
					for _, r := range u.Tables[k].Ranges { // every address, zeros where no value was given
						b := Block{Start: r.Start}
						if k.IsBits() {
							b.Bits = make([]bool, r.Len())
						} else {
							b.Regs = make([]uint16, r.Len())
						}
						su.Tables[k] = append(su.Tables[k], b)
					}
				}
				s.Units = append(s.Units, su)
			}
			s.Tags = d.Tags
			var buf bytes.Buffer
			if err := WriteSnapshot(&buf, s); err != nil {
				t.Fatal(err)
			}
			p2, err := Parse(buf.Bytes(), "snap.yaml")
			if err != nil {
				t.Fatalf("%v\n%s", err, buf.String())
			}
			d2 := p2.Devices[0]
			if len(d2.Units) != len(d.Units) {
				t.Fatalf("%d units written, want %d", len(d2.Units), len(d.Units))
			}
			for i, u := range d.Units {
				if u2 := d2.Units[i]; u2.ID != u.ID || !reflect.DeepEqual(u2.Tables[HoldingRegisters].Ranges, u.Tables[HoldingRegisters].Ranges) {
					t.Errorf("unit %d: written as unit %d with holding registers %v, want %v", u.ID, u2.ID, u2.Tables[HoldingRegisters].Ranges, u.Tables[HoldingRegisters].Ranges)
				}
			}
			if len(d2.Tags) != len(d.Tags) {
				t.Fatalf("%d tags written, want %d\n%s", len(d2.Tags), len(d.Tags), buf.String())
			}
			for i, want := range d.Tags {
				got := *d2.Tags[i]
				w := *want
				w.Device, got.Device = nil, nil
				w.Initial, w.Sim, w.Line, got.Line = nil, nil, 0, 0
				if !reflect.DeepEqual(got, w) {
					t.Errorf("tag %s written and read back as\n%+v\nwant\n%+v", want.Name, got, w)
				}
			}
		})
	}
}
