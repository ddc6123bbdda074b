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
	return bw.Flush()
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
