package main

import (
	"strings"
	"testing"
	"time"
)

// TestWatchInterruptedExitStatus: Ctrl-C ends a watch as --count does, so
// the last round shown decides the exit status (0 after good rounds, the
// round's error after failed ones), and Ctrl-C before the first round was
// answered is exit 1 with a sentence. Both ended in exit 0: a watch of a
// device that never answered, stopped with Ctrl-C, looked like a success.
func TestWatchInterruptedExitStatus(t *testing.T) {
	s := startSim(t)
	silent, _ := silentListener(t)
	closed := closedPort(t)
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"good rounds", []string{"-a", s.Addr, "read-holding-registers", "0"}, 0, ""},
		{"failed rounds", []string{"-a", closed, "read-holding-registers", "0"}, exitFailure,
			"plcctl: read-holding-registers 0 on " + closed + " unit 1: nothing listens on"},
		{"no round answered", []string{"-a", silent, "-t", "1s", "read-holding-registers", "0", "2"}, exitFailure,
			"plcctl: watch read-holding-registers 0..1 on " + silent + " unit 1: interrupted before the first round was answered"},
		{"tags, no round answered", []string{"-a", silent, "-t", "1s", "--plant", plantPath("pump-station"), "setpoint"}, exitFailure,
			"plcctl: watch setpoint on " + silent + " unit 1: interrupted before the first round was answered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCtx(cancelAfter(t, 200*time.Millisecond), append([]string{"watch", "--interval", "5ms"}, tc.args...)...)
			// (stderr may also hold the transport's "no FIN from peer"
			// warning: a library matter, reported, not the exit status)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) || tc.stderr == "" && strings.Contains(r.stderr, "plcctl: ") {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, tc.code, tc.stderr)
			}
		})
	}
}

// TestScanInterrupted: Ctrl-C ends a scan with exit 1 and a summary that
// says how many units were asked before it; it exited 0 and said "0 of 3
// unit ids answered" of units that were never asked.
func TestScanInterrupted(t *testing.T) {
	silent, _ := silentListener(t)
	r := runCtx(cancelAfter(t, 200*time.Millisecond), "scan", "--units", "1-3", "--unit-timeout", "1s", "-a", silent)
	want := "scan: interrupted after 0 of 3 unit ids: 0 answered at " + silent
	if r.code != exitFailure || !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "plcctl: ") {
		t.Errorf("exit %d, stderr %q; want exit 1 and %q, no second sentence", r.code, r.stderr, want)
	}
}
