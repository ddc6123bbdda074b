package main

import (
	"bytes"
	"maps"
	"testing"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plant"
)

// FuzzSnapshotDevice: whatever identification objects (id, length, bytes
// triples in objs), conformity byte, FC 17 data and registers a device
// answers, plcctl snapshot writes a plant file that parses, and plcsim
// serving it answers with what was recorded: the objects kept, the
// conformity kept, the server id's bytes.
func FuzzSnapshotDevice(f *testing.F) {
	f.Add([]byte{0, 4, 'A', 'C', 'M', 'E', 1, 2, 'X', '1', 2, 3, '1', '.', '0'}, uint8(0x81), []byte("meter-2\xffrun"), []byte{0x12, 0x34})
	f.Add([]byte{0, 3, 'a', '"', '\\', 4, 5, 0xE2, 0x9A, 0xA1, '\t', 0, 0x80, 2, 0xC2, 0x85, 0xFF, 1, 0x7F}, uint8(3), []byte{0x2A, 0, 'A'}, []byte{})
	f.Add([]byte{0, 2, '\r', '\n', 1, 3, 0xE2, 0x80, 0xA8, 2, 1, 0x1B, 7, 1, 'x', 0x90, 3, 0xFF, 0xFE, 0}, uint8(0x84), []byte{0x00}, []byte{0, 0, 0xFF})
	f.Add([]byte{0, 1, 0x7F, 1, 1, 0x20, 2, 0}, uint8(1), []byte("\x90ab\xff\xfe"), []byte{1})
	f.Fuzz(func(t *testing.T, objs []byte, conformity uint8, sid []byte, regs []byte) {
		objects := map[uint8][]byte{}
		for i := 0; i+1 < len(objs); {
			id, n := objs[i], int(objs[i+1])
			i += 2
			v := objs[i:min(i+n, len(objs))]
			i += len(v)
			objects[id] = v
		}
		sid = sid[:min(len(sid), modbus.MaxPDULen-2)] // an FC 17 answer holds at most 251 data bytes
		snap := &plant.Snapshot{Address: "127.0.0.1:5020", Units: []plant.SnapshotUnit{{ID: 1}}}
		su := &snap.Units[0]
		su.Identity, _ = plantIdentity(objects, conformity)
		su.ServerID = splitServerID(sid)
		b := plant.Block{Start: 0, Regs: make([]uint16, len(regs)/2)}
		for i := range b.Regs {
			b.Regs[i] = uint16(regs[2*i])<<8 | uint16(regs[2*i+1])
		}
		if len(b.Regs) > 0 {
			su.Tables[plant.HoldingRegisters] = []plant.Block{b}
		}
		var file bytes.Buffer
		if err := plant.WriteSnapshot(&file, snap); err != nil {
			t.Fatal(err)
		}
		p, err := plant.Parse(file.Bytes(), "snapshot.yaml")
		if err != nil {
			t.Fatalf("the snapshot of objects %q, server id % x does not parse: %v\n%s", objects, sid, err, file.String())
		}
		u := p.Devices[0].Units[0]
		if u.Identity == nil || !maps.Equal(u.Identity.Objects, su.Identity.Objects) || u.Identity.Conformity != su.Identity.Conformity {
			t.Fatalf("identity %+v was written as\n%s\nand read back as %+v", su.Identity, file.String(), u.Identity)
		}
		if su.ServerID != nil && (u.ServerID == nil || !bytes.Equal(u.ServerID.Bytes(), sid)) {
			t.Fatalf("server id % x was written as\n%s\nand read back as %+v", sid, file.String(), u.ServerID)
		}
	})
}
