package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/plcctl/plcctl/internal/testutil"
)

type watchLine struct {
	Time        string  `json:"time"`
	Round       int     `json:"round"`
	Function    string  `json:"function"`
	Address     int     `json:"address"`
	Values      []int64 `json:"values"`
	Error       string  `json:"error"`
	Reconnected bool    `json:"reconnected"`
}

func TestWatchJSON(t *testing.T) {
	s := startSim(t)
	s.SetHoldingRegisters(10, 5, 6)
	out := mustRun(t, "watch", "--interval", "10ms", "--count", "3", "-o", "json", "read-holding-registers", "10", "2", "-a", s.Addr)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("watch --count 3 printed %d lines:\n%s", len(lines), out)
	}
	for i, l := range lines {
		var w watchLine
		if err := json.Unmarshal([]byte(l), &w); err != nil {
			t.Fatal(err)
		}
		if w.Round != i+1 || w.Function != "read-holding-registers" || w.Address != 10 || len(w.Values) != 2 || w.Values[1] != 6 {
			t.Errorf("line %d = %s", i, l)
		}
		if _, err := time.Parse(timeLayout, w.Time); err != nil {
			t.Errorf("line %d time: %v", i, err)
		}
	}
	if st := s.Stats(); st.Accepted != 1 {
		t.Errorf("watch made %d connections, want 1", st.Accepted)
	}
}

func TestWatchTextAndCSV(t *testing.T) {
	s := startSim(t)
	s.SetCoils(0, true, false)
	out := mustRun(t, "poll", "--interval", "1ms", "--count", "2", "read-coils", "0", "2", "-a", s.Addr)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasSuffix(lines[0], "  0  1") || !strings.HasSuffix(lines[3], "  1  0") {
		t.Errorf("watch text piped:\n%s", out)
	}
	out = mustRun(t, "watch", "--interval", "1ms", "--count", "2", "-o", "csv", "read-coils", "0", "2", "-a", s.Addr)
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 || lines[0] != "time,round,address,value,error" || !strings.HasSuffix(lines[4], ",2,1,0,") {
		t.Errorf("watch csv:\n%s", out)
	}
}

type syncBuffer = testutil.SyncBuffer

// TestWatchSurvivesRestart: the simulator restarts mid-watch; watch keeps
// its one Conn, which reconnects, and marks the gap.
func TestWatchSurvivesRestart(t *testing.T) {
	s := startSim(t)
	s.SetHoldingRegisters(0, 42)
	pr, pw := io.Pipe()
	var errb syncBuffer
	done := make(chan int, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		done <- run(ctx, []string{"watch", "--interval", "20ms", "--count", "30", "-o", "json",
			"read-holding-registers", "0", "-a", s.Addr, "--timeout", "500ms"}, pw, &errb)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var recs []watchLine
	restarted := false
	for sc.Scan() {
		var w watchLine
		if err := json.Unmarshal(sc.Bytes(), &w); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		recs = append(recs, w)
		if len(recs) == 3 && !restarted {
			s.Restart(t)
			restarted = true
		}
	}
	var code int
	select {
	case code = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("watch did not finish")
	}
	if code != 0 {
		t.Fatalf("watch exit %d, stderr:\n%s", code, errb.String())
	}
	if len(recs) != 30 {
		t.Fatalf("got %d rounds, want 30", len(recs))
	}
	gap := false
	for _, r := range recs[3:] {
		gap = gap || r.Reconnected
	}
	if !gap {
		t.Errorf("no round after the restart is marked reconnected: %+v", recs)
	}
	if last := recs[len(recs)-1]; last.Error != "" || len(last.Values) != 1 || last.Values[0] != 42 {
		t.Errorf("last round %+v, want the value read again", last)
	}
}

// TestWatchDownThenUp: the device is down for a while; failed rounds carry
// the error, then the link comes back and the gap is marked.
func TestWatchDownThenUp(t *testing.T) {
	s := startSim(t)
	s.SetHoldingRegisters(0, 7)
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"watch", "--interval", "20ms", "--count", "40",
			"read-holding-registers", "0", "-a", s.Addr, "--timeout", "100ms"}, &out, &errb)
	}()
	waitFor(t, func() bool { return strings.Count(out.String(), "\n") >= 2 })
	s.Stop(t)
	waitFor(t, func() bool { return strings.Contains(out.String(), "failed") })
	s.Restart(t) // serve again on the same port
	code := <-done
	text := out.String()
	if code != 0 || !strings.Contains(text, "# ") || !regexp.MustCompile(`\d+ rounds? lost`).MatchString(text) {
		t.Errorf("exit %d, output:\n%s\nstderr:\n%s", code, text, errb.String())
	}
	if !strings.HasSuffix(text, "  0  7\n") {
		t.Errorf("last line is not a value:\n%s", text)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	testutil.WaitFor(t, 10*time.Second, "the condition", cond)
}

func TestPing(t *testing.T) {
	s := startSim(t)
	out := mustRun(t, "ping", "--count", "3", "--rate", "200", "-o", "json", "-a", s.Addr)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("ping --count 3 printed:\n%s", out)
	}
	var sum pingSummary
	if err := json.Unmarshal([]byte(lines[3]), &sum); err != nil || sum.Event != "summary" || sum.Sent != 3 || sum.Answered != 3 || sum.LossPct != 0 {
		t.Errorf("summary %s (%v)", lines[3], err)
	}
	// -c is --count, as in ping(8) (it was "unknown shorthand flag: 'c'").
	for _, args := range [][]string{{"ping", "-c", "2"}, {"ping", "-c2"}, {"-c", "2", "ping"}} {
		out := mustRun(t, append(args, "--rate", "200", "-o", "json", "-a", s.Addr)...)
		if n := strings.Count(out, `"event":"reply"`); n != 2 || !strings.Contains(out, `"event":"summary"`) {
			t.Errorf("plcctl %v: %d replies, want 2:\n%s", args, n, out)
		}
	}
	if help := mustRun(t, "ping", "--help"); !strings.Contains(help, "  -c, --count N ") {
		t.Errorf("ping --help does not show -c for --count:\n%s", help)
	}
	// An exception answer is an answer: the device is alive.
	out = mustRun(t, "ping", "--count", "2", "--rate", "200", "-a", s.Addr, "5000")
	if !strings.Contains(out, "exception 02") || !strings.Contains(out, "2 sent, 2 answered, 0.0% loss") ||
		!strings.Contains(out, "round-trip min/avg/max/p99 = ") {
		t.Errorf("ping text:\n%s", out)
	}
	r := runCLI(t, "ping", "--count", "2", "--rate", "200", "-a", closedPort(t))
	if r.code != 1 || !strings.Contains(r.stdout, "2 sent, 0 answered, 100.0% loss") {
		t.Errorf("ping of a closed port: exit %d, stdout:\n%s", r.code, r.stdout)
	}
}

func TestBench(t *testing.T) {
	s := startSim(t)
	for _, fn := range []string{"read", "write"} {
		out := mustRun(t, "bench", "--requests", "200", "--in-flight", "4", "--function", fn, "-o", "json", "-a", s.Addr, "10", "5")
		var r benchResult
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if r.Requests != 200 || r.Errors != 0 || r.InFlight != 4 || r.RequestsPerS <= 0 || r.P99Ms < r.P50Ms || r.MaxMs < r.P99Ms {
			t.Errorf("bench --function %s: %s", fn, out)
		}
	}
	out := mustRun(t, "bench", "--requests", "20", "-a", s.Addr)
	if !strings.Contains(out, "throughput") || !strings.Contains(out, "errors      0") {
		t.Errorf("bench text:\n%s", out)
	}
}

// TestBenchFlags: -n is --requests (ab(1)'s spelling; it was "unknown
// shorthand flag: 'n'"), anywhere on the line, and a bad count names the
// one flag and value that are wrong (it was "--requests must be at least 1
// and --in-flight 1..16" for either).
func TestBenchFlags(t *testing.T) {
	s := startSim(t)
	for _, args := range [][]string{
		{"bench", "-n", "7"},
		{"bench", "-n7"},
		{"-n", "7", "bench"},
		{"bench", "10", "2", "-n", "7"},
		{"bench", "--requests", "7"},
	} {
		out := mustRun(t, append(args, "-o", "json", "-a", s.Addr)...)
		var r benchResult
		if err := json.Unmarshal([]byte(out), &r); err != nil || r.Requests != 7 || r.Errors != 0 {
			t.Errorf("plcctl %v: %s (%v), want 7 requests without errors", args, out, err)
		}
	}
	if help := mustRun(t, "bench", "--help"); !strings.Contains(help, "  -n, --requests N ") {
		t.Errorf("bench --help does not show -n for --requests:\n%s", help)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--requests", "0"}, "--requests 0: want at least 1"},
		{[]string{"-n", "0"}, "--requests 0: want at least 1"},
		{[]string{"--in-flight", "0"}, "--in-flight 0: want 1..16"},
		{[]string{"--in-flight", "17"}, "--in-flight 17: want 1..16"},
		{[]string{"--duration", "-1s"}, "--duration -1s: want 0 (no limit) or more"},
	} {
		r := runCLI(t, append([]string{"bench", "-a", s.Addr}, tc.args...)...)
		first, _, _ := strings.Cut(r.stderr, "\n")
		if want := "plcctl bench: " + tc.want; r.code != exitUsage || r.stdout != "" || first != want {
			t.Errorf("plcctl bench %v: exit %d, stdout %q, first line %q; want exit 2 and %q", tc.args, r.code, r.stdout, first, want)
		}
	}
}

func TestShellScript(t *testing.T) {
	s := startSim(t)
	script := filepath.Join(t.TempDir(), "script.txt")
	os.WriteFile(script, []byte(`# commissioning
write-register 0 42
read-holding-registers 0 2
write-registers 10 'PLC 01' --type string
read-holding-registers 10 3 --type string -o json
read-coils 5000      # exception 02
-u 7 read-holding-registers 0
help read-coils
exit
read-holding-registers 0
`), 0o644)
	r := runCLI(t, "shell", script, "-a", s.Addr)
	if r.code != exitException {
		t.Errorf("shell exit %d, want 3 (the failed read-coils); stderr:\n%s", r.code, r.stderr)
	}
	want := "wrote 1 register at 0\n0  42\n1  0\nwrote 3 registers at 10..12\n" +
		`{"function":"read-holding-registers","unit":1,"address":10,"count":3,"type":"string","values":["PLC 01"]}` + "\n" +
		`0  42` + "\n"
	if !strings.HasPrefix(r.stdout, want) || !strings.Contains(r.stdout, "Usage: plcctl read-coils") {
		t.Errorf("shell stdout:\n%s\nwant prefix:\n%s", r.stdout, want)
	}
	if strings.Count(r.stdout, "0  42") != 2 {
		t.Errorf("the line after exit ran")
	}
	if !strings.Contains(r.stderr, "read-coils 5000 on "+s.Addr+" unit 1: the device answered exception 02 illegal data address") {
		t.Errorf("shell stderr: %s", r.stderr)
	}
	if st := s.Stats(); st.Accepted != 1 {
		t.Errorf("the shell made %d connections, want 1", st.Accepted)
	}
}

// TestShellTracePerLine: --trace on one line shows that line's frames
// although the connection was opened by an earlier line.
func TestShellTracePerLine(t *testing.T) {
	s := startSim(t)
	script := filepath.Join(t.TempDir(), "script.txt")
	os.WriteFile(script, []byte("read-holding-registers 1\n--trace read-holding-registers 2\nread-holding-registers 3\n"), 0o644)
	r := runCLI(t, "shell", script, "-a", s.Addr, "--log-format", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "0103000200") || strings.Contains(r.stderr, "0103000100") || strings.Contains(r.stderr, "0103000300") {
		t.Errorf("want the frames of line 2 only:\n%s", r.stderr)
	}
}

func TestShellStopOnError(t *testing.T) {
	s := startSim(t)
	script := filepath.Join(t.TempDir(), "script.txt")
	os.WriteFile(script, []byte("read-holding-registers 0 -o bogus\nwrite-register 0 1\n"), 0o644)
	r := runCLI(t, "shell", "--stop-on-error", script, "-a", s.Addr)
	if r.code != exitUsage || r.stdout != "" {
		t.Errorf("exit %d, stdout %q", r.code, r.stdout)
	}
	// It says that the script stopped there: the report read like that of
	// one line that failed among others that ran.
	if want := "plcctl shell: line 1 failed (exit 2): read-holding-registers 0 -o bogus; --stop-on-error: the lines after it were not run\n"; !strings.HasSuffix(r.stderr, want) {
		t.Errorf("stderr %q, want it to end with %q", r.stderr, want)
	}
	os.WriteFile(script, []byte("write-register 0 1\nread-holding-registers 0 -o bogus\n"), 0o644)
	if r := runCLI(t, "shell", "--stop-on-error", script, "-a", s.Addr); r.code != exitUsage || !strings.HasSuffix(r.stderr, "-o bogus\n") {
		t.Errorf("the last line failed: exit %d, stderr %q; no lines after it to speak of", r.code, r.stderr)
	}
	os.WriteFile(script, []byte("read-holding-registers 0 -o bogus\nwrite-register 0 1\n"), 0o644)
	r = runCLI(t, "shell", script, "-a", s.Addr)
	if r.code != exitUsage || r.stdout != "wrote 1 register at 0\n" {
		t.Errorf("without --stop-on-error: exit %d, stdout %q", r.code, r.stdout)
	}
	os.WriteFile(script, []byte("read-holding-registers 0 --timeout 5s\n"), 0o644)
	if r := runCLI(t, "shell", script, "-a", s.Addr); r.code != exitUsage || !strings.Contains(r.stderr, "fixed for the shell") {
		t.Errorf("per-line --timeout: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestShellScriptFile: a script that cannot be read is a usage error naming
// it, with nothing sent: a directory was "shell on ADDR unit 1: read DIR: is
// a directory", exit 1, as if the device had failed.
func TestShellScriptFile(t *testing.T) {
	s := startSim(t)
	dir := t.TempDir()
	for _, tc := range []struct{ name, file, want string }{
		{"a directory", dir, "plcctl shell: script " + dir + " is a directory, not a file of commands\n"},
		{"no such file", filepath.Join(dir, "none.txt"), "plcctl shell: script " + filepath.Join(dir, "none.txt") + ": no such file or directory\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, "shell", tc.file, "-a", s.Addr)
			if r.code != exitUsage || r.stdout != "" || !strings.HasPrefix(r.stderr, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit 2 and stderr starting:\n%s", r.code, r.stdout, r.stderr, tc.want)
			}
		})
	}
	if st := s.Stats(); st.Accepted != 0 {
		t.Errorf("%d connections, want none", st.Accepted)
	}
}

// TestWatchLiveTable checks the terminal rendering: redraw in place,
// changed values highlighted, stale values dimmed during a gap.
func TestWatchLiveTable(t *testing.T) {
	var out strings.Builder
	a := &app{stdout: &out}
	a.opts.address, a.opts.unit = "127.0.0.1:502", 1
	w := &watchState{op: &readOp{cmd: "read-holding-registers", addr: 10, n: 2, items: 2}, interval: time.Second}
	at := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	v1 := newBitValues("read-coils", 1, 10, []bool{true, false})
	v2 := newBitValues("read-coils", 1, 10, []bool{true, true})
	w.round = 1
	a.watchTable(w, at, v1, nil, false)
	w.last, w.round = v1, 2
	a.watchTable(w, at, v2, nil, false)
	w.last, w.round = v2, 3
	a.watchTable(w, at, nil, io.ErrUnexpectedEOF, false)
	got := out.String()
	for _, want := range []string{
		"read-holding-registers 10..11  127.0.0.1:502 unit 1  every 1s  round 1  15:04:05\nok\n10  1\n11  0\n",
		"\x1b[4A\r\x1b[J",     // back over the 4 lines of round 1
		"11  \x1b[7m1\x1b[0m", // changed value highlighted
		"no answer (1 round): unexpected EOF",
		"10  \x1b[2m1\x1b[0m", // stale during the gap
	} {
		if !strings.Contains(got, want) {
			t.Errorf("live table lacks %q:\n%q", want, got)
		}
	}
}

// TestGapText: the line that ends a gap counts the rounds lost in good
// English and says whether the link was re-established.
func TestGapText(t *testing.T) {
	start := time.Date(2026, 12, 4, 10, 0, 1, 0, time.UTC)
	end := start.Add(4 * time.Second)
	for _, tt := range []struct {
		failed   int
		relinked bool
		want     string
	}{
		{0, true, "link re-established at 10:00:05 (no round lost)"},
		{1, false, "gap 10:00:01..10:00:05, 1 round lost"},
		{1, true, "gap 10:00:01..10:00:05, 1 round lost, link re-established"},
		{4, true, "gap 10:00:01..10:00:05, 4 rounds lost, link re-established"},
	} {
		w := &watchState{failed: tt.failed, relinked: tt.relinked, gapStart: start}
		if got := gapText(w, end); got != tt.want {
			t.Errorf("failed %d, relinked %v: %q, want %q", tt.failed, tt.relinked, got, tt.want)
		}
	}
}
