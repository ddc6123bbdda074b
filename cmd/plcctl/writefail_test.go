package main

import (
	"strings"
	"testing"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
)

// TestWriteFailureJSONNamesItems: the -o json object of a failed write names
// what the write was to change (table, 0-based address and count; the tag;
// the file record), so a script running several writes can tell which one
// failed; a --split write says how many items its parts before the failed
// one wrote. The object named only the command and the unit.
func TestWriteFailureJSONNamesItems(t *testing.T) {
	s := startSim(t) // 1000 items per table: address 1000 and up is exception 02
	closed := closedPort(t)
	const exc02 = `"error":"the device answered exception 02 illegal data address","sent":true,"outcome_unknown":false`
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"write-register", []string{"write-register", "1000", "1"},
			`{"function":"write-register","unit":1,"table":"holding_registers","address":1000,"count":1,` + exc02 + `}`},
		{"one-based address stays 0-based", []string{"--one-based", "write-registers", "1001", "1", "2"},
			`{"function":"write-registers","unit":1,"table":"holding_registers","address":1000,"count":2,` + exc02 + `}`},
		{"typed values count registers", []string{"write-registers", "999", "1.5", "--type", "float32"},
			`{"function":"write-registers","unit":1,"table":"holding_registers","address":999,"count":2,` + exc02 + `}`},
		{"write-coil", []string{"write-coil", "1000", "on"},
			`{"function":"write-coil","unit":1,"table":"coils","address":1000,"count":1,` + exc02 + `}`},
		{"write-coils", []string{"write-coils", "998", "10110"},
			`{"function":"write-coils","unit":1,"table":"coils","address":998,"count":5,` + exc02 + `}`},
		{"mask-write-register", []string{"mask-write-register", "1000", "0xFF00", "1"},
			`{"function":"mask-write-register","unit":1,"table":"holding_registers","address":1000,"count":1,` + exc02 + `}`},
		{"read-write-registers names the write", []string{"read-write-registers", "0", "1", "1000", "7", "8"},
			`{"function":"read-write-registers","unit":1,"table":"holding_registers","address":1000,"count":2,` + exc02 + `}`},
		{"raw write", []string{"raw", "16", "03", "E8", "00", "01", "02", "00", "07"},
			`{"function":"raw","unit":1,"table":"holding_registers","address":1000,"count":1,` + exc02 + `}`},
		{"not sent", []string{"write-register", "5", "1", "-a", closed},
			`{"function":"write-register","unit":1,"table":"holding_registers","address":5,"count":1,"error":"nothing listens on ` +
				closed + ` (connection refused); the write was not sent","sent":false,"outcome_unknown":false}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, append([]string{"-a", s.Addr, "-o", "json"}, tt.args...)...)
			if r.code == 0 || strings.TrimSpace(r.stdout) != tt.want {
				t.Errorf("plcctl %v: exit %d, stdout\n%s\nwant\n%s", tt.args, r.code, r.stdout, tt.want)
			}
		})
	}
}

// TestWriteFailureJSONSplitAndFile: a --split write that fails in its
// second part says in JSON how many items the first wrote (and 0 when the
// first part fails); a file-record write names file and record.
func TestWriteFailureJSONSplitAndFile(t *testing.T) {
	s := startSim(t)
	s.SetFaults(simulator.FaultRule{Function: modbus.FuncWriteMultipleRegisters, After: 1, Count: 1, Action: simulator.FaultException,
		Exception: modbus.ServerDeviceFailure}, simulator.FaultRule{Function: modbus.FuncWriteFileRecord, Action: simulator.FaultException,
		Exception: modbus.ServerDeviceBusy})
	vals := make([]string, 200)
	for i := range vals {
		vals[i] = "1"
	}
	const exc04 = `"error":"the device answered exception 04 server device failure`
	split := append([]string{"-a", s.Addr, "-o", "json", "write-registers", "0", "--split"}, vals...)
	r := runCLI(t, split...)
	want := `{"function":"write-registers","unit":1,"table":"holding_registers","address":0,"count":200,` + exc04 +
		`; the split write had written 123 of 200 items before the part that failed","sent":true,"outcome_unknown":false,"written":123}`
	if r.code != exitException || strings.TrimSpace(r.stdout) != want {
		t.Errorf("split, second part refused: exit %d, stdout\n%s\nwant\n%s", r.code, r.stdout, want)
	}
	s.SetFaults(simulator.FaultRule{Function: modbus.FuncWriteMultipleRegisters, Count: 1, Action: simulator.FaultException,
		Exception: modbus.ServerDeviceFailure})
	r = runCLI(t, split...)
	want = `{"function":"write-registers","unit":1,"table":"holding_registers","address":0,"count":200,` + exc04 +
		`","sent":true,"outcome_unknown":false,"written":0}`
	if r.code != exitException || strings.TrimSpace(r.stdout) != want {
		t.Errorf("split, first part refused: exit %d, stdout\n%s\nwant\n%s", r.code, r.stdout, want)
	}
	s.SetFaults(simulator.FaultRule{Function: modbus.FuncWriteFileRecord, Action: simulator.FaultException, Exception: modbus.ServerDeviceBusy})
	r = runCLI(t, "-a", s.Addr, "-o", "json", "write-file-record", "4", "7", "1", "2")
	want = `{"function":"write-file-record","unit":1,"file":4,"record":7,"count":2,"error":"the device answered exception 06 server device busy","sent":true,"outcome_unknown":false}`
	if r.code != exitException || strings.TrimSpace(r.stdout) != want {
		t.Errorf("write-file-record: exit %d, stdout\n%s\nwant\n%s", r.code, r.stdout, want)
	}
}
