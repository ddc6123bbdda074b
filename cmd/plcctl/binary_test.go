package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinaries builds plcctl and plcsim into a temporary directory.
func buildBinaries(t *testing.T) (plcctl, plcsim string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds binaries")
	}
	dir := t.TempDir()
	for _, name := range []string{"plcctl", "plcsim"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), "./cmd/"+name)
		cmd.Dir = filepath.Join("..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build ./cmd/%s: %v\n%s", name, err, out)
		}
	}
	return filepath.Join(dir, "plcctl"), filepath.Join(dir, "plcsim")
}

// spawnPlcsim starts the plcsim binary on a free loopback port and returns
// its address from the readiness line; it is stopped with SIGINT, which
// must end it with exit 0.
func spawnPlcsim(t *testing.T, bin string, args ...string) string {
	t.Helper()
	return spawnPlcsimArgs(t, bin, append([]string{"--listen", "127.0.0.1:0"}, args...)...)
}

// spawnPlcsimArgs is spawnPlcsim with no --listen of its own: plcsim
// listens where args (or the plant file) say.
func spawnPlcsimArgs(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--log-format", "json"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var rec struct{ Message, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Message == "plcsim ready" {
				addrc <- rec.Addr
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("plcsim exit: %v", err)
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Error("plcsim did not stop on SIGINT")
		}
	})
	select {
	case addr := <-addrc:
		return addr
	case <-time.After(10 * time.Second):
		t.Fatal("plcsim printed no readiness line")
		return ""
	}
}

// runBinary runs the plcctl binary with stdin and returns stdout, stderr
// and the exit code.
func runBinary(t *testing.T, bin, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// TestBinaryAgainstPlcsim builds both binaries and runs the tour a new user
// would: write and read back, coils, a float32 round trip, watch, a script
// on stdin, and every exit code.
func TestBinaryAgainstPlcsim(t *testing.T) {
	plcctl, plcsim := buildBinaries(t)
	addr := spawnPlcsim(t, plcsim, "--holding-registers", "1000")
	steps := []struct {
		args   []string
		stdin  string
		code   int
		stdout string // exact, or "~substring"
		stderr string // substring
	}{
		{[]string{"write-register", "100", "42"}, "", 0, "wrote 1 register at 100\n", ""},
		{[]string{"read-holding-registers", "100", "2"}, "", 0, "100  42\n101  0\n", ""},
		{[]string{"-o", "json", "read-holding-registers", "100", "2"}, "", 0,
			`{"function":"read-holding-registers","unit":1,"address":100,"count":2,"type":"uint16","values":[42,0]}` + "\n", ""},
		{[]string{"write-coils", "0", "1011"}, "", 0, "wrote 4 coils at 0..3\n", ""},
		{[]string{"read-coils", "0", "4", "-o", "csv"}, "", 0, "address,value\n0,1\n1,0\n2,1\n3,1\n", ""},
		{[]string{"write-registers", "200", "123.456", "--type", "float32", "--word-order", "CDAB"}, "", 0, "~wrote 2 registers", ""},
		{[]string{"read-holding-registers", "200", "2", "--type", "hex"}, "", 0, "200  0xE979\n201  0x42F6\n", ""},
		{[]string{"read-holding-registers", "200", "--type", "float32", "--word-order", "CDAB"}, "", 0, "200  123.456\n", ""},
		{[]string{"watch", "--count", "2", "--interval", "10ms", "read-holding-registers", "100"}, "", 0, "~  100  42\n", ""},
		{[]string{"shell"}, "write-register 5 7\nread-holding-registers 5\n", 0, "wrote 1 register at 5\n5  7\n", ""},
		{[]string{"--trace", "--log-format", "json", "read-holding-registers", "5"}, "", 0, "5  7\n", `"tx":"`},
		{[]string{"read-holding-registers", "995", "10"}, "", 3, "", "unit 1: the device answered exception 02 illegal data address"},
		{[]string{"write-register", "100", "70000"}, "", 2, "", "VALUE 70000 is out of range for a register (0..65535)"},
		{[]string{"read-holding-registers", "0", "-a", closedPort(t)}, "", 1, "", "connection refused"},
		{[]string{"help", "read-coils"}, "", 0, "~Exit codes:", ""},
	}
	for _, st := range steps {
		args := st.args
		if !strings.Contains(strings.Join(args, " "), " -a ") {
			args = append(args, "-a", addr)
		}
		r := runBinary(t, plcctl, st.stdin, args...)
		ok := r.code == st.code && strings.Contains(r.stderr, st.stderr)
		if want, sub := strings.CutPrefix(st.stdout, "~"); sub {
			ok = ok && strings.Contains(r.stdout, want)
		} else {
			ok = ok && r.stdout == st.stdout
		}
		if !ok {
			t.Errorf("plcctl %s: exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, st.code, r.stdout, r.stderr)
		}
	}
}

// TestBinaryInterrupt: SIGINT ends a watch cleanly with exit 0.
func TestBinaryInterrupt(t *testing.T) {
	plcctl, plcsim := buildBinaries(t)
	addr := spawnPlcsim(t, plcsim)
	cmd := exec.Command(plcctl, "watch", "--interval", "10ms", "read-holding-registers", "0", "-a", addr)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(out)
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(os.Interrupt)
	go io.Copy(io.Discard, br)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("watch after SIGINT: %v, want exit 0", err)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("watch did not stop on SIGINT")
	}
}

// inTerminal runs plcctl under script(1), which gives it a pseudo-terminal
// on stdin, stdout and stderr, and returns everything the terminal showed.
// script is in bsdutils, which every Debian system has.
func inTerminal(t *testing.T, stdin string, argv ...string) string {
	t.Helper()
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) not found: apt-get install bsdutils")
	}
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	cmd := exec.Command(script, "-qefc", strings.Join(quoted, " "), "/dev/null")
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), "TERM=xterm", "COLUMNS=100", "LINES=40")
	done := make(chan struct{})
	var out []byte
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("plcctl under a terminal did not finish:\n%s", out)
	}
	if err != nil {
		t.Fatalf("plcctl %v under a terminal: %v\n%s", argv, err, out)
	}
	return string(out)
}

// TestTerminalModes runs the terminal-only behaviour on a real
// pseudo-terminal: watch's live table redraws in place (cursor movement, no
// scrolling lines), bench draws a progress bar, and shell shows its prompt.
func TestTerminalModes(t *testing.T) {
	plcctl, plcsim := buildBinaries(t)
	addr := spawnPlcsim(t, plcsim)
	t.Run("watch live table", func(t *testing.T) {
		out := inTerminal(t, "", plcctl, "-a", addr, "watch", "--count", "3", "--interval", "50ms", "read-holding-registers", "0", "2")
		// Each round moves the cursor back up over the table and clears
		// to the end of the screen before drawing the next one.
		if strings.Count(out, "\x1b[4A\r\x1b[J") != 2 || !strings.Contains(out, "round 3") {
			t.Fatalf("watch on a terminal did not redraw its table in place:\n%q", out)
		}
	})
	t.Run("bench progress", func(t *testing.T) {
		out := inTerminal(t, "", plcctl, "-a", addr, "bench", "--requests", "3000")
		if !strings.Contains(out, "\r[=") || !strings.Contains(out, "requests/s") {
			t.Fatalf("bench on a terminal drew no progress:\n%q", out)
		}
	})
	t.Run("interactive shell", func(t *testing.T) {
		out := inTerminal(t, "write-register 7 77\rread-holding-registers 7\rexit\r", plcctl, "-a", addr, "shell", "--history", "")
		if !strings.Contains(out, "77") || !strings.Contains(out, "wrote 1 register at 7") {
			t.Fatalf("interactive shell:\n%q", out)
		}
	})
}

// TestDemoScript runs the `make demo` tour (testdata/demo.sh) with the built
// binaries against a spawned plcsim, as make demo does, and checks what a
// new user is shown.
func TestDemoScript(t *testing.T) {
	plcctl, plcsim := buildBinaries(t)
	addr := spawnPlcsim(t, plcsim, "--holding-registers", "1000")
	cmd := exec.Command("sh", filepath.Join("..", "..", "testdata", "demo.sh"))
	cmd.Env = append(os.Environ(), "ADDR="+addr, "PLCCTL="+plcctl)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo.sh: %v\n%s", err, out.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("demo.sh did not finish\n%s", out.String())
	}
	for _, want := range []string{
		"100  1234",          // write then read back
		"200  3.14159",       // float32 round trip
		`"values":[3.14159]`, // JSON
		"VendorName          plcctl",
		"5 sent, 5 answered, 0.0% loss",
		"(exit 2)", // out-of-range address refused before sending
		"unit 1: the device answered exception 02 illegal data address",
		"(exit 3)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("demo output:\n%s", out.String())
	}
}
