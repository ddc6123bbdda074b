package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
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
	plcctlOnce sync.Once
	plcctlErr  error
)

// buildPlcctl builds the plcctl binary next to plcsim's, once.
func buildPlcctl(t *testing.T) string {
	t.Helper()
	buildPlcsim(t)
	bin := filepath.Join(binDir, "plcctl")
	plcctlOnce.Do(func() {
		if out, err := exec.Command("go", "build", "-o", bin, "../plcctl").CombinedOutput(); err != nil {
			plcctlErr = fmt.Errorf("go build ../plcctl: %v\n%s", err, out)
		}
	})
	if plcctlErr != nil {
		t.Fatal(plcctlErr)
	}
	return bin
}

// heldAddrs returns n loopback addresses whose ports the test holds until
// it ends (testutil.HeldAddr). A plant file names its devices' addresses,
// and plcctl --plant dials the ones the file names, so plcsim cannot pick
// its own ports; ports bound on 0 and closed again (as they were) could be
// taken by another process before plcsim bound them.
func heldAddrs(t *testing.T, n int) []string {
	t.Helper()
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = testutil.HeldAddr(t)
	}
	return addrs
}

// twoDevices writes a plant file of two devices on addresses a and b: a
// pump station and a tank farm whose run contact follows a pump command.
func twoDevices(t *testing.T, a, b string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "two.yaml")
	err := os.WriteFile(f, []byte(fmt.Sprintf(`version: 1
scan: 10ms
devices:
  - name: pumps
    address: %s
    units: [{id: 1, holding_registers: 10, coils: 4}]
    tags:
      - {name: p.level, table: hr, address: 0, initial: 11, retentive: true}
      - {name: p.cmd, table: coil, address: 0}
  - name: tanks
    address: %s
    units: [{id: 1, holding_registers: 10, discrete_inputs: 4}]
    tags:
      - {name: t.level, table: hr, address: 0, initial: 22, retentive: true}
      - {name: t.run, table: discrete_input, address: 0, sim: {kind: follow, tag: p.cmd, delay: 10ms}}
`, a, b)), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestServeEveryDevice runs the real binaries: one plcsim --plant serves
// both devices of the file, each on its address; plcctl get reads tags of
// both, set on one leaves the other alone, a tag of one device follows a
// tag of the other, --fault and --fault-file rules apply to both and
// SIGHUP reloads them on both; SIGTERM closes both gracefully (connected
// clients read EOF) and exits 0.
func TestServeEveryDevice(t *testing.T) {
	sim, ctl := buildPlcsim(t), buildPlcctl(t)
	addrs := heldAddrs(t, 2)
	file := twoDevices(t, addrs[0], addrs[1])
	faults := filepath.Join(t.TempDir(), "faults.txt")
	os.WriteFile(faults, []byte("action=exception,exception=6,fc=3,addr=5\n"), 0o644)
	p := startProcArgs(t, sim, "--plant", file, "--log-format", "json",
		"--fault", "action=exception,exception=4,fc=3,addr=7", "--fault-file", faults)
	plcctl := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(ctl, append([]string{"--plant", file}, args...)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("plcctl %v: %v\n%s", args, err, errb.String())
		}
		return out.String()
	}
	if got, want := plcctl("get", "p.level", "t.level", "t.run"), "p.level  11\nt.level  22\nt.run    false\n"; got != want {
		t.Fatalf("get =\n%s\nwant\n%s", got, want)
	}
	plcctl("set", "p.level", "33")
	if got, want := plcctl("get", "p.level", "t.level"), "p.level  33\nt.level  22\n"; got != want {
		t.Fatalf("after set p.level 33: get =\n%s\nwant\n%s", got, want)
	}
	plcctl("set", "t.level", "44")
	if got, want := plcctl("get", "p.level", "t.level"), "p.level  33\nt.level  44\n"; got != want {
		t.Fatalf("after set t.level 44: get =\n%s\nwant\n%s", got, want)
	}
	plcctl("set", "p.cmd", "on")
	waitFor(t, 5*time.Second, "t.run (tanks) to follow p.cmd (pumps)", func() bool { return plcctl("get", "t.run") == "t.run  true\n" })

	cs := []*client{dialClient(t, addrs[0]), dialClient(t, addrs[1])}
	read := func(c *client, addr uint16) string {
		t.Helper()
		rsp, err := c.do(modbus.NewReadHoldingRegisters(addr, 1))
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("% X", rsp[:2])
	}
	for i, c := range cs {
		if got := read(c, 5); got != "83 06" {
			t.Errorf("device %d, register 5 (--fault-file rule): %s, want 83 06", i, got)
		}
		if got := read(c, 7); got != "83 04" {
			t.Errorf("device %d, register 7 (--fault rule): %s, want 83 04", i, got)
		}
	}
	os.WriteFile(faults, []byte("action=exception,exception=6,fc=3,addr=6\n"), 0o644)
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, 5*time.Second, "fault rules reloaded", func() bool { return strings.Contains(p.stderr.String(), "fault rules reloaded") })
	for i, c := range cs {
		if got := read(c, 5); got != "03 02" {
			t.Errorf("device %d, register 5 after the reload: %s, want 03 02", i, got)
		}
		if got := read(c, 6); got != "83 06" {
			t.Errorf("device %d, register 6 after the reload: %s, want 83 06", i, got)
		}
		if got := read(c, 7); got != "83 04" {
			t.Errorf("device %d, register 7 after the reload (--fault rule kept): %s, want 83 04", i, got)
		}
	}

	p.cmd.Process.Signal(syscall.SIGTERM)
	for i, c := range cs {
		c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		if n, err := c.nc.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Errorf("device %d after SIGTERM: read %d, %v; want EOF", i, n, err)
		}
		c.nc.Close()
	}
	if err := p.wait(t); err != nil {
		t.Fatalf("plcsim exit: %v, want status 0\n%s", err, p.stderr.String())
	}
	ready, stopped := map[string]string{}, map[string]bool{}
	for _, l := range strings.Split(p.stderr.String(), "\n") {
		var rec struct{ Message, Addr, Device string }
		if json.Unmarshal([]byte(l), &rec) != nil {
			continue
		}
		switch rec.Message {
		case "plcsim ready":
			ready[rec.Device] = rec.Addr
		case "plcsim stopped":
			stopped[rec.Device] = true
		}
	}
	if ready["pumps"] != addrs[0] || ready["tanks"] != addrs[1] || !stopped["pumps"] || !stopped["tanks"] {
		t.Errorf("ready lines %v, stopped lines %v; want pumps on %s and tanks on %s, both stopped\n%s",
			ready, stopped, addrs[0], addrs[1], p.stderr.String())
	}
	for _, a := range addrs {
		if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts after plcsim exited", a)
		}
	}
}

// TestServeEveryDeviceBusy: when one device cannot listen, plcsim serves
// none (the other's port is released) and exits 1 saying which device.
func TestServeEveryDeviceBusy(t *testing.T) {
	addrs := heldAddrs(t, 1)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	file := twoDevices(t, addrs[0], busy.Addr().String())
	var errb syncBuf
	code := run(context.Background(), []string{"--plant", file, "--log-format", "json"}, io.Discard, &errb)
	if want := "plcsim: device tanks: listen tcp " + busy.Addr().String(); code != exitFailure ||
		!strings.Contains(errb.String(), want) || !strings.Contains(errb.String(), "no device is served") {
		t.Fatalf("exit %d, want 1 and %q ... no device is served in:\n%s", code, want, errb.String())
	}
	ln, err := net.Listen("tcp", addrs[0])
	if err != nil {
		t.Fatalf("pumps' address %s still bound: %v", addrs[0], err)
	}
	ln.Close()
}

// TestServeEveryDeviceUsage: what cannot apply to several devices is
// refused in one sentence; --device still serves one device alone.
func TestServeEveryDeviceUsage(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		f := filepath.Join(dir, name)
		os.WriteFile(f, []byte("version: 1\ndevices:\n"+body), 0o644)
		return f
	}
	addrs := heldAddrs(t, 2)
	file := twoDevices(t, addrs[0], addrs[1])
	noAddr := write("noaddr.yaml", "  - {name: a, address: "+addrs[0]+", units: [{id: 1}]}\n  - {name: b, units: [{id: 1}]}\n")
	same := write("same.yaml", "  - {name: a, address: "+addrs[0]+", units: [{id: 1}]}\n  - {name: b, address: "+addrs[0]+", units: [{id: 1}]}\n")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no address", []string{"--plant", noAddr}, "device b (line 4) has no address: give every device an address: HOST:PORT to serve them all, or serve it alone with --device b"},
		{"same address", []string{"--plant", same}, "devices a (line 3) and b (line 4) both have address " + addrs[0]},
		{"listen", []string{"--plant", file, "--listen", "127.0.0.1:0"}, "--listen with 2 devices (pumps, tanks): each device listens on its address: from the file"},
		{"state interval", []string{"--plant", file, "--state", filepath.Join(dir, "s"), "--state-interval", "0s"}, "--state-interval 0s: want a positive duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var errb syncBuf
			code := run(context.Background(), tc.args, io.Discard, &errb)
			if code != exitUsage || !strings.Contains(errb.String(), tc.want) || strings.Count(errb.String(), "\n") != 1 {
				t.Fatalf("exit %d, want 2 and one line with %q:\n%s", code, tc.want, errb.String())
			}
		})
	}
	// --device pumps serves pumps alone, on --listen; tanks alone cannot
	// be: its t.run follows a tag of pumps.
	addr, _ := startRun(t, "--plant", file, "--device", "pumps")
	c := dialClient(t, addr)
	if got := c.register(0); got != 11 {
		t.Errorf("--device pumps: register 0 = %d, want p.level's 11", got)
	}
	var errb syncBuf
	code := run(context.Background(), []string{"--plant", file, "--device", "tanks", "--listen", "127.0.0.1:0"}, io.Discard, &errb)
	if want := "tag t.run follows p.cmd of device pumps, which is not served with tanks"; code != exitUsage || !strings.Contains(errb.String(), want) {
		t.Errorf("--device tanks: exit %d, want 2 and %q in:\n%s", code, want, errb.String())
	}
}

// startDevices runs plcsim in-process with args (JSON logs, no --listen)
// until it is ready; stop (also at cleanup) cancels it as SIGTERM does and
// returns the exit code, which cleanup wants 0.
func startDevices(t *testing.T, args ...string) (*syncBuf, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errb := newReadyBuf()
	done := make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"--log-format", "json"}, args...), io.Discard, errb) }()
	code, stopped := 0, false
	stop := func() int {
		if !stopped {
			stopped = true
			cancel()
			select {
			case code = <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("plcsim did not stop:\n%s", errb.String())
			}
		}
		return code
	}
	t.Cleanup(func() {
		if c := stop(); c != exitOK {
			t.Errorf("exit %d:\n%s", c, errb.String())
		}
	})
	select {
	case <-errb.ready:
	case code = <-done:
		stopped = true
		t.Fatalf("plcsim exited %d before ready:\n%s", code, errb.String())
	case <-time.After(5 * time.Second):
		t.Fatalf("plcsim not ready:\n%s", errb.String())
	}
	return errb, stop
}

// TestServeEveryDeviceState: --state FILE with several devices keeps each
// device's retentive tags in FILE.NAME; the file of one device serves it
// alone (--device) too, and one device's file is refused for another.
func TestServeEveryDeviceState(t *testing.T) {
	addrs := heldAddrs(t, 2)
	file := twoDevices(t, addrs[0], addrs[1])
	state := filepath.Join(t.TempDir(), "plant.state")
	args := []string{"--plant", file, "--state", state}
	_, stop := startDevices(t, args...)
	for i, v := range []uint16{33, 44} {
		c := dialClient(t, addrs[i])
		c.must(&modbus.WriteSingleRegister{Address: 0, Value: v})
		c.nc.Close()
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, name := range []string{"pumps", "tanks"} {
		if _, err := os.Stat(state + "." + name); err != nil {
			t.Fatalf("no state file for %s: %v", name, err)
		}
	}
	_, stop = startDevices(t, args...)
	for i, want := range []uint16{33, 44} {
		if got := dialClient(t, addrs[i]).register(0); got != want {
			t.Errorf("device %d register 0 after the restart = %d, want %d", i, got, want)
		}
	}
	stop()
	addr, _ := startRun(t, "--plant", file, "--device", "pumps", "--state", state+".pumps")
	if got := dialClient(t, addr).register(0); got != 33 {
		t.Errorf("--device pumps --state %s.pumps: register 0 = %d, want 33", state, got)
	}
	if got := statePathOf("s", "farm/tank-1"); got != "s.farm%tank-1" {
		t.Errorf("state file of device farm/tank-1 = %q, want s.farm%%tank-1 (next to s)", got)
	}
	b, err := os.ReadFile(state + ".pumps")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(state+".tanks", b, 0o644)
	var errb syncBuf
	code := run(context.Background(), args, io.Discard, &errb)
	if want := "plcsim: device tanks: --state"; code != exitFailure || !strings.Contains(errb.String(), want) {
		t.Errorf("pumps' state file as tanks': exit %d, want 1 and %q in:\n%s", code, want, errb.String())
	}
}

// TestServeEveryDeviceJournal: --journal with several devices is one
// file of whole lines, each entry naming the device written to.
func TestServeEveryDeviceJournal(t *testing.T) {
	addrs := heldAddrs(t, 2)
	file := twoDevices(t, addrs[0], addrs[1])
	journal := filepath.Join(t.TempDir(), "writes.jsonl")
	_, stop := startDevices(t, "--plant", file, "--journal", journal)
	const rounds = 50
	var wg sync.WaitGroup
	for i := range addrs {
		c := dialClient(t, addrs[i])
		wg.Add(1)
		go func() { // both devices written at once: lines must not interleave
			defer wg.Done()
			for n := range rounds {
				c.do(modbus.NewWriteMultipleRegisters(1, []uint16{uint16(i), uint16(n), 7, 7, 7, 7, 7, 7}))
			}
		}()
	}
	wg.Wait()
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	b, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	next := map[string]uint16{}
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		var e struct {
			Device  string
			Address uint16
			Values  []uint16
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil || len(e.Values) != 8 {
			t.Fatalf("journal line %q: %v", l, err)
		}
		want := map[string]uint16{"pumps": 0, "tanks": 1}
		if d, ok := want[e.Device]; !ok || e.Values[0] != d || e.Values[1] != next[e.Device] {
			t.Fatalf("journal line %q: want device pumps (values 0, n) or tanks (1, n), n = %d", l, next[e.Device])
		}
		next[e.Device]++
	}
	if next["pumps"] != rounds || next["tanks"] != rounds {
		t.Errorf("journal has %v writes per device, want %d each", next, rounds)
	}
}

// TestServeEveryDeviceAccess: each device gets its own access: rules (here
// a device's read_only), the others the plant's (none): a write to the
// read-only device is refused with 01, the same write to the other served.
func TestServeEveryDeviceAccess(t *testing.T) {
	addrs := heldAddrs(t, 2)
	f := filepath.Join(t.TempDir(), "ro.yaml")
	os.WriteFile(f, []byte(fmt.Sprintf("version: 1\ndevices:\n"+
		"  - {name: ro, address: %s, access: {read_only: true}, units: [{id: 1, holding_registers: 4}]}\n"+
		"  - {name: rw, address: %s, units: [{id: 1, holding_registers: 4}]}\n", addrs[0], addrs[1])), 0o644)
	startDevices(t, "--plant", f)
	for i, want := range []string{"86 01", "06 00"} {
		rsp, err := dialClient(t, addrs[i]).do(&modbus.WriteSingleRegister{Address: 1, Value: 9})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("% X", rsp[:2]); got != want {
			t.Errorf("write to device %d: %s, want %s", i, got, want)
		}
	}
}

// TestServeEveryDeviceHTTP: --http with several devices serves each
// device's API under /devices/NAME/, reaching that device only, and
// /metrics with a device label.
func TestServeEveryDeviceHTTP(t *testing.T) {
	addrs := heldAddrs(t, 2)
	file := twoDevices(t, addrs[0], addrs[1])
	errb, _ := startDevices(t, "--plant", file, "--http", "127.0.0.1:0", "--http-token", "tok")
	web := "http://" + httpAddrOf(t, errb.String())
	do := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, web+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer tok")
		rsp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer rsp.Body.Close()
		b, _ := io.ReadAll(rsp.Body)
		return rsp.StatusCode, string(b)
	}
	for _, tc := range []struct{ path, want string }{
		{"/devices/pumps/api/v1/tags/p.level", `"value":11`},
		{"/devices/tanks/api/v1/tags/t.level", `"value":22`},
		{"/api/v1/devices", `"name":"tanks","modbus":"` + addrs[1] + `"`},
	} {
		if code, body := do("GET", tc.path, ""); code != 200 || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s = %d %s, want 200 with %s", tc.path, code, body, tc.want)
		}
	}
	waitFor(t, 5*time.Second, "/readyz 200 (every device serving)", func() bool { code, _ := do("GET", "/readyz", ""); return code == 200 })
	if code, body := do("PUT", "/devices/tanks/api/v1/tags/t.level", `{"value":"55"}`); code != 200 {
		t.Fatalf("PUT t.level = %d %s", code, body)
	}
	for i, want := range []uint16{11, 55} {
		if got := dialClient(t, addrs[i]).register(0); got != want {
			t.Errorf("device %d register 0 = %d, want %d", i, got, want)
		}
	}
	if code, body := do("GET", "/metrics", ""); code != 200 || !strings.Contains(body, `plcsim_requests_total{device="tanks",fc="3",unit="1"} 1`) ||
		!strings.Contains(body, `plcsim_requests_total{device="pumps",fc="3",unit="1"} 1`) {
		t.Errorf("GET /metrics = %d, want one FC 3 request per device:\n%s", code, body)
	}
}

// TestLineWriter: two devices' journal writers on one file pass on whole
// lines only, whatever pieces their buffered writers hand over.
func TestLineWriter(t *testing.T) {
	var out bytes.Buffer
	f := &sharedFile{w: &out}
	a, b := &lineWriter{f: f}, &lineWriter{f: f}
	for _, w := range []struct {
		lw *lineWriter
		s  string
	}{{a, `{"device":"a",`}, {b, `{"device":"b"}` + "\n" + `{"dev`}, {a, `"seq":1}` + "\n"}, {b, `ice":"b","seq":2}` + "\n"}} {
		if n, err := w.lw.Write([]byte(w.s)); n != len(w.s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", w.s, n, err)
		}
	}
	if want := `{"device":"b"}` + "\n" + `{"device":"a","seq":1}` + "\n" + `{"device":"b","seq":2}` + "\n"; out.String() != want {
		t.Errorf("file:\n%s\nwant\n%s", out.String(), want)
	}
	if len(a.buf) != 0 || len(b.buf) != 0 {
		t.Errorf("left over: %q, %q", a.buf, b.buf)
	}
}

// TestWaterWorks runs the example of testdata/plants/water-works.yaml (its
// addresses moved to free ports) with the real binaries, as its comment
// says: the tank farm's inlet opens after the station's pump runs.
func TestWaterWorks(t *testing.T) {
	sim, ctl := buildPlcsim(t), buildPlcctl(t)
	b, err := os.ReadFile(plantFile("water-works.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	addrs := heldAddrs(t, 2)
	text := strings.NewReplacer("127.0.0.1:5031", addrs[0], "127.0.0.1:5032", addrs[1]).Replace(string(b))
	if text == string(b) {
		t.Fatal("water-works.yaml has other addresses than this test moves")
	}
	file := filepath.Join(t.TempDir(), "water-works.yaml")
	os.WriteFile(file, []byte(text), 0o644)
	startProcArgs(t, sim, "--plant", file, "--log-format", "json", "--scan", "10ms")
	plcctl := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(ctl, append([]string{"--plant", file}, args...)...).Output()
		if err != nil {
			t.Fatalf("plcctl %v: %v", args, err)
		}
		return string(out)
	}
	// fields: the columns of get's table, however aligned
	fields := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	if got, want := fields(plcctl("get", "setpoint", "tank1.high", "tank1.inlet")), "setpoint 80 m3/h tank1.high 3.8 m tank1.inlet false"; got != want {
		t.Errorf("get = %q, want %q", got, want)
	}
	plcctl("set", "pump1.cmd", "on")
	waitFor(t, 10*time.Second, "tank1.inlet (tanks) to follow pump1.run (pumps)", func() bool {
		return fields(plcctl("get", "pump1.run", "tank1.inlet")) == "pump1.run true tank1.inlet true"
	})
}

// TestServeEveryDeviceAccessReload: with several devices, a real SIGHUP
// reloads --access FILE on every device (over plain TCP only read_only
// decides, so it is switched off here: writes on both devices are refused,
// then allowed); a file that does not load keeps the rules on both.
func TestServeEveryDeviceAccessReload(t *testing.T) {
	sim := buildPlcsim(t)
	addrs := heldAddrs(t, 2)
	file := twoDevices(t, addrs[0], addrs[1])
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	os.WriteFile(rules, []byte("access:\n  read_only: true\n  roles: {operator: {functions: [all]}}\n"), 0o644)
	p := startProcArgs(t, sim, "--plant", file, "--log-format", "json", "--access", rules)
	cs := []*client{dialClient(t, addrs[0]), dialClient(t, addrs[1])}
	write := func(want string) {
		t.Helper()
		for i, c := range cs {
			rsp, err := c.do(&modbus.WriteSingleRegister{Address: 1, Value: 5})
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("% X", rsp[:2]); got != want {
				t.Errorf("device %d, write register 1: %s, want %s", i, got, want)
			}
		}
	}
	write("86 01")
	os.WriteFile(rules, []byte("access:\n  roles: {operator: {functions: [all]}}\n"), 0o644)
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, 5*time.Second, "access rules reloaded", func() bool { return strings.Contains(p.stderr.String(), "access rules reloaded") })
	write("06 00")
	os.WriteFile(rules, []byte("access:\n  read_only: yes please\n"), 0o644)
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, 5*time.Second, "the reload error", func() bool {
		return strings.Contains(p.stderr.String(), "access rules not reloaded, the old rules stay: plant: "+rules+":2:14: access.read_only")
	})
	write("06 00")
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.wait(t); err != nil {
		t.Fatalf("plcsim exit: %v, want status 0\n%s", err, p.stderr.String())
	}
}
