package main

// Regression tests for problems found by driving plcctl the way a control
// engineer does on a live plant: each one failed before its fix.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/plc"
)

// runCtx runs plcctl in-process until it ends or ctx is cancelled.
func runCtx(ctx context.Context, args ...string) result {
	var out, errb syncBuffer
	code := run(ctx, args, &out, &errb)
	return result{out.String(), errb.String(), code}
}

// cancelAfter returns a ctx cancelled after d, as Ctrl-C would.
func cancelAfter(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	time.AfterFunc(d, cancel)
	return ctx
}

// noConnection fails if the silent listener accepted a connection.
func noConnection(t *testing.T, accepted chan net.Conn, what string) {
	t.Helper()
	select {
	case <-accepted:
		t.Errorf("%s connected to the device", what)
	case <-time.After(50 * time.Millisecond):
	}
}

// TestShellWatchCannotMoveTheConnection: a shell line may not change
// --address, --timeout or --retries, and that includes the flags of the
// read command a watch line repeats. They were accepted there, and a watch
// that was the first line to connect opened the shell's one connection to
// the other device: every later line, writes included, went to the wrong PLC.
func TestShellWatchCannotMoveTheConnection(t *testing.T) {
	mine, other := startSim(t), startSim(t)
	script := filepath.Join(t.TempDir(), "script.txt")
	os.WriteFile(script, []byte("watch --count 1 read-holding-registers 0 -a "+other.Addr+"\n"+
		"watch --count 1 read-holding-registers 0 --timeout 1ms\n"+
		"write-register 0 7\n"), 0o644)
	r := runCLI(t, "shell", script, "-a", mine.Addr)
	if r.code != exitUsage || strings.Count(r.stderr, "is fixed for the shell's connection") != 2 {
		t.Errorf("exit %d, want 2 with both watch lines refused; stderr:\n%s", r.code, r.stderr)
	}
	if got := other.HoldingRegisters(0, 1)[0]; got != 0 {
		t.Errorf("the write after the watch line reached the other device (register 0 = %d)", got)
	}
	if got := mine.HoldingRegisters(0, 1)[0]; got != 7 {
		t.Errorf("register 0 of the shell's device = %d, want 7", got)
	}
	if st := other.Stats(); st.Accepted != 0 {
		t.Errorf("the other device saw %d connections, want 0", st.Accepted)
	}
}

// TestPingRateRefused: rates whose interval is 0, negative or not a number
// made time.NewTicker panic (a crash, exit 2 with a goroutine dump).
func TestPingRateRefused(t *testing.T) {
	addr, accepted := silentListener(t)
	for _, rate := range []string{"Inf", "+Inf", "NaN", "1e12", "1e-12", "0", "-1"} {
		r := runCLI(t, "ping", "--count", "1", "--rate", rate, "-a", addr)
		if r.code != exitUsage || !strings.Contains(r.stderr, "--rate") || strings.Contains(r.stderr, "panic") {
			t.Errorf("ping --rate %s: exit %d, stderr:\n%s", rate, r.code, r.stderr)
		}
	}
	noConnection(t, accepted, "a refused ping")
	if r := runCLI(t, "ping", "--count", "2", "--rate", "1e9", "-a", startSim(t).Addr); r.code != 0 {
		t.Errorf("ping --rate 1e9: exit %d: %s", r.code, r.stderr)
	}
}

// TestIntegerFlagsAreDecimal: pflag's integer flags read a leading 0 as
// octal, so "-u 010" addressed unit 8 (a write to the wrong device behind a
// gateway) and "-u 08" was refused, while ADDR "010" is 10. Every integer
// flag now reads numbers as ADDR does: decimal, or 0x hex.
func TestIntegerFlagsAreDecimal(t *testing.T) {
	for _, tc := range []struct{ unit, frame string }{
		{"010", "00 01 00 00 00 06 0A 06 00 00 00 01\n"},
		{"08", "00 01 00 00 00 06 08 06 00 00 00 01\n"},
		{"0x10", "00 01 00 00 00 06 10 06 00 00 00 01\n"},
		{"255", "00 01 00 00 00 06 FF 06 00 00 00 01\n"},
	} {
		if out := mustRun(t, "-u", tc.unit, "write-register", "--dry-run", "0", "1"); out != tc.frame {
			t.Errorf("-u %s: frame %q, want %q", tc.unit, out, tc.frame)
		}
	}
	for _, bad := range []string{"256", "-1", "1.5", "0o7", ""} {
		if r := runCLI(t, "-u", bad, "write-register", "--dry-run", "0", "1"); r.code != exitUsage || !strings.Contains(r.stderr, "want a number 0..255") {
			t.Errorf("-u %q: exit %d, stderr %q", bad, r.code, r.stderr)
		}
	}
	s := startSim(t)
	var b benchResult
	if err := json.Unmarshal([]byte(mustRun(t, "bench", "--requests", "010", "-o", "json", "-a", s.Addr)), &b); err != nil || b.Requests != 10 {
		t.Errorf("bench --requests 010: %+v (%v), want 10 requests", b, err)
	}
	out := mustRun(t, "watch", "--count", "010", "--interval", "1ms", "-o", "json", "read-coils", "0", "-a", s.Addr)
	if n := strings.Count(out, "\n"); n != 10 {
		t.Errorf("watch --count 010: %d rounds, want 10", n)
	}
	if r := runCLI(t, "--retries", "-1", "read-coils", "0", "-a", s.Addr); r.code != exitUsage {
		t.Errorf("--retries -1: exit %d", r.code)
	}
}

// TestAddressChecked: an --address that cannot name one device was dialled
// as something else (":502" is this machine, "127.0.0.1:" port 0, "[::1" was
// quietly repaired) or failed as a connection error (exit 1) instead of a
// usage error (exit 2, nothing sent).
func TestAddressChecked(t *testing.T) {
	for _, bad := range []string{"", ":502", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:99999", "127.0.0.1:abc",
		"[::1", "127.0.0.1]", "[[::1]]:502", "x[::1]", "host:1:2", "http://127.0.0.1", "a b"} {
		r := runCLI(t, "-a", bad, "read-holding-registers", "0")
		if r.code != exitUsage || !strings.Contains(r.stderr, "--address") {
			t.Errorf("-a %q: exit %d, want 2; stderr %q", bad, r.code, r.stderr)
		}
	}
	for _, good := range []string{"127.0.0.1", "127.0.0.1:5020", "localhost", "plc-7.example.com:502",
		"::1", "[::1]", "[::1]:5020", "fe80::1%eth0", "[fe80::1%eth0]:502"} {
		if r := runCLI(t, "-a", good, "write-register", "--dry-run", "0", "1"); r.code != 0 {
			t.Errorf("-a %q: exit %d: %s", good, r.code, r.stderr)
		}
	}
	t.Setenv(addressEnv, "127.0.0.1:")
	if r := runCLI(t, "read-holding-registers", "0"); r.code != exitUsage || !strings.Contains(r.stderr, addressEnv) {
		t.Errorf("%s=127.0.0.1: exit %d, stderr %q", addressEnv, r.code, r.stderr)
	}
}

// txRequest matches a read request's address and quantity in a --trace frame.
var txRequest = regexp.MustCompile(`"tx":"[0-9a-f]{14}0[34]([0-9a-f]{4})([0-9a-f]{4})"`)

// TestReadNeverTearsValues: a read longer than one request was split at 125
// registers whatever the type, so a float32 at registers 124..125 came from
// two transactions: half of it from one moment of the PLC and half from the
// next. Each request now carries whole values.
func TestReadNeverTearsValues(t *testing.T) {
	s := startSim(t)
	var want []string
	var regs []uint16
	for i := range 100 {
		f := float32(i) + 0.5
		want = append(want, strconv.FormatFloat(float64(f), 'g', -1, 32))
		r, _ := plc.Encode(plc.Float32, plc.ABCD, f)
		regs = append(regs, r...)
	}
	s.SetHoldingRegisters(0, regs...)
	for _, tc := range []struct {
		typ   string
		count int
		width int
	}{{"float32", 63, 2}, {"float32", 100, 2}, {"uint64", 50, 4}, {"int32", 200, 2}, {"uint16", 300, 1}} {
		r := runCLI(t, "--trace", "--log-format", "json", "read-holding-registers", "0", strconv.Itoa(tc.count), "--type", tc.typ, "-o", "json", "-a", s.Addr)
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %s", tc, r.code, r.stderr)
		}
		total := 0
		for _, m := range txRequest.FindAllStringSubmatch(r.stderr, -1) {
			addr, _ := strconv.ParseUint(m[1], 16, 16)
			n, _ := strconv.ParseUint(m[2], 16, 16)
			if addr%uint64(tc.width) != 0 || n%uint64(tc.width) != 0 {
				t.Errorf("%s x%d: request for %d registers at %d splits a value", tc.typ, tc.count, n, addr)
			}
			total += int(n)
		}
		if total != tc.count*tc.width {
			t.Errorf("%s x%d: requests cover %d registers, want %d", tc.typ, tc.count, total, tc.count*tc.width)
		}
	}
	r := runCLI(t, "read-holding-registers", "0", "100", "--type", "float32", "-o", "csv", "-a", s.Addr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")[1:]
	for i, l := range lines {
		if l != fmt.Sprintf("%d,%s", 2*i, want[i]) {
			t.Fatalf("row %d = %q, want %d,%s", i, l, 2*i, want[i])
		}
	}
}

// TestLiveTableCountsWrappedRows: the live table moved the cursor back one
// row per line it printed, but its header is wider than an 80-column
// terminal (and error lines much wider): wrapped lines take more rows, so
// every redraw left rows of the previous table behind and the table crept
// down the screen.
func TestLiveTableCountsWrappedRows(t *testing.T) {
	defer func(f func(any) int) { terminalColumns = f }(terminalColumns)
	terminalColumns = func(any) int { return 40 }
	var out strings.Builder
	a := &app{stdout: &out}
	a.opts.address, a.opts.unit = "127.0.0.1:502", 1
	w := &watchState{op: &readOp{cmd: "read-holding-registers", addr: 10, n: 2, items: 2}, interval: time.Second}
	at := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	v := newBitValues("read-coils", 1, 10, []bool{true, false})
	w.round = 1
	a.watchTable(w, at, v, nil, false)
	header := "read-holding-registers 10..11  127.0.0.1:502 unit 1  every 1s  round 1  15:04:05"
	rows := (len(header)+39)/40 + 3 // the header wraps; "ok" and two values take a row each
	w.last, w.round = v, 2
	a.watchTable(w, at, nil, fmt.Errorf("%s", strings.Repeat("x", 100)), false)
	if !strings.Contains(out.String(), fmt.Sprintf("\x1b[%dA\r\x1b[J", rows)) {
		t.Errorf("second round does not go back %d rows:\n%q", rows, out.String())
	}
	errRows := (len("no answer (1 round): ")+100+39)/40 + (len(header)+39)/40 + 2
	a.watchTable(w, at, v, nil, true)
	if !strings.Contains(out.String(), fmt.Sprintf("\x1b[%dA\r\x1b[J", errRows)) {
		t.Errorf("third round does not go back over the %d rows of the error round:\n%q", errRows, out.String())
	}
	for _, tc := range []struct {
		text string
		rows int
	}{
		{"abc\n", 1}, {"\n", 1}, {strings.Repeat("a", 40) + "\n", 1}, {strings.Repeat("a", 41) + "\n", 2},
		{"\x1b[4A\r\x1b[J" + strings.Repeat("a", 40) + "\n", 1}, {"\x1b[7m" + strings.Repeat("é", 40) + "\x1b[0m\nx\n", 2},
	} {
		if got := screenRows(tc.text, 40); got != tc.rows {
			t.Errorf("screenRows(%q) = %d, want %d", tc.text, got, tc.rows)
		}
	}
}

// TestBenchRangeCheckedFirst: "bench 65535 2" connected, sent nothing that
// could succeed, printed a summary of errors and then exited 2.
func TestBenchRangeCheckedFirst(t *testing.T) {
	addr, accepted := silentListener(t)
	r := runCLI(t, "bench", "--requests", "3", "-a", addr, "65535", "2")
	if r.code != exitUsage || r.stdout != "" || !strings.Contains(r.stderr, "runs past the last address") {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	noConnection(t, accepted, "bench past the last address")
}

// TestInterruptAccounting: Ctrl-C during a request is the user's doing.
// bench counted the interrupted requests as errors of the device; ping
// forgot a request that had been sent and then said "no request sent".
func TestInterruptAccounting(t *testing.T) {
	addr, _ := silentListener(t)
	r := runCtx(cancelAfter(t, 200*time.Millisecond), "bench", "--requests", "5", "--in-flight", "2", "-t", "1s", "-o", "json", "-a", addr)
	var b benchResult
	if err := json.Unmarshal([]byte(r.stdout), &b); err != nil || b.Requests != 0 || b.Errors != 0 {
		t.Errorf("interrupted bench: %s (%v), want 0 requests and 0 errors", r.stdout, err)
	}
	if r.code != exitFailure || !strings.Contains(r.stderr, "interrupted before any answer") {
		t.Errorf("interrupted bench: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runCtx(cancelAfter(t, 200*time.Millisecond), "ping", "-t", "1s", "-o", "json", "-a", addr)
	var sum pingSummary
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Sent != 1 || sum.Answered != 0 || sum.LossPct != 100 {
		t.Errorf("interrupted ping: %s (%v), want 1 sent, 0 answered", r.stdout, err)
	}
	if r.code != exitFailure || strings.Contains(r.stderr, "no request sent") || !strings.Contains(r.stderr, "interrupted before any answer") {
		t.Errorf("interrupted ping: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestWatchJSONFailedRoundKeys: a failed round lacked "type" and
// "word_order", so the keys of one watch changed from round to round.
func TestWatchJSONFailedRoundKeys(t *testing.T) {
	args := []string{"watch", "--count", "1", "-o", "json", "read-holding-registers", "0", "2", "--type", "float32", "--word-order", "CDAB"}
	good := mustRun(t, append(args, "-a", startSim(t).Addr)...)
	bad := runCLI(t, append(args, "-a", closedPort(t))...)
	keys := func(line string) []string {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		var k []string
		for key := range m {
			if key != "error" {
				k = append(k, key)
			}
		}
		slices.Sort(k)
		return k
	}
	if g, b := keys(good), keys(bad.stdout); !slices.Equal(g, b) {
		t.Errorf("keys of a good round %v, of a failed round %v", g, b)
	}
	if !strings.Contains(bad.stdout, `"type":"float32","word_order":"CDAB","values":null,"error":`) {
		t.Errorf("failed round: %s", bad.stdout)
	}
}

// TestShellScriptInterrupted: Ctrl-C in a script ended it with exit 0, as
// if every line had run, and the lines after the interrupted one were
// silently skipped.
func TestShellScriptInterrupted(t *testing.T) {
	s := startSim(t)
	script := filepath.Join(t.TempDir(), "script.txt")
	os.WriteFile(script, []byte("write-register 0 1\nwatch --interval 10ms read-holding-registers 0\nwrite-register 0 2\n"), 0o644)
	r := runCtx(cancelAfter(t, 300*time.Millisecond), "shell", script, "-a", s.Addr)
	if r.code != exitFailure || !strings.Contains(r.stderr, "interrupted at line 2; the lines after it were not run") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	if got := s.HoldingRegisters(0, 1)[0]; got != 1 {
		t.Errorf("register 0 = %d: the line after the interrupted watch ran", got)
	}
}

// TestShellScriptNamesTheLine: a failing line of a long script was reported
// without its line number; a script saved with a UTF-8 byte order mark
// failed on line 1 with an unknown command.
func TestShellScriptNamesTheLine(t *testing.T) {
	s := startSim(t)
	script := filepath.Join(t.TempDir(), "script.txt")
	os.WriteFile(script, []byte("\uFEFFread-holding-registers 0\n# comment\n  read-holding-registers 99999  \nread-coils 0\n"), 0o644)
	r := runCLI(t, "shell", script, "-a", s.Addr)
	if r.code != exitUsage || r.stdout != "0  0\n0  0\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "plcctl shell: line 3 failed (exit 2): read-holding-registers 99999\n") || strings.Contains(r.stderr, "line 1") {
		t.Errorf("stderr %q", r.stderr)
	}
	// A long line is cut after maxLineShown runes (it was echoed whole).
	long := "read-holding-registers 0 1 " + strings.Repeat("x", 100000)
	os.WriteFile(script, []byte(long+"\n"), 0o644)
	r = runCLI(t, "shell", script, "-a", s.Addr)
	want := "plcctl shell: line 1 failed (exit 2): " + long[:maxLineShown] + "... (100027 bytes)\n"
	if r.code != exitUsage || !strings.HasSuffix(r.stderr, want) || len(r.stderr) > 1000 {
		t.Errorf("long line: exit %d, stderr (%d bytes) %.400q...; want it to end with the line cut", r.code, len(r.stderr), r.stderr)
	}
}

// TestShellStaleSignal: a signal that arrived while no command ran (a second
// Ctrl-C just after the first ended a watch, kill -INT at the prompt) stayed
// queued and cancelled the next command; a SIGTERM at the prompt did not end
// the shell until the next command, which it cancelled.
func TestShellStaleSignal(t *testing.T) {
	s := startSim(t)
	var out, errb bytes.Buffer
	a := &app{stdout: &out, stderr: &lockedWriter{w: &errb}, stdin: os.Stdin, log: zerolog.Nop()}
	defer a.close()
	a.inShell, a.shellOpts = true, a.defaults()
	a.shellOpts.address = s.Addr
	sigs := make(chan os.Signal, 1)
	sigs <- os.Interrupt
	if code, quit := a.interruptibleLine(context.Background(), sigs, "read-holding-registers 0", nil); code != 0 || quit || out.String() != "0  0\n" {
		t.Errorf("after a stale SIGINT: exit %d, quit %v, stdout %q, stderr %q", code, quit, out.String(), errb.String())
	}
	sigs <- syscall.SIGTERM
	if _, quit := a.interruptibleLine(context.Background(), sigs, "write-register 0 5", nil); !quit {
		t.Error("a SIGTERM received at the prompt did not end the shell")
	}
	if got := s.HoldingRegisters(0, 1)[0]; got != 0 {
		t.Errorf("the line entered after SIGTERM ran (register 0 = %d)", got)
	}
}

// TestMessages: error messages say what was wrong once, in plain words.
func TestMessages(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    string
		notWant string
	}{
		// the command name was repeated: "plcctl write-registers: write-registers 0: ..."
		{append([]string{"write-registers", "0", "--type", "float64"}, strings.Fields(strings.Repeat("1 ", 31))...),
			"plcctl write-registers: at 0..123: write multiple registers: quantity 124 out of range 1..123", "write-registers: write-registers"},
		{[]string{"write-file-record", "1", "9999", "1", "2"}, "plcctl write-file-record: at file 1 record 9999: write file record: group 1 records 9999+2 past the last record 9999", "write-file-record: write-file-record"},
		// an empty string was "quantity 0 out of range 1..123"
		{[]string{"write-registers", "0", "", "--type", "string"}, "empty string", "quantity 0"},
		{[]string{"read-holding-registers", "ref:30001"}, "names an input register", "a input"},
		{[]string{"read-holding-registers", "65535", "2"}, "(room for 1 value)", "1 values"},
		// --one-based numbers are 1..65536, not 0..65536
		{[]string{"--one-based", "read-holding-registers", "65537"}, "want a register number 1..65536", "0..65536"},
		{[]string{"raw", "200"}, "want 1..127", "exception response to function"},
		{[]string{"raw", "0"}, "want 1..127", ""},
	} {
		r := runCLI(t, append(tc.args, "-a", "127.0.0.1:1")...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) || tc.notWant != "" && strings.Contains(r.stderr, tc.notWant) {
			t.Errorf("plcctl %v: exit %d, stderr %q, want it to contain %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	if a, b := runCLI(t, "help", "help"), runCLI(t, "help"); a.code != 0 || a.stdout != b.stdout {
		t.Errorf("help help: exit %d, stderr %q", a.code, a.stderr)
	}
}
