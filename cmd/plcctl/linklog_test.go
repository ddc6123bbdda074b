package main

import (
	"strings"
	"testing"
	"time"

	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// TestOneShotLinkWarnings: a one-shot command that fails on a lost link
// prints its one sentence, which names the cause, and not the transport's
// "WRN link down" line before it (that said the same, twice with the
// default --retries 1). --log-level and --trace given by hand bring the
// warnings back, and a long-running command (watch) keeps them, since they
// are its only news of a link that dropped and came back.
func TestOneShotLinkWarnings(t *testing.T) {
	closeFIN := simulator.FaultRule{Action: simulator.FaultCloseFIN}
	tests := []struct {
		name  string
		rule  simulator.FaultRule
		args  []string
		code  int
		want  string // the whole of stderr after "plcctl: COMMAND on ADDR unit 1: ", or "" to check warn
		warns bool   // stderr has the "link down" warning
	}{
		{"read, device closes", closeFIN, []string{"read-holding-registers", "0"}, exitFailure,
			"the device closed the connection before answering anything; it may expect TLS (Modbus/TCP Security, port 802): " +
				"try --tls-ca FILE --tls-cert FILE --tls-key FILE; or, strict, it drops requests it cannot parse or will not take " +
				"from this client (see the frames with --trace)\n", false},
		{"write, device resets", simulator.FaultRule{Action: simulator.FaultCloseRST, Function: 6}, []string{"write-register", "0", "5"}, exitFailure,
			"the device reset the connection before answering anything; outcome unknown: the write was sent and may have been applied; " +
				"read the values back before writing again; the device may expect TLS (Modbus/TCP Security, port 802): " +
				"try --tls-ca FILE --tls-cert FILE --tls-key FILE\n", false},
		{"read, device restarts", simulator.FaultRule{Action: simulator.FaultReboot, For: 5 * time.Second}, []string{"read-holding-registers", "0", "-t", "300ms"}, exitFailure,
			"the device reset the connection and reconnecting was refused: nothing listens on ADDR (connection refused); " +
				"check that the device is on; it may be restarting\n", false},
		{"--log-level warn given", closeFIN, []string{"read-holding-registers", "0", "--log-level", "warn"}, exitFailure, "", true},
		{"--trace given", closeFIN, []string{"read-holding-registers", "0", "--trace"}, exitFailure, "", true},
		{"watch keeps them", simulator.FaultRule{Action: simulator.FaultCloseFIN, Count: 1},
			[]string{"watch", "--count", "1", "-o", "json", "read-holding-registers", "0"}, exitOK, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := simtest.Start(t, simulator.Config{})
			s.SetFaults(tc.rule)
			r := runCLI(t, append(tc.args, "-a", s.Addr)...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d", r.code, tc.code)
			}
			if warned := strings.Contains(r.stderr, "link down"); warned != tc.warns {
				t.Errorf("stderr has the link-down warning: %v, want %v:\n%s", warned, tc.warns, r.stderr)
			}
			if tc.want == "" {
				return
			}
			want := "plcctl: " + tc.args[0] + " 0 on " + s.Addr + " unit 1: " + strings.ReplaceAll(tc.want, "ADDR", s.Addr)
			if r.stderr != want {
				t.Errorf("stderr:\n%s\nwant only the sentence:\n%s", r.stderr, want)
			}
		})
	}
}
