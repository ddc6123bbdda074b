package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// fullWriter fails every write, as stdout on a full disk does.
type fullWriter struct{ writes int }

func (f *fullWriter) Write(p []byte) (int, error) {
	f.writes++
	return 0, errors.New("write /dev/stdout: no space left on device")
}

// TestStdoutWriteError: when stdout cannot be written, the commands that
// print round after round stop at the first round with one sentence and
// exit 1, and those that ignored a failed write (scan's table, help) exit 1
// too: watch and ping went on polling for nothing and exited 0, and a
// script saw success with no data written.
func TestStdoutWriteError(t *testing.T) {
	s := startSim(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"watch", "--count", "5", "--interval", "1ms", "read-coils", "0"}, "plcctl: watch stopped at round 1: its output cannot be written: write /dev/stdout: no space left on device\n"},
		{[]string{"watch", "--count", "5", "--interval", "1ms", "-o", "json", "read-coils", "0"}, "plcctl: watch stopped at round 1: its output cannot be written"},
		{[]string{"ping", "-c", "5", "--rate", "1000"}, "plcctl: ping stopped at seq 1: its output cannot be written: write /dev/stdout: no space left on device\n"},
		{[]string{"scan", "--units", "1"}, "plcctl: the output cannot be written: write /dev/stdout: no space left on device\n"},
		{[]string{"help"}, "plcctl: the output cannot be written: write /dev/stdout: no space left on device\n"},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			out := &fullWriter{}
			var errb bytes.Buffer
			code := run(context.Background(), append([]string{"-a", s.Addr}, tc.args...), out, &errb)
			if code != exitFailure || !strings.Contains(errb.String(), tc.want) || strings.Count(errb.String(), "plcctl: ") != 1 {
				t.Errorf("plcctl %v: exit %d, stderr %q; want exit 1 and the one sentence %q", tc.args, code, errb.String(), tc.want)
			}
			if out.writes > 2 { // ping's summary may try once more
				t.Errorf("plcctl %v wrote %d times to a stdout that failed", tc.args, out.writes)
			}
		})
	}
}

// TestShellStopsWhenStdoutFails: a script stops at the first line whose
// output cannot be written, before the lines after it (which may write to
// the device) are sent; it ran every line, each failing.
func TestShellStopsWhenStdoutFails(t *testing.T) {
	s := startSim(t)
	var errb bytes.Buffer
	a := &app{stdout: &outWriter{w: &fullWriter{}}, stderr: &errb, stdin: strings.NewReader("read-coils 0\nwrite-register 5 42\n")}
	code := a.dispatch(context.Background(), []string{"shell", "--history", "", "-a", s.Addr})
	a.close()
	want := "plcctl shell: stopped at line 1: the output cannot be written (write /dev/stdout: no space left on device); the lines after it were not run\n"
	if code != exitFailure || !strings.HasSuffix(errb.String(), want) {
		t.Errorf("exit %d, stderr %q, want it to end with %q", code, errb.String(), want)
	}
	if got := s.HoldingRegisters(5, 1)[0]; got != 0 {
		t.Errorf("register 5 = %d: the write after the line whose output failed was sent", got)
	}
}
