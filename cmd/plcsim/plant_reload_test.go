package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plcctl/plcctl/internal/certgen"
	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plc"
	"github.com/plcctl/plcctl/transport"
)

// TestPlantAccessReload: a real SIGHUP reloads the plant file's access:
// rules (no --access): a connection opened before gets the new rules with
// its next request; a device's own access: replaces the plant's; a file
// that does not load keeps the rules in force and logs one line naming its
// file:line:col. Not parallel: the SIGHUP goes to the whole test process.
func TestPlantAccessReload(t *testing.T) {
	// Without a handler of plcsim's, a SIGHUP would end the test binary:
	// this one keeps it alive, so a plcsim that ignores SIGHUP fails below.
	keep := make(chan os.Signal, 1)
	signal.Notify(keep, syscall.SIGHUP)
	defer signal.Stop(keep)
	path := filepath.Join(t.TempDir(), "station.yaml")
	write := func(top, own string) {
		t.Helper()
		s := "version: 1\n" + top + "devices:\n  - name: station\n    units: [{id: 1, holding_registers: 200}]\n" + own
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("access:\n  roles:\n    operator: {functions: [reads]}\n", "")
	addr, logs, _ := startTLSPlcsim(t, "--plant", path, "--log-limit", "-1")
	p, _ := certgen.TestPKI()
	c, err := plc.Dial(t.Context(), addr, plc.Options{Options: transport.Options{TLS: p.ClientTLS("operator"), DialTimeout: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.WriteRegister(t.Context(), 150, 1); !errors.Is(err, modbus.IllegalFunction) {
		t.Fatalf("write holding 150 under the first rules (reads only): %v, want exception 01", err)
	}

	// The device's own access: replaces the plant's, which still says reads.
	write("access:\n  roles:\n    operator: {functions: [reads]}\n",
		"    access:\n      roles:\n        operator: {functions: [all]}\n")
	sighup(t)
	testutil.WaitFor(t, 5*time.Second, "the reloaded rules", func() bool { return c.WriteRegister(t.Context(), 150, 2) == nil })
	if want := `"access":"` + path + `","device":"station","rules":1,"read_only":false,`; !strings.Contains(logs.String(), want) {
		t.Errorf("no line with %s in\n%s", want, logs.String())
	}

	write("access:\n  roles:\n    operator: {functions: [reads]}\n",
		"    access:\n      roles:\n        operator: {functions: [read-holding-register]}\n")
	sighup(t)
	const notReloaded = "access rules not reloaded, the old rules stay: plant: "
	wantLine := notReloaded + path + `:10:32: devices[0].access.roles.operator.functions[0]: unknown function \"read-holding-register\"; did you mean read-holding-registers?`
	testutil.WaitFor(t, 5*time.Second, "the reload error", func() bool { return strings.Contains(logs.String(), notReloaded) })
	if n := strings.Count(logs.String(), notReloaded); n != 1 || !strings.Contains(logs.String(), wantLine) {
		t.Errorf("%d lines %q, want one with %q:\n%s", n, notReloaded, wantLine, logs.String())
	}
	if err := c.WriteRegister(t.Context(), 150, 3); err != nil {
		t.Errorf("write holding 150 after a bad file: %v, want the rules in force (all)", err)
	}

	// No access: at all any more: the default rules (operator may write).
	// Then the plant's access: alone again: reads only.
	write("", "")
	sighup(t)
	testutil.WaitFor(t, 5*time.Second, "the default rules", func() bool {
		return strings.Count(logs.String(), `"message":"access rules reloaded"`) == 2
	})
	if err := c.WriteRegister(t.Context(), 150, 4); err != nil {
		t.Errorf("write holding 150 under the default rules: %v, want allowed (operator)", err)
	}
	write("access:\n  roles:\n    operator: {functions: [reads]}\n", "")
	sighup(t)
	testutil.WaitFor(t, 5*time.Second, "the plant's rules again", func() bool {
		return errors.Is(c.WriteRegister(t.Context(), 150, 5), modbus.IllegalFunction)
	})
}

// TestServeEveryDevicePlantAccessReload: with several devices and no
// --access, a real SIGHUP reloads the plant file's access: sections, each
// device its own when it has one, else the plant's (over plain TCP only
// read_only decides: writes are refused 86 01 or answered 06 00); a file
// that does not load keeps the rules on both and logs one line.
func TestServeEveryDevicePlantAccessReload(t *testing.T) {
	sim := buildPlcsim(t)
	addrs := heldAddrs(t, 2)
	file := filepath.Join(t.TempDir(), "two.yaml")
	plantText := func(top, pumps, tanks string) {
		t.Helper()
		s := fmt.Sprintf("version: 1\n%sdevices:\n  - name: pumps\n    address: %s\n    units: [{id: 1, holding_registers: 10}]\n%s"+
			"  - name: tanks\n    address: %s\n    units: [{id: 1, holding_registers: 10}]\n%s", top, addrs[0], pumps, addrs[1], tanks)
		if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	plantText("access: {read_only: true}\n", "", "")
	p := startProcArgs(t, sim, "--plant", file, "--log-format", "json")
	cs := []*client{dialClient(t, addrs[0]), dialClient(t, addrs[1])}
	write := func(want ...string) {
		t.Helper()
		for i, c := range cs {
			rsp, err := c.do(&modbus.WriteSingleRegister{Address: 1, Value: 5})
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("% X", rsp[:2]); got != want[i] {
				t.Errorf("device %d, write register 1: %s, want %s", i, got, want[i])
			}
		}
	}
	write("86 01", "86 01")
	plantText("access: {read_only: true}\n", "", "    access: {read_only: false}\n")
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, 5*time.Second, "access rules reloaded", func() bool {
		return strings.Contains(p.stderr.String(), `"device":"tanks","rules":0,"read_only":false,`)
	})
	write("86 01", "06 00")
	plantText("access: {read_only: false}\n", "    access: {read_only: true}\n", "    access: {read_only: yes please}\n")
	p.cmd.Process.Signal(syscall.SIGHUP)
	const notReloaded = "access rules not reloaded, the old rules stay: plant: "
	waitFor(t, 5*time.Second, "the reload error", func() bool {
		return strings.Contains(p.stderr.String(), notReloaded+file+`:11:25: devices[1].access.read_only: want true or false, got \"yes please\"`)
	})
	if n := strings.Count(p.stderr.String(), notReloaded); n != 1 {
		t.Errorf("%d lines %q, want one:\n%s", n, notReloaded, p.stderr.String())
	}
	write("86 01", "06 00")
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.wait(t); err != nil {
		t.Fatalf("plcsim exit: %v, want status 0\n%s", err, p.stderr.String())
	}
}
