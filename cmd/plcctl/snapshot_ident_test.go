package main

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/plcctl/plcctl/plant"
)

// TestSplitServerID: the split gives back the device's bytes, and data
// with no run indicator after the id is not recorded.
func TestSplitServerID(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want *plant.ServerID
	}{
		{"one byte id, ON", []byte{0x2A, 0xFF, 'A', 'M'}, &plant.ServerID{ID: []byte{0x2A}, Run: true, Additional: []byte("AM")}},
		{"text id, OFF", []byte("meter-2\x00"), &plant.ServerID{ID: []byte("meter-2"), Run: false, Additional: []byte{}}},
		{"id byte 0xFF", []byte{0xFF, 0x00, 0xFF}, &plant.ServerID{ID: []byte{0xFF}, Run: false, Additional: []byte{0xFF}}},
		{"no run indicator", []byte("abc"), nil},
		{"only an id byte", []byte{0x00}, nil},
		{"empty", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := splitServerID(tt.data)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("splitServerID(% x) = %+v, want %+v", tt.data, got, tt.want)
			}
			if got != nil && !bytes.Equal(got.Bytes(), tt.data) {
				t.Errorf("split % x gives back % x", tt.data, got.Bytes())
			}
		})
	}
}

// TestPlantIdentity: objects a plant file cannot hold are left out with a
// note; missing basic objects are recorded empty; an impossible
// conformity level is left for plcsim to derive.
func TestPlantIdentity(t *testing.T) {
	basic := map[uint8][]byte{0: []byte("ACME"), 1: []byte("AM"), 2: []byte("1")}
	with := func(extra map[uint8][]byte) map[uint8][]byte {
		m := map[uint8][]byte{}
		for k, v := range basic {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name       string
		objects    map[uint8][]byte
		conformity uint8
		want       map[uint8]string
		wantConf   uint8
		notes      []string
	}{
		{"basic", basic, 0x81, map[uint8]string{0: "ACME", 1: "AM", 2: "1"}, 0x81, nil},
		{"extended kept", with(map[uint8][]byte{0x80: []byte("sn 1"), 0xFF: []byte("ä")}), 0x83,
			map[uint8]string{0: "ACME", 1: "AM", 2: "1", 0x80: "sn 1", 0xFF: "ä"}, 0x83, nil},
		{"reserved id", with(map[uint8][]byte{0x10: []byte("x")}), 0x02, map[uint8]string{0: "ACME", 1: "AM", 2: "1"}, 0x02,
			[]string{"object 0x10 is in the reserved range 0x07..0x7F: not recorded"}},
		{"not UTF-8", with(map[uint8][]byte{0x05: {0xFF, 0xFE}}), 0x82, map[uint8]string{0: "ACME", 1: "AM", 2: "1"}, 0x82,
			[]string{"object 0x05 is not UTF-8 text of at most 200 bytes"}},
		{"too long", with(map[uint8][]byte{0x80: bytes.Repeat([]byte("a"), 201)}), 0x83, map[uint8]string{0: "ACME", 1: "AM", 2: "1"}, 0x83,
			[]string{"object 0x80 is not UTF-8 text of at most 200 bytes"}},
		{"basic missing", map[uint8][]byte{0: []byte("ACME")}, 0x01, map[uint8]string{0: "ACME", 1: "", 2: ""}, 0x01,
			[]string{"object 0x01 (basic, required in a plant file) is missing", "object 0x02 (basic, required in a plant file) is missing"}},
		{"bad conformity", basic, 0x05, map[uint8]string{0: "ACME", 1: "AM", 2: "1"}, 0,
			[]string{"conformity level 0x05 is not one of"}},
		{"conformity 0x80", basic, 0x80, map[uint8]string{0: "ACME", 1: "AM", 2: "1"}, 0,
			[]string{"conformity level 0x80 is not one of"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, notes := plantIdentity(tt.objects, tt.conformity)
			if !reflect.DeepEqual(id.Objects, tt.want) || id.Conformity != tt.wantConf {
				t.Errorf("plantIdentity = %+v, want %v conformity 0x%02X", id, tt.want, tt.wantConf)
			}
			if len(notes) != len(tt.notes) {
				t.Fatalf("notes %q, want %d", notes, len(tt.notes))
			}
			for i, want := range tt.notes {
				if !strings.Contains(notes[i], want) {
					t.Errorf("note %q, want it to say %q", notes[i], want)
				}
			}
		})
	}
}
