package simulator_test

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plcctl/plcctl/simulator"
)

func TestSnapshotRestore(t *testing.T) {
	a, err := simulator.New(rangedUnits())
	if err != nil {
		t.Fatal(err)
	}
	m := a.Unit(1)
	m.SetCoils(100, true, false, true)
	m.SetCoils(115, true)
	m.SetHoldingRegisters(1, 1, 0, 0, 4)
	m.SetHoldingRegisters(25, 0xFFFF)
	m.SetInputRegisters(3, 9)
	m.SetFileRecord(3, 200, 7)
	a.Unit(2).SetHoldingRegisters(9, 2)
	snap := a.Snapshot()
	got := snap.Units["1"]
	want := simulator.Snapshot{
		Coils:            []simulator.Block[bool]{{Address: 100, Values: []bool{true, false, true}}, {Address: 115, Values: []bool{true}}},
		HoldingRegisters: []simulator.Block[uint16]{{Address: 1, Values: []uint16{1, 0, 0, 4}}, {Address: 25, Values: []uint16{0xFFFF}}},
		InputRegisters:   []simulator.Block[uint16]{{Address: 3, Values: []uint16{9}}},
		FIFOs:            map[uint16][]uint16{5: {7, 8, 9}},
	}
	files := got.Files
	got.Files = nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Snapshot unit 1 =\n%+v\nwant\n%+v", got, want)
	}
	if len(files) != 2 || files[0].File != 3 || files[0].Values[1] != 0x2222 || files[1].Record != 192 || files[1].Values[8] != 7 {
		t.Fatalf("files = %+v, want file 3 records 0.. and 192..", files)
	}
	// Through JSON, into another server of the same layout.
	b, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	var back simulator.ServerSnapshot
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	c, _ := simulator.New(rangedUnits())
	c.Unit(1).SetInputRegisters(0, 5) // must be cleared by the restore
	if err := c.Restore(back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Snapshot(), a.Snapshot()) {
		t.Fatalf("after Restore: %+v\nwant %+v", c.Snapshot(), a.Snapshot())
	}
	if c.Unit(2).HoldingRegisters(9, 1)[0] != 2 || c.Unit(1).FileRecord(3, 200, 1)[0] != 7 {
		t.Fatal("restored values not served")
	}
}

// TestSnapshotUnitIDsNames: with UnitIDs 1,5 the snapshot names unit 1's
// memory "1", the id the user configured, not "0" (the direct-TCP alias
// that addresses it too), and a snapshot naming "1" restores: it was
// refused with "snapshot names memory \"1\"; this server has [0 5]". A
// snapshot or state file naming "0" still restores, and the fingerprint a
// state file records is unchanged.
func TestSnapshotUnitIDsNames(t *testing.T) {
	s, err := simulator.New(simulator.Config{UnitIDs: []uint8{1, 5}, HoldingRegisters: 10})
	if err != nil {
		t.Fatal(err)
	}
	s.Unit(1).SetHoldingRegisters(0, 11)
	s.Unit(5).SetHoldingRegisters(0, 55)
	snap := s.Snapshot()
	if len(snap.Units) != 2 || snap.Units["1"].HoldingRegisters == nil || snap.Units["5"].HoldingRegisters == nil {
		t.Fatalf("Snapshot() names %v, want units 1 and 5", slices.Sorted(maps.Keys(snap.Units)))
	}
	for _, name := range []string{"1", "0"} {
		err := s.Restore(simulator.ServerSnapshot{Units: map[string]simulator.Snapshot{
			name: {HoldingRegisters: []simulator.Block[uint16]{{Address: 0, Values: []uint16{99}}}}}})
		if err != nil || s.Unit(1).HoldingRegisters(0, 1)[0] != 99 {
			t.Errorf("Restore of memory %q: %v; unit 1 register 0 = %d, want 99", name, err, s.Unit(1).HoldingRegisters(0, 1)[0])
		}
		s.Unit(1).SetHoldingRegisters(0, 0)
	}
	// The fingerprint of this layout as plcsim computed it before the
	// names changed: a state file saved then still loads.
	if got, want := s.Fingerprint(""), "aefccdb77029da5f40a6b9f79941306ec8a50955966ef67739dfbab8c1ae559a"; got != want {
		t.Errorf("Fingerprint = %s, want %s (state files saved before would be refused)", got, want)
	}
}

// TestSnapshotEmptyFIFO: an empty FIFO queue is [] in a snapshot's JSON
// (GET /api/v1/state said "2004":null for sparse.yaml's empty queue), and
// it restores as an empty queue.
func TestSnapshotEmptyFIFO(t *testing.T) {
	s, _ := simulator.New(simulator.Config{HoldingRegisters: 10})
	s.SetFIFO(4)
	b, err := json.Marshal(s.Snapshot())
	if err != nil || !strings.Contains(string(b), `"fifos":{"4":[]}`) {
		t.Fatalf("Snapshot JSON = %s (%v), want fifos {\"4\":[]}", b, err)
	}
	var back simulator.ServerSnapshot
	json.Unmarshal(b, &back)
	if err := s.Restore(back); err != nil {
		t.Fatal(err)
	}
	if b2, _ := json.Marshal(s.Snapshot()); string(b2) != string(b) {
		t.Errorf("after a restore: %s, want %s", b2, b)
	}
}

func TestRestoreRefused(t *testing.T) {
	s, _ := simulator.New(rangedUnits())
	s.Unit(1).SetHoldingRegisters(1, 42)
	for _, tc := range []struct {
		name string
		snap simulator.ServerSnapshot
		want string
	}{
		{"unknown unit", simulator.ServerSnapshot{Units: map[string]simulator.Snapshot{"7": {}}}, `memory "7"`},
		{"outside the ranges", simulator.ServerSnapshot{Units: map[string]simulator.Snapshot{
			"1": {HoldingRegisters: []simulator.Block[uint16]{{Address: 12, Values: []uint16{1, 2}}}}}}, "holding registers 12..13: outside the table's ranges"},
		{"file 0", simulator.ServerSnapshot{Units: map[string]simulator.Snapshot{
			"1": {Files: []simulator.FileBlock{{File: 0, Values: []uint16{1}}}}}}, "file 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Restore(tc.snap)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Restore = %v, want an error saying %q", err, tc.want)
			}
			if s.Unit(1).HoldingRegisters(1, 1)[0] != 42 {
				t.Fatal("a refused restore changed the memory")
			}
		})
	}
}

// TestRebootKeepsRetentive: a reboot restores the power-on state except the
// retentive selection.
func TestRebootKeepsRetentive(t *testing.T) {
	s, _ := simulator.New(simulator.Config{HoldingRegisters: 100, Coils: 100})
	s.SetHoldingRegisters(50, 5) // power-on value of a non-retentive register
	s.Unit(0).SetPowerOn()
	s.Unit(0).SetRetentive(&simulator.Selection{HoldingRegisters: []simulator.Range{{First: 0, Last: 9}}})
	s.SetHoldingRegisters(0, 1, 2, 3)
	s.SetHoldingRegisters(50, 99)
	s.SetHoldingRegisters(20, 7)
	s.SetCoils(3, true)
	s.SetInputRegisters(0, 8)
	s.Reboot(time.Millisecond)
	for _, c := range []struct {
		addr uint16
		want uint16
	}{{0, 1}, {2, 3}, {20, 0}, {50, 5}} {
		if got := s.HoldingRegisters(c.addr, 1)[0]; got != c.want {
			t.Errorf("holding %d after reboot = %d, want %d", c.addr, got, c.want)
		}
	}
	if s.Coils(3, 1)[0] || s.InputRegisters(0, 1)[0] != 0 {
		t.Error("non-retentive coil or input register survived the reboot")
	}
}
