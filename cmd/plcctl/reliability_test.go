package main

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
)

// TestWatchReconnectedOnlyOnNewLink: rounds that fail on a link that stays
// up (exceptions) end in a good round that is not "reconnected"; a round
// after the device closed the link is.
func TestWatchReconnectedOnlyOnNewLink(t *testing.T) {
	tests := []struct {
		name   string
		rule   simulator.FaultRule
		failed int  // rounds that fail
		relink bool // the good round after them is on a new connection
	}{
		{"exceptions, link kept", simulator.FaultRule{Function: modbus.FuncReadHoldingRegisters, After: 1, Count: 2,
			Action: simulator.FaultException, Exception: modbus.ServerDeviceBusy}, 2, false},
		{"closed by the device", simulator.FaultRule{Function: modbus.FuncReadHoldingRegisters, After: 1, Count: 1,
			Action: simulator.FaultCloseFIN}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSim(t)
			s.SetHoldingRegisters(10, 5)
			s.SetFaults(tt.rule)
			r := runCLI(t, "watch", "--interval", "5ms", "--count", "5", "-o", "json", "--retries", "0",
				"read-holding-registers", "10", "-a", s.Addr)
			var recs []watchLine
			for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
				var w watchLine
				if err := json.Unmarshal([]byte(l), &w); err != nil {
					t.Fatalf("%v: %s", err, l)
				}
				recs = append(recs, w)
			}
			if len(recs) != 5 {
				t.Fatalf("%d rounds:\n%s", len(recs), r.stdout)
			}
			for i, w := range recs {
				failed := i >= 1 && i <= tt.failed
				if (w.Error != "") != failed {
					t.Errorf("round %d: error %q, want failed %v", w.Round, w.Error, failed)
				}
				want := tt.relink && i == tt.failed+1
				if w.Reconnected != want {
					t.Errorf("round %d: reconnected %v, want %v\n%s", w.Round, w.Reconnected, want, r.stdout)
				}
			}
		})
	}
}

// TestWriteOutcomeJSON: a failed write in -o json prints one object saying
// whether it was sent and whether its outcome is unknown, besides the
// sentence on stderr: a dropped write (executed by the device, no answer)
// is "outcome unknown", a write to a device that is not there was not sent.
func TestWriteOutcomeJSON(t *testing.T) {
	s := startSim(t)
	s.SetFaults(simulator.FaultRule{Function: modbus.FuncWriteSingleRegister, Count: 1, Action: simulator.FaultDrop})
	silentAddr, _ := silentListener(t)
	closed := closedPort(t)
	tests := []struct {
		name          string
		addr          string
		sent, unknown bool
		sentence      string
	}{
		{"dropped", s.Addr, true, true, "outcome unknown: the write was sent and may have been applied"},
		// Not connected: not sent, said as for any failed write, with the
		// object too (stderr said nothing of it and stdout was empty, so
		// a program reading -o json had no outcome to read).
		{"nothing listens", closed, false, false, "nothing listens on " + closed + " (connection refused); the write was not sent"},
		{"no answer from a silent peer", silentAddr, true, true, "outcome unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, "write-register", "7", "42", "-t", "200ms", "-o", "json", "-a", tt.addr)
			if r.code != exitFailure || !strings.Contains(r.stderr, tt.sentence) {
				t.Errorf("exit %d, stderr:\n%s\nwant it to say %q", r.code, r.stderr, tt.sentence)
			}
			var rec struct {
				Function       string `json:"function"`
				Error          string `json:"error"`
				Sent           bool   `json:"sent"`
				OutcomeUnknown bool   `json:"outcome_unknown"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &rec); err != nil {
				t.Fatalf("stdout %q: %v", r.stdout, err)
			}
			if rec.Function != "write-register" || rec.Sent != tt.sent || rec.OutcomeUnknown != tt.unknown || rec.Error == "" {
				t.Errorf("stdout %s, want sent %v, outcome_unknown %v", r.stdout, tt.sent, tt.unknown)
			}
		})
	}
	if got := s.HoldingRegisters(7, 1)[0]; got != 42 {
		t.Errorf("the dropped write was not executed by the simulator (register 7 = %d): the test proves nothing", got)
	}
}

// TestBenchBounded: against a device that drops every answer, bench stops at
// --max-errors instead of waiting out every request, and says so.
func TestBenchBounded(t *testing.T) {
	s := startSim(t)
	s.SetFaults(simulator.FaultRule{Function: modbus.FuncReadHoldingRegisters, Action: simulator.FaultDrop})
	r := runCLI(t, "bench", "--requests", "1000", "--max-errors", "3", "-t", "50ms", "-o", "json", "-a", s.Addr)
	var res benchResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("stdout %q: %v", r.stdout, err)
	}
	if r.code != exitFailure || res.Stopped != "max-errors" || res.Requests != 3 || res.Errors != 3 {
		t.Errorf("exit %d, %s; want stopped at max-errors after 3 requests", r.code, r.stdout)
	}
	// Text says that no latency was measured, not "min 0.000 ... max
	// 0.000 ms", which read as an instant device.
	r = runCLI(t, "bench", "--requests", "1000", "--max-errors", "3", "-t", "50ms", "-a", s.Addr)
	if !strings.Contains(r.stdout, "latency     none: no request succeeded\n") || strings.Contains(r.stdout, "min 0.000") {
		t.Errorf("bench text with every request failed:\n%s", r.stdout)
	}
	// CSV carries what JSON does: it had no timeouts, exceptions, stopped
	// or unit column, so a CSV of this run said 3 errors and not why or
	// that the run stopped early.
	r = runCLI(t, "bench", "--requests", "1000", "--max-errors", "3", "-t", "50ms", "-o", "csv", "-u", "7", "-a", s.Addr)
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("bench -o csv: %q (%v), want a header and one row", r.stdout, err)
	}
	row := map[string]string{}
	for i, k := range rows[0] {
		row[k] = rows[1][i]
	}
	var keys map[string]any
	json.Unmarshal(mustJSONLine(t, res), &keys)
	for k := range keys {
		if _, ok := row[k]; !ok && k != "function" {
			t.Errorf("bench -o csv has no %s column, which -o json has; header %v", k, rows[0])
		}
	}
	if row["timeouts"] != "3" || row["stopped"] != "max-errors" || row["unit"] != "7" || row["errors"] != "3" {
		t.Errorf("bench -o csv row %v, want 3 timeouts, stopped max-errors, unit 7", row)
	}
	s.SetFaults()
	r = runCLI(t, "bench", "--requests", "100000000", "--duration", "100ms", "-a", s.Addr)
	if r.code != exitOK || !strings.Contains(r.stdout, "stopped     early, at --duration") {
		t.Errorf("exit %d, stdout:\n%s", r.code, r.stdout)
	}
}

// mustJSONLine is v as JSON.
func mustJSONLine(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBenchWriteWarns: bench --function write says on stderr that it
// writes the values read at the start back, over whatever the device or
// another client writes meanwhile; its help said "the device's data is
// unchanged", which holds only if nothing else writes them.
func TestBenchWriteWarns(t *testing.T) {
	s := startSim(t)
	r := runCLI(t, "bench", "--function", "write", "--requests", "3", "-o", "json", "-a", s.Addr, "10", "2")
	want := "bench: writing holding registers 10..11 back 3 times with the values read now: a value the device or another client changes meanwhile is overwritten"
	if r.code != 0 || !strings.Contains(r.stderr, want) {
		t.Errorf("exit %d, stderr %q, want %q", r.code, r.stderr, want)
	}
	if r := runCLI(t, "bench", "--requests", "3", "-a", s.Addr); strings.Contains(r.stderr, "overwritten") {
		t.Errorf("bench of reads warned of writes: %q", r.stderr)
	}
}
