package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/modbus"
)

var (
	buildOnce sync.Once
	binDir    string
	binErr    error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildPlcsim builds the binary once for the tests that run it.
func buildPlcsim(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	buildOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "plcsim-test-"); binErr != nil {
			return
		}
		if out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, "plcsim"), ".").CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, "plcsim")
}

// proc is a running plcsim binary.
type proc struct {
	cmd    *exec.Cmd
	addr   string
	exited chan error
	stderr *syncBuf
}

func startProc(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	return startProcArgs(t, bin, append([]string{"--listen", "127.0.0.1:0", "--log-format", "json"}, args...)...)
}

// startProcArgs is startProc without the default flags.
func startProcArgs(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, exited: make(chan error, 1), stderr: newReadyBuf()}
	t.Cleanup(func() { cmd.Process.Kill(); <-p.exited })
	go func() {
		io.Copy(p.stderr, bufio.NewReader(pipe))
		p.exited <- cmd.Wait()
		close(p.exited)
	}()
	select {
	case p.addr = <-p.stderr.ready:
	case err := <-p.exited:
		t.Fatalf("plcsim exited before ready: %v\n%s", err, p.stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("plcsim not ready:\n%s", p.stderr.String())
	}
	return p
}

// wait waits for the process to exit and returns its error.
func (p *proc) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.exited:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("plcsim still running:\n%s", p.stderr.String())
		return nil
	}
}

// client is a raw Modbus connection to a plcsim.
type client struct {
	t   *testing.T
	nc  net.Conn
	tid uint16
}

func dialClient(t *testing.T, addr string) *client {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &client{t: t, nc: nc}
}

func (c *client) do(p modbus.PDU) ([]byte, error) {
	c.tid++
	b, err := modbus.AppendADU(nil, c.tid, 1, p)
	if err != nil {
		c.t.Fatal(err)
	}
	c.nc.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.nc.Write(b); err != nil {
		return nil, err
	}
	_, adu, err := modbus.ReadADU(c.nc, make([]byte, modbus.MaxADULen))
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), adu[modbus.MBAPHeaderLen:]...), nil
}

func (c *client) must(p modbus.PDU) []byte {
	c.t.Helper()
	rsp, err := c.do(p)
	if err != nil || modbus.FunctionCode(rsp[0]).IsException() {
		c.t.Fatalf("request %T: % X, %v", p, rsp, err)
	}
	return rsp
}

func (c *client) register(addr uint16) uint16 {
	rsp := c.must(modbus.NewReadHoldingRegisters(addr, 1))
	return uint16(rsp[2])<<8 | uint16(rsp[3])
}

// TestStateSurvivesSIGTERM: holding registers and coils written before a
// SIGTERM are served again after the restart; input registers are not kept.
func TestStateSurvivesSIGTERM(t *testing.T) {
	bin := buildPlcsim(t)
	state := filepath.Join(t.TempDir(), "plc.state")
	p := startProc(t, bin, "--state", state)
	c := dialClient(t, p.addr)
	c.must(&modbus.WriteSingleRegister{Address: 7, Value: 1234})
	c.must(&modbus.WriteSingleCoil{Address: 3, Value: 0xFF00})
	c.nc.Close()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.wait(t); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.stderr.String())
	}
	p = startProc(t, bin, "--state", state)
	c = dialClient(t, p.addr)
	if got := c.register(7); got != 1234 {
		t.Fatalf("register 7 after restart = %d, want 1234\n%s", got, p.stderr.String())
	}
	if rsp := c.must(modbus.NewReadCoils(3, 1)); rsp[2] != 1 {
		t.Fatalf("coil 3 after restart: % X, want on", rsp)
	}
}

// savedRegister reads register addr of the default memory from a state file
// as the test sees it (0 when the file or the value is not there yet).
func savedRegister(path string, addr uint16) (uint16, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	var f struct {
		Units struct {
			Units map[string]struct {
				HoldingRegisters []struct {
					Address uint16
					Values  []uint16
				} `json:"holding_registers"`
			}
		}
	}
	if json.Unmarshal(b, &f) != nil {
		return 0, false
	}
	for _, b := range f.Units.Units["default"].HoldingRegisters {
		if addr >= b.Address && int(addr) < int(b.Address)+len(b.Values) {
			return b.Values[addr-b.Address], true
		}
	}
	return 0, true
}

// TestStateSurvivesKill9: what the interval save wrote before a kill -9 is
// served after the restart.
func TestStateSurvivesKill9(t *testing.T) {
	bin := buildPlcsim(t)
	state := filepath.Join(t.TempDir(), "plc.state")
	p := startProc(t, bin, "--state", state, "--state-interval", "20ms")
	c := dialClient(t, p.addr)
	c.must(&modbus.WriteSingleRegister{Address: 9, Value: 4321})
	waitFor(t, 5*time.Second, "the interval save", func() bool { v, _ := savedRegister(state, 9); return v == 4321 })
	p.cmd.Process.Kill()
	p.wait(t)
	p = startProc(t, bin, "--state", state)
	if got := dialClient(t, p.addr).register(9); got != 4321 {
		t.Fatalf("register 9 after kill -9 and restart = %d, want 4321", got)
	}
}

// TestStateKill9BeforeRename: a kill -9 while a save has written its
// temporary file but not renamed it leaves the previous state file whole;
// the restart serves the previous values and removes the temporary file.
func TestStateKill9BeforeRename(t *testing.T) {
	bin := buildPlcsim(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "plc.state")
	t.Setenv("PLCSIM_TEST_SAVE_PAUSE", "30s")
	p := startProc(t, bin, "--state", state, "--state-interval", "10ms")
	c := dialClient(t, p.addr)
	c.must(&modbus.WriteSingleRegister{Address: 4, Value: 1})
	c.nc.Close()
	p.cmd.Process.Signal(syscall.SIGTERM) // the shutdown save is paused too: kill it there
	tmps := func() []string { m, _ := filepath.Glob(filepath.Join(dir, ".plc.state.tmp-*")); return m }
	waitFor(t, 10*time.Second, "a save under way", func() bool { return len(tmps()) > 0 })
	p.cmd.Process.Kill()
	p.wait(t)
	if _, err := os.Stat(state); err == nil {
		t.Fatal("the state file exists although no save was committed")
	}
	// Now with a committed save first, then a change caught mid-save.
	t.Setenv("PLCSIM_TEST_SAVE_PAUSE", "")
	p = startProc(t, bin, "--state", state, "--state-interval", "10ms")
	if len(tmps()) > 0 {
		t.Fatalf("temporary files left after the restart: %v", tmps())
	}
	c = dialClient(t, p.addr)
	c.must(&modbus.WriteSingleRegister{Address: 4, Value: 2})
	waitFor(t, 5*time.Second, "the save of 2", func() bool { v, _ := savedRegister(state, 4); return v == 2 })
	c.nc.Close()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.wait(t); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PLCSIM_TEST_SAVE_PAUSE", "30s")
	p = startProc(t, bin, "--state", state, "--state-interval", "10ms")
	c = dialClient(t, p.addr)
	c.must(&modbus.WriteSingleRegister{Address: 4, Value: 3})
	waitFor(t, 10*time.Second, "a save under way", func() bool { return len(tmps()) > 0 })
	p.cmd.Process.Kill()
	p.wait(t)
	t.Setenv("PLCSIM_TEST_SAVE_PAUSE", "")
	p = startProc(t, bin, "--state", state)
	if got := dialClient(t, p.addr).register(4); got != 2 {
		t.Fatalf("register 4 = %d after a kill before the rename, want 2 (the last committed save)", got)
	}
	if len(tmps()) > 0 {
		t.Fatalf("temporary files left after the restart: %v", tmps())
	}
}

// TestStateKill9MidSave kills plcsim again and again while it saves a large
// state every millisecond: each restart must load an intact file (a torn
// one makes plcsim refuse to start), with a value at least as new as one
// the test saw saved, and leftover temporary files are removed.
func TestStateKill9MidSave(t *testing.T) {
	bin := buildPlcsim(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "plc.state")
	p := startProc(t, bin, "--state", state, "--state-interval", "1ms")
	c := dialClient(t, p.addr)
	vals := make([]uint16, 120)
	for a := 0; a+len(vals) <= 60000; a += len(vals) { // a state file of ~400 kB
		for i := range vals {
			vals[i] = uint16(a + i + 1)
		}
		c.must(modbus.NewWriteMultipleRegisters(uint16(a+1000), vals))
	}
	waitFor(t, 10*time.Second, "the large state saved", func() bool { v, _ := savedRegister(state, 60999); return v == 60000 })
	rng := rand.New(rand.NewPCG(1, 2))
	midSave, deadline := 0, time.Now().Add(8*time.Second)
	var seen uint16
	for round := 1; round <= 12 && time.Now().Before(deadline); round++ {
		c = dialClient(t, p.addr)
		if got := c.register(0); got < seen {
			t.Fatalf("round %d: register 0 = %d after restart, but %d had been saved", round, got, seen)
		}
		// Keep changing register 0 so that every tick saves.
		stop := time.After(time.Duration(5+rng.IntN(30)) * time.Millisecond)
	write:
		for v := c.register(0) + 1; ; v++ {
			select {
			case <-stop:
				break write
			default:
			}
			if _, err := c.do(&modbus.WriteSingleRegister{Address: 0, Value: v}); err != nil {
				t.Fatal(err)
			}
		}
		if v, ok := savedRegister(state, 0); ok {
			seen = v
		}
		p.cmd.Process.Kill()
		p.wait(t)
		if tmps, _ := filepath.Glob(filepath.Join(dir, ".plc.state.tmp-*")); len(tmps) > 0 {
			midSave++
		}
		p = startProc(t, bin, "--state", state, "--state-interval", "1ms")
		if tmps, _ := filepath.Glob(filepath.Join(dir, ".plc.state.tmp-*")); len(tmps) > 0 {
			t.Fatalf("round %d: temporary files left after the restart: %v", round, tmps)
		}
	}
	t.Logf("%d kills landed while a save was under way", midSave)
	c = dialClient(t, p.addr)
	rsp := c.must(modbus.NewReadHoldingRegisters(60000-120+1000, 120))
	if v := uint16(rsp[len(rsp)-2])<<8 | uint16(rsp[len(rsp)-1]); v != 60000 {
		t.Fatalf("register %d = %d after the kills, want 60000", 60000+1000-1, v)
	}
}

// TestStateRefused: a state file of another layout, or a damaged one, stops
// plcsim with a clear error instead of serving mixed-up memory.
func TestStateRefused(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.state")
	runFor := func(args ...string) (int, string) {
		ctx, cancel := context.WithCancel(context.Background())
		errb := newReadyBuf()
		done := make(chan int, 1)
		go func() {
			done <- run(ctx, append([]string{"--listen", "127.0.0.1:0", "--log-format", "json"}, args...), io.Discard, errb)
		}()
		select {
		case <-errb.ready:
			cancel()
		case code := <-done:
			cancel()
			return code, errb.String()
		case <-time.After(5 * time.Second):
			t.Fatal("plcsim neither ready nor stopped")
		}
		return <-done, errb.String()
	}
	if code, out := runFor("--state", good, "--holding-registers", "100"); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, out)
	}
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"another layout", []string{"--state", good, "--holding-registers", "200"}, "another plant or layout"},
		{"truncated", []string{"--state", write("cut.state", b[:len(b)/2])}, "cut.state: it is damaged: it ends early"},
		{"garbage", []string{"--state", write("junk.state", []byte("\x00\x01not json"))}, "junk.state: it is not a plcsim state file (not JSON"},
		{"edited", []string{"--state", write("edit.state", edited(t, b)), "--holding-registers", "100"},
			"edit.state: it is damaged: its checksum does not match its contents"},
		// Another file given as --state is named as such, in words, not
		// Go's decoder's ("json: unknown field", "EOF").
		{"empty", []string{"--state", write("empty.state", nil)}, "empty.state: it is empty"},
		{"a plant file", []string{"--state", write("plant.state", []byte("version: 1\ndevices: []\n"))},
			"plant.state: it is not a plcsim state file (not JSON"},
		{"a JSON list", []string{"--state", write("list.state", []byte("[1, 2]"))}, "list.state: it is not a plcsim state file (a JSON array"},
		{"another JSON object", []string{"--state", write("obj.state", []byte(`{"values": [1]}`))},
			`obj.state: it is not a plcsim state file (it has the key "values")`},
		// A state file that could never be saved is refused at the start,
		// not found at the first save (the memory was lost at shutdown).
		{"no such directory", []string{"--state", filepath.Join(dir, "none", "x.state")},
			"--state " + filepath.Join(dir, "none", "x.state") + ": cannot save it: directory " + filepath.Join(dir, "none") + " does not exist"},
		{"a directory", []string{"--state", dir}, "--state " + dir + ": it is a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runFor(tc.args...)
			if code != exitFailure || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, want 1 and %q in:\n%s", code, tc.want, out)
			}
			for _, goWords := range []string{"simulator:", "json:", "EOF"} {
				if strings.Contains(out, goWords) {
					t.Errorf("the message shows Go's words %q:\n%s", goWords, out)
				}
			}
		})
	}
}

// edited returns the state file b with a register value put in, its
// checksum left as it was.
func edited(t *testing.T, b []byte) []byte {
	var f map[string]any
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	f["units"] = map[string]any{"units": map[string]any{"default": map[string]any{
		"holding_registers": []any{map[string]any{"address": 1, "values": []any{5}}}}}}
	out, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	testutil.WaitFor(t, d, what, ok)
}
