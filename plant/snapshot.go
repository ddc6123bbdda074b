package plant

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/plcctl/plcctl/values"
)

// Snapshot is what plcctl snapshot recorded from a live device: for each
// unit and table the runs of addresses read and their values. WriteSnapshot
// turns it into a plant file that plcsim serves with exactly those
// addresses and values (and no other address: a table left empty answers
// exception 02 everywhere).
type Snapshot struct {
	Device  string // device name in the file; default "snapshot"
	Address string // the device's host:port, recorded as its address
	Comment string // first lines of the file, each prefixed with "# "
	// Units are the units recorded, in the order written, each id once;
	// none writes unit 1 with no address in any table.
	Units []SnapshotUnit
	// Tags are written under tags: with what describes them (name, unit,
	// table, address, type, bit, chars, order, scale, offset, unit of
	// measure, access, description, retentive, alias), not their initial
	// values or living values: the values are those recorded. Each must
	// lie inside what its unit recorded of its table.
	Tags []*Tag
}

// SnapshotUnit is what was recorded of one unit.
type SnapshotUnit struct {
	ID     uint8      // 1..255
	Tables [4][]Block // by TableKind; Bits for coils and discrete inputs, Regs otherwise
	// Identity, when not nil, is written as identification: its objects
	// (0x00..0x06 by name, 0x80..0xFF under extended:) must be valid UTF-8
	// of at most 200 bytes, as Parse wants them.
	Identity *Identity
	ServerID *ServerID // when not nil, written as server_id:
}

// Covers reports whether u recorded every item of t (its table, from its
// address to its end).
func (u *SnapshotUnit) Covers(t *Tag) bool {
	for _, b := range u.Tables[t.Table] {
		if t.Address >= b.Start && int(t.End()) <= int(b.Start)+b.Len()-1 {
			return true
		}
	}
	return false
}

// WriteSnapshot writes s as a plant file. Each block becomes one range of
// its table with its values under values:, registers in hex, bits as 0 and
// 1, 16 to a line.
func WriteSnapshot(w io.Writer, s *Snapshot) error {
	bw := bufio.NewWriter(w)
	for _, l := range strings.Split(strings.TrimRight(s.Comment, "\n"), "\n") {
		if l != "" {
			fmt.Fprintf(bw, "# %s\n", l)
		}
	}
	name := s.Device
	if name == "" {
		name = "snapshot"
	}
	fmt.Fprintf(bw, "version: %d\ndevices:\n  - name: %s\n", Version, strconv.Quote(name))
	if s.Address != "" {
		fmt.Fprintf(bw, "    address: %s\n", strconv.Quote(s.Address))
	}
	units := s.Units
	if len(units) == 0 {
		units = []SnapshotUnit{{ID: 1}}
	}
	bw.WriteString("    units:\n")
	for i := range units {
		writeSnapshotUnit(bw, &units[i])
	}
	if len(s.Tags) > 0 {
		bw.WriteString("    tags:\n")
		for _, t := range s.Tags {
			writeSnapshotTag(bw, t)
		}
	}
	return bw.Flush()
}

func writeSnapshotUnit(bw *bufio.Writer, u *SnapshotUnit) {
	id := u.ID
	if id == 0 {
		id = 1
	}
	fmt.Fprintf(bw, "      - id: %d\n", id)
	for k := Coils; k <= InputRegisters; k++ {
		writeSnapshotTable(bw, k, u.Tables[k])
	}
	if u.Identity != nil {
		writeSnapshotIdentity(bw, u.Identity)
	}
	if u.ServerID != nil {
		fmt.Fprintf(bw, "        server_id:\n          id: %s\n          run: %t\n", yamlBytes(u.ServerID.ID), u.ServerID.Run)
		if len(u.ServerID.Additional) > 0 {
			fmt.Fprintf(bw, "          additional: %s\n", yamlBytes(u.ServerID.Additional))
		}
	}
}

// writeSnapshotTag writes t as one line of tags:, 0-based as the file is.
func writeSnapshotTag(w *bufio.Writer, t *Tag) {
	fmt.Fprintf(w, "      - {name: %s, unit_id: %d, table: %s, address: %d", strconv.Quote(t.Name), t.UnitID, t.Table, t.Address)
	switch {
	case t.Bool && t.Bit >= 0:
		fmt.Fprintf(w, ", bit: %d", t.Bit)
	case t.Bool:
	case t.Type == values.String:
		fmt.Fprintf(w, ", type: string, chars: %d", t.Chars)
	default:
		fmt.Fprintf(w, ", type: %s", t.Type)
	}
	if !t.Bool && t.Order != values.ABCD {
		fmt.Fprintf(w, ", order: %s", t.Order)
	}
	if t.Scaled {
		fmt.Fprintf(w, ", scale: %s, offset: %s", strconv.FormatFloat(t.Scale, 'g', -1, 64), strconv.FormatFloat(t.Offset, 'g', -1, 64))
	}
	if t.EngUnit != "" {
		fmt.Fprintf(w, ", eng_unit: %s", strconv.Quote(t.EngUnit))
	}
	if t.Access == ReadOnly && t.Table.Writable() {
		w.WriteString(", access: read-only")
	}
	if t.Retentive {
		w.WriteString(", retentive: true")
	}
	if t.Alias {
		w.WriteString(", alias: true")
	}
	if t.Description != "" {
		fmt.Fprintf(w, ", description: %s", strconv.Quote(t.Description))
	}
	w.WriteString("}\n")
}

// writeSnapshotIdentity writes id as a unit's identification: mapping.
func writeSnapshotIdentity(w *bufio.Writer, id *Identity) {
	w.WriteString("        identification:\n")
	names := map[uint8]string{}
	for name, obj := range identityObjects {
		names[obj] = name
	}
	for obj := uint8(0); obj < uint8(len(names)); obj++ {
		if v, ok := id.Objects[obj]; ok {
			fmt.Fprintf(w, "          %s: %s\n", names[obj], strconv.Quote(v))
		}
	}
	ext := false
	for obj := 0x80; obj <= 0xFF; obj++ {
		if v, ok := id.Objects[uint8(obj)]; ok {
			if !ext {
				w.WriteString("          extended:\n")
				ext = true
			}
			fmt.Fprintf(w, "            0x%02X: %s\n", obj, strconv.Quote(v))
		}
	}
	if id.Conformity != 0 {
		fmt.Fprintf(w, "          conformity: 0x%02X\n", id.Conformity)
	}
}

// yamlBytes writes b as a quoted string when it is printable ASCII (read
// back byte for byte), else as a list of bytes.
func yamlBytes(b []byte) string {
	printable := len(b) > 0
	for _, c := range b {
		printable = printable && c >= 0x20 && c < 0x7F
	}
	if printable {
		return strconv.Quote(string(b))
	}
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = fmt.Sprintf("0x%02X", c)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func writeSnapshotTable(w *bufio.Writer, k TableKind, blocks []Block) {
	if len(blocks) == 0 {
		fmt.Fprintf(w, "        %s: []  # not recorded: no address\n", k)
		return
	}
	fmt.Fprintf(w, "        %s:\n          ranges: [", k)
	for i, b := range blocks {
		if i > 0 {
			w.WriteString(", ")
		}
		fmt.Fprintf(w, "\"%d-%d\"", b.Start, int(b.Start)+b.Len()-1)
	}
	w.WriteString("]\n          values:\n")
	for _, b := range blocks {
		fmt.Fprintf(w, "            %d: [", b.Start)
		for j := 0; j < b.Len(); j++ {
			switch {
			case j > 0 && j%16 == 0:
				w.WriteString(",\n              ")
			case j > 0:
				w.WriteString(", ")
			}
			if k.IsBits() {
				w.WriteString(map[bool]string{false: "0", true: "1"}[b.Bits[j]])
			} else {
				fmt.Fprintf(w, "0x%04X", b.Regs[j])
			}
		}
		w.WriteString("]\n")
	}
}
