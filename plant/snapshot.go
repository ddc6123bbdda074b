package plant

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Snapshot is what plcctl snapshot recorded from one unit of a live device:
// for each table the runs of addresses read and their values. WriteSnapshot
// turns it into a plant file that plcsim serves with exactly those
// addresses and values (and no other address: a table left empty answers
// exception 02 everywhere).
type Snapshot struct {
	Device  string // device name in the file; default "snapshot"
	Address string // the device's host:port, recorded as its address
	UnitID  uint8
	Comment string     // first lines of the file, each prefixed with "# "
	Tables  [4][]Block // by TableKind; Bits for coils and discrete inputs, Regs otherwise
	// Identity, when not nil, is written as identification: its objects
	// (0x00..0x06 by name, 0x80..0xFF under extended:) must be valid UTF-8
	// of at most 200 bytes, as Parse wants them.
	Identity *Identity
	ServerID *ServerID // when not nil, written as server_id:
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
	unit := s.UnitID
	if unit == 0 {
		unit = 1
	}
	fmt.Fprintf(bw, "    units:\n      - id: %d\n", unit)
	for k := Coils; k <= InputRegisters; k++ {
		writeSnapshotTable(bw, k, s.Tables[k])
	}
	if s.Identity != nil {
		writeSnapshotIdentity(bw, s.Identity)
	}
	if s.ServerID != nil {
		fmt.Fprintf(bw, "        server_id:\n          id: %s\n          run: %t\n", yamlBytes(s.ServerID.ID), s.ServerID.Run)
		if len(s.ServerID.Additional) > 0 {
			fmt.Fprintf(bw, "          additional: %s\n", yamlBytes(s.ServerID.Additional))
		}
	}
	return bw.Flush()
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
