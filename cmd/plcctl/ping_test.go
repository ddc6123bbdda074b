package main

import (
	"encoding/csv"
	"strings"
	"testing"
)

// TestPingCSVSummary: ping -o csv ends with a summary row, as text and JSON
// end with a summary, in one table: every row has the header's fields, the
// request rows leave the summary's columns empty, and a lost request has no
// round trip (it printed 0.000, which a spreadsheet averages in). The
// summary went to the info log, so at the default level CSV had none.
func TestPingCSVSummary(t *testing.T) {
	s := startSim(t)
	closed := closedPort(t)
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		event    string
		summary  map[string]string
		emptyRTT bool
	}{
		{"answered", []string{"-a", s.Addr}, 0, "reply",
			map[string]string{"address": s.Addr, "unit": "1", "sent": "2", "answered": "2", "loss_pct": "0.0"}, false},
		{"nothing listens", []string{"-a", closed}, exitFailure, "lost",
			map[string]string{"address": closed, "unit": "1", "sent": "2", "answered": "0", "loss_pct": "100.0",
				"min_ms": "", "avg_ms": "", "max_ms": "", "p99_ms": ""}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, append(tc.args, "ping", "-c", "2", "--rate", "1000", "-o", "csv")...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, tc.code, r.stderr)
			}
			rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll() // refuses rows of another width
			if err != nil || len(rows) != 4 {
				t.Fatalf("stdout is not a header, 2 requests and a summary (%v):\n%s", err, r.stdout)
			}
			col := map[string]int{}
			for i, h := range rows[0] {
				col[h] = i
			}
			for _, row := range rows[1:3] {
				if row[col["event"]] != tc.event || (row[col["rtt_ms"]] == "") != tc.emptyRTT || row[col["sent"]] != "" {
					t.Errorf("request row %v: want event %s, rtt_ms empty %v, summary columns empty", row, tc.event, tc.emptyRTT)
				}
			}
			sum := rows[3]
			if sum[col["event"]] != "summary" || sum[col["seq"]] != "" {
				t.Errorf("last row %v: want event summary", sum)
			}
			for k, v := range tc.summary {
				if i, ok := col[k]; !ok || sum[i] != v {
					t.Errorf("summary column %s = %q, want %q (row %v)", k, sum[min(i, len(sum)-1)], v, sum)
				}
			}
			if tc.code == 0 && (sum[col["min_ms"]] == "" || sum[col["p99_ms"]] == "") {
				t.Errorf("summary %v: round trips measured, columns empty", sum)
			}
		})
	}
}
