package interop_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startPymodbus starts testdata/interop/pymodbus_server.py (Debian's
// python3-pymodbus 3.0) on a free 127.0.0.1 port and stops it in Cleanup.
// Its contents: holding i = i, input i = 10000+i, coil i = i%3==0,
// discrete i = i%2==1, 10000 items per table.
func startPymodbus(t *testing.T) string {
	t.Helper()
	py := needPeer(t, "/usr/bin/python3", "python3")
	if err := exec.Command(py, "-c", "import pymodbus, serial_asyncio").Run(); err != nil {
		if inCI() {
			t.Fatalf("pymodbus not importable by %s: install Debian packages python3-pymodbus python3-serial-asyncio: %v", py, err)
		}
		t.Skipf("pymodbus not importable: apt-get install python3-pymodbus python3-serial-asyncio")
	}
	cmd := exec.Command(py, filepath.Join(repoRoot(), "testdata", "interop", "pymodbus_server.py"), "--port", "0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "READY "); ok {
				ready <- a
			}
		}
		cmd.Wait()
		close(done)
	}()
	select {
	case addr := <-ready:
		if !strings.HasPrefix(addr, "127.0.0.1:") {
			t.Fatalf("pymodbus server not on loopback: %s", addr)
		}
		return addr
	case <-done:
		t.Fatalf("pymodbus server exited before READY:\n%s", stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("pymodbus server not READY after 30s:\n%s", stderr.String())
	}
	return ""
}

// TestPlcctlAgainstPymodbus runs every plcctl command pymodbus 3.0 supports
// against a pymodbus server and checks the values.
func TestPlcctlAgainstPymodbus(t *testing.T) {
	addr := startPymodbus(t)
	plcctl := filepath.Join(binaries(t), "plcctl")
	cli := func(t *testing.T, args ...string) result {
		t.Helper()
		return runPeer(t, 30*time.Second, plcctl, append([]string{"-a", addr, "-o", "json"}, args...)...)
	}
	cliIn := func(t *testing.T, stdin string, args ...string) result {
		t.Helper()
		return runPeerIn(t, 30*time.Second, stdin, plcctl, append([]string{"-a", addr, "-o", "json"}, args...)...)
	}
	values := func(t *testing.T, r result) any {
		t.Helper()
		var rec struct {
			Values any `json:"values"`
		}
		if err := json.Unmarshal([]byte(strings.TrimSpace(r.stdout)), &rec); err != nil {
			t.Fatalf("plcctl JSON %q: %v", r.stdout, err)
		}
		return rec.Values
	}
	seq := func(from, n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = float64(from + i)
		}
		return out
	}
	cases := []struct {
		name  string
		setup [][]string // commands that must succeed first
		args  []string
		code  int
		want  any // decoded "values", or a substring of stdout/stderr when a string
	}{
		{name: "read holding registers", args: []string{"read-holding-registers", "0", "5"}, want: seq(0, 5)},
		{name: "read holding registers split over 3 requests", args: []string{"read-holding-registers", "1000", "300"}, want: seq(1000, 300)},
		{name: "read input registers", args: []string{"read-input-registers", "0", "3"}, want: seq(10000, 3)},
		{name: "read coils", args: []string{"read-coils", "0", "6"}, want: []any{true, false, false, true, false, false}},
		{name: "read discrete inputs", args: []string{"read-discrete-inputs", "0", "4"}, want: []any{false, true, false, true}},
		{name: "write register", setup: [][]string{{"write-register", "100", "4242"}},
			args: []string{"read-holding-registers", "100"}, want: []any{4242.0}},
		{name: "write registers", setup: [][]string{{"write-registers", "110", "1", "2", "3"}},
			args: []string{"read-holding-registers", "110", "3"}, want: []any{1.0, 2.0, 3.0}},
		{name: "float32 CDAB round trip", setup: [][]string{{"write-registers", "--type", "float32", "--word-order", "CDAB", "120", "123.456"}},
			args: []string{"read-holding-registers", "120", "2"}, want: []any{float64(0xE979), float64(0x42F6)}},
		{name: "int32 ABCD read", setup: [][]string{{"write-registers", "130", "0x075B", "0xCD15"}},
			args: []string{"read-holding-registers", "--type", "int32", "130"}, want: []any{123456789.0}},
		{name: "write coil", setup: [][]string{{"write-coil", "31", "on"}},
			args: []string{"read-coils", "31"}, want: []any{true}},
		{name: "write coils", setup: [][]string{{"write-coils", "40", "1", "1", "0", "1"}},
			args: []string{"read-coils", "40", "4"}, want: []any{true, true, false, true}},
		{name: "mask write register", setup: [][]string{{"write-register", "140", "0x12"}, {"mask-write-register", "140", "0xF2", "0x25"}},
			args: []string{"read-holding-registers", "140"}, want: []any{float64(0x17)}},
		{name: "read/write registers", args: []string{"read-write-registers", "150", "2", "150", "77", "78"}, want: []any{77.0, 78.0}},
		{name: "read fifo (empty queue)", args: []string{"read-fifo", "0"}, want: []any{}},
		// pymodbus 3.0 echoes FC 21 but stores nothing (testdata/interop/README.md),
		// so only the echo, which plcctl checks byte for byte, can be verified.
		{name: "write file record", args: []string{"write-file-record", "1", "0", "5", "6"}, want: `"function":"write-file-record"`},
		{name: "shell script over one connection", args: []string{"shell", "--stop-on-error", "testdata:shell"}, want: `"values":[321]`},
		{name: "read device id", args: []string{"read-device-id"}, want: `"value":"plcctl-interop"`},
		{name: "raw FC 3", args: []string{"raw", "0x03", "00000002"}, want: "03 04 00 00 00 01"},
		{name: "watch", args: []string{"watch", "--count", "3", "--interval", "20ms", "read-holding-registers", "0", "2"}, want: `"round":3`},
		{name: "ping", args: []string{"ping", "--count", "3", "--rate", "50"}, want: `"answered":3`},
		{name: "bench", args: []string{"bench", "--requests", "500", "--in-flight", "4"}, want: `"errors":0`},
		{name: "exception past the table", args: []string{"read-holding-registers", "9999", "2"}, code: 3,
			want: "read-holding-registers 9999..10000 on " + addr + " unit 1: the device answered exception 02 illegal data address"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, s := range tc.setup {
				if r := cli(t, s...); r.code != 0 {
					t.Fatalf("setup plcctl %v: exit %d\n%s", s, r.code, r.stderr)
				}
			}
			args := tc.args
			var stdin string
			if args[len(args)-1] == "testdata:shell" {
				args = args[:len(args)-1]
				stdin = "write-register 160 321\nread-holding-registers 160\n"
			}
			r := cliIn(t, stdin, args...)
			if r.code != tc.code {
				t.Fatalf("plcctl %v: exit %d, want %d\nstdout: %s\nstderr: %s", tc.args, r.code, tc.code, r.stdout, r.stderr)
			}
			if s, ok := tc.want.(string); ok {
				if !strings.Contains(r.stdout+r.stderr, s) {
					t.Fatalf("plcctl %v output lacks %q\nstdout: %s\nstderr: %s", tc.args, s, r.stdout, r.stderr)
				}
				return
			}
			if got := values(t, r); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("plcctl %v values = %v, want %v", tc.args, got, tc.want)
			}
		})
	}
	// pymodbus 3.0 answers FC 20 for a file it does not have with "14 00"
	// (no groups) instead of exception 02 [AP §6.14]; plcctl refuses the
	// malformed answer with a clear error and exit 1. See README.
	t.Run("read file record: pymodbus answers no groups", func(t *testing.T) {
		r := cli(t, "read-file-record", "1", "0", "2")
		if r.code != 1 || !strings.Contains(r.stderr, "response ends before group 1") {
			t.Fatalf("exit %d, stderr %s; if pymodbus now answers FC 20 properly, check its values here", r.code, r.stderr)
		}
	})
}

func tempBinDir() (string, error) { return os.MkdirTemp("", "plcctl-interop-bin-") }

// TestPymodbusSplitRequest pins the peer quirk that makes "one write per
// ADU" matter in practice: pymodbus 3.0 drops the connection when a request
// arrives in two TCP segments, while the same request in one write is
// answered. plcctl and transport always send an ADU in one write
// (transport's TestOneWritePerADU), so they talk to it fine (the suite above).
func TestPymodbusSplitRequest(t *testing.T) {
	addr := startPymodbus(t)
	req := []byte{0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x05, 0x00, 0x01}
	want := []byte{0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x01, 0x03, 0x02, 0x00, 0x05}

	one, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	one.Write(req)
	got := make([]byte, len(want))
	one.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(one, got); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("one write: % X, %v; want % X", got, err, want)
	}

	split, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer split.Close()
	split.(*net.TCPConn).SetNoDelay(true)
	split.Write(req[:7])
	time.Sleep(50 * time.Millisecond) // make the two halves separate segments
	split.Write(req[7:])
	split.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := io.ReadFull(split, got)
	if err == nil {
		t.Skipf("pymodbus answered a split request (% X): the quirk is fixed in this version", got[:n])
	}
	if n != 0 || !(errors.Is(err, io.EOF) || isReset(err)) {
		t.Fatalf("split request: read %d bytes, %v; want the connection closed", n, err)
	}
}
