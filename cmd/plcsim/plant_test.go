package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plant"
)

// startRun runs plcsim in-process and returns its address and a stop
// function that cancels it (as SIGTERM does) and returns the exit code.
func startRun(t *testing.T, args ...string) (string, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errb := newReadyBuf()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"--listen", "127.0.0.1:0", "--log-format", "json"}, args...), io.Discard, errb)
	}()
	var addr string
	select {
	case addr = <-errb.ready:
	case code := <-done:
		cancel()
		t.Fatalf("plcsim %v exited %d before ready:\n%s", args, code, errb.String())
	case <-time.After(5 * time.Second):
		cancel()
		t.Fatalf("plcsim not ready:\n%s", errb.String())
	}
	stopped := false
	stop := func() int {
		if stopped {
			return 0
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(10 * time.Second):
			t.Fatal("plcsim did not stop")
			return -1
		}
	}
	t.Cleanup(func() { stop() })
	return addr, stop
}

func plantFile(name string) string { return filepath.Join("..", "..", "testdata", "plants", name) }

// readTag reads a tag's items from unit of a plcsim over the wire.
func readTag(t *testing.T, c *client, unit uint8, tag *plant.Tag) (any, []uint16) {
	t.Helper()
	n := uint16(tag.Registers())
	var req modbus.PDU
	switch tag.Table {
	case plant.Coils:
		req = modbus.NewReadCoils(tag.Address, 1)
	case plant.DiscreteInputs:
		req = modbus.NewReadDiscreteInputs(tag.Address, 1)
	case plant.HoldingRegisters:
		req = modbus.NewReadHoldingRegisters(tag.Address, n)
	default:
		req = modbus.NewReadInputRegisters(tag.Address, n)
	}
	c.tid++
	b, _ := modbus.AppendADU(nil, c.tid, unit, req)
	c.nc.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.nc.Write(b); err != nil {
		t.Fatal(err)
	}
	_, adu, err := modbus.ReadADU(c.nc, make([]byte, modbus.MaxADULen))
	if err != nil {
		t.Fatal(err)
	}
	pdu := adu[modbus.MBAPHeaderLen:]
	if modbus.FunctionCode(pdu[0]).IsException() {
		t.Fatalf("tag %s: exception % X", tag.Name, pdu)
	}
	if tag.Table.IsBits() {
		return pdu[2]&1 == 1, nil
	}
	regs := modbus.AppendRegisters(nil, pdu[2:])
	v, err := tag.DecodeValue(regs)
	if err != nil {
		t.Fatal(err)
	}
	return v, regs
}

// TestPlantRoundTrip: every tag of the all-types plant (every type in every
// word order, strings, bits, scaled tags) reads back over the wire from
// plcsim --plant as exactly its initial value, in exactly the registers the
// values codec gives.
func TestPlantRoundTrip(t *testing.T) {
	p, err := plant.Load(plantFile("all-types.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := startRun(t, "--plant", plantFile("all-types.yaml"))
	c := dialClient(t, addr)
	checked := 0
	for _, tag := range p.Tags {
		if tag.Initial == nil {
			continue
		}
		got, regs := readTag(t, c, tag.UnitID, tag)
		if !reflect.DeepEqual(got, tag.Initial) {
			t.Errorf("tag %s (%s %s): read %v (%T), want %v (%T)", tag.Name, tag.TypeName(), tag.Order, got, got, tag.Initial, tag.Initial)
		}
		if !tag.Bool {
			want, err := tag.EncodeValue(tag.Initial)
			if err != nil || !reflect.DeepEqual(regs, want) {
				t.Errorf("tag %s: registers %04X, want %04X (%v)", tag.Name, regs, want, err)
			}
		}
		checked++
	}
	if checked < 80 {
		t.Fatalf("only %d tags with initial values checked", checked)
	}
}

// TestPlantSparse: sparse ranges, tables above 0, FIFOs, files,
// identification, server id, two units with their own memories, silence
// for unknown units.
func TestPlantSparse(t *testing.T) {
	addr, _ := startRun(t, "--plant", plantFile("sparse.yaml"))
	c := dialClient(t, addr)
	pdu := func(unit uint8, p modbus.PDU) []byte {
		t.Helper()
		c.tid++
		b, _ := modbus.AppendADU(nil, c.tid, unit, p)
		c.nc.SetDeadline(time.Now().Add(2 * time.Second))
		c.nc.Write(b)
		_, adu, err := modbus.ReadADU(c.nc, make([]byte, modbus.MaxADULen))
		if err != nil {
			t.Fatalf("unit %d %T: %v", unit, p, err)
		}
		return append([]byte(nil), adu[modbus.MBAPHeaderLen:]...)
	}
	for _, tc := range []struct {
		name string
		unit uint8
		req  modbus.PDU
		want []byte
	}{
		{"holding 0 illegal", 1, modbus.NewReadHoldingRegisters(0, 1), []byte{0x83, 0x02}},
		{"holding values", 1, modbus.NewReadHoldingRegisters(1000, 4), []byte{0x03, 8, 0, 1, 0, 2, 0, 3, 0, 4}},
		{"holding second range", 1, modbus.NewReadHoldingRegisters(2000, 3), []byte{0x03, 6, 0, 100, 0, 200, 1, 44}},
		{"config.id initial", 1, modbus.NewReadHoldingRegisters(39, 1), []byte{0x03, 2, 0, 7}},
		{"across the ranges", 1, modbus.NewReadHoldingRegisters(1099, 2), []byte{0x83, 0x02}},
		{"coils above 0", 1, modbus.NewReadCoils(100, 16), []byte{0x01, 2, 0, 0}},
		{"coil 99", 1, modbus.NewReadCoils(99, 1), []byte{0x81, 0x02}},
		{"no discrete inputs", 1, modbus.NewReadDiscreteInputs(0, 1), []byte{0x82, 0x02}},
		{"input values", 1, modbus.NewReadInputRegisters(100, 2), []byte{0x04, 4, 0x12, 0x34, 0xAB, 0xCD}},
		{"fifo", 1, &modbus.ReadFIFOQueue{Address: 1050}, []byte{0x18, 0, 6, 0, 2, 0x01, 0xB8, 0x12, 0x84}},
		{"empty fifo", 1, &modbus.ReadFIFOQueue{Address: 2004}, []byte{0x18, 0, 2, 0, 0}},
		{"files", 1, &modbus.ReadFileRecord{SubRequests: []modbus.FileSubRequest{{RefType: 6, File: 4, Record: 1, Length: 2}, {RefType: 6, File: 3, Record: 9, Length: 2}}},
			[]byte{0x14, 0x0C, 5, 6, 0x0D, 0xFE, 0, 0x20, 5, 6, 0x33, 0xCD, 0, 0x40}},
		{"server id", 1, &modbus.ReportServerID{}, append([]byte{0x11, 8, 0x2A, 0xFF}, "AM-200"...)},
		{"identification", 1, &modbus.ReadDeviceID{Code: 4, ObjectID: 0x81}, append([]byte{0x2B, 0x0E, 4, 0x83, 0, 0, 1, 0x81, 21}, "calibrated 2026-01-01"...)},
		{"unit 2 own memory", 2, modbus.NewReadHoldingRegisters(0, 1), []byte{0x03, 2, 0, 42}},
		{"unit 2 no coils", 2, modbus.NewReadCoils(0, 1), []byte{0x81, 0x02}},
		{"unit 2 server id", 2, &modbus.ReportServerID{}, append([]byte{0x11, 8}, "meter-2\x00"...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := pdu(tc.unit, tc.req); !bytes.Equal(got, tc.want) {
				t.Fatalf("answer % X, want % X", got, tc.want)
			}
		})
	}
	// Unit 3 does not exist: no answer at all; the next request is served.
	b, _ := modbus.AppendADU(nil, 99, 3, modbus.NewReadHoldingRegisters(0, 1))
	c.nc.Write(b)
	c.nc.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
	if _, _, err := modbus.ReadADU(c.nc, make([]byte, modbus.MaxADULen)); err == nil {
		t.Fatal("unit 3 answered")
	}
	if got := pdu(1, modbus.NewReadHoldingRegisters(39, 1)); !bytes.Equal(got, []byte{0x03, 2, 0, 7}) {
		t.Fatalf("after the silence: % X", got)
	}
}

// TestPlantLiving: the pump's run contact follows its command (after the
// file's 500 ms) and the clock tag holds the wall clock.
func TestPlantLiving(t *testing.T) {
	p, err := plant.Load(plantFile("pump-station.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := startRun(t, "--plant", plantFile("pump-station.yaml"), "--scan", "10ms")
	c := dialClient(t, addr)
	if v, _ := readTag(t, c, 1, p.Tag("pump1.run")); v != false {
		t.Fatalf("pump1.run = %v before the command", v)
	}
	c.must(&modbus.WriteSingleCoil{Address: p.Tag("pump1.cmd").Address, Value: 0xFF00})
	waitFor(t, 5*time.Second, "pump1.run to follow pump1.cmd", func() bool { v, _ := readTag(t, c, 1, p.Tag("pump1.run")); return v == true })
	v, _ := readTag(t, c, 1, p.Tag("clock"))
	if now := time.Now().Unix(); int64(v.(uint32)) > now || int64(v.(uint32)) < now-5 {
		t.Fatalf("clock = %v, now %d", v, now)
	}
	if v, _ := readTag(t, c, 1, p.Tag("setpoint")); v != float32(2.5) {
		t.Fatalf("setpoint = %v, want its initial 2.5", v)
	}
}

// TestPlantState: with a plant, --state keeps the retentive tags only
// (setpoint), and the uptime tag marked retentive counts on.
func TestPlantState(t *testing.T) {
	p, err := plant.Load(plantFile("pump-station.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "pump.state")
	args := []string{"--plant", plantFile("pump-station.yaml"), "--state", state, "--scan", "10ms"}
	addr, stop := startRun(t, args...)
	c := dialClient(t, addr)
	sp, lim := p.Tag("setpoint"), p.Tag("pressure.limit")
	regs, _ := sp.EncodeValue(3.75)
	c.must(modbus.NewWriteMultipleRegisters(sp.Address, regs))
	c.must(&modbus.WriteSingleRegister{Address: lim.Address, Value: 80})
	c.nc.Close()
	if code := stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	addr, _ = startRun(t, args...)
	c = dialClient(t, addr)
	if v, _ := readTag(t, c, 1, sp); v != float32(3.75) {
		t.Errorf("retentive setpoint after restart = %v, want 3.75", v)
	}
	if v, _ := readTag(t, c, 1, lim); v != 6.5 {
		t.Errorf("non-retentive pressure.limit after restart = %v, want its initial 6.5", v)
	}
}

func TestPlantUsage(t *testing.T) {
	dir := t.TempDir()
	two := filepath.Join(dir, "two.yaml")
	os.WriteFile(two, []byte("version: 1\ndevices:\n  - {name: a, units: [{id: 1}]}\n  - {name: b, units: [{id: 1}]}\n"), 0o644)
	badFault := filepath.Join(dir, "fault.yaml")
	os.WriteFile(badFault, []byte("version: 1\ndevices:\n  - {name: a, units: [{id: 1}]}\nfaults:\n  - action=explode\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unit ids", []string{"--plant", plantFile("sparse.yaml"), "--unit-ids", "1"}, "--unit-ids does not go with --plant"},
		{"table size", []string{"--plant", plantFile("sparse.yaml"), "--coils", "5"}, "--coils does not go with --plant"},
		{"missing file", []string{"--plant", filepath.Join(dir, "nope.yaml")}, "nope.yaml"},
		{"two devices", []string{"--plant", two}, "--listen with 2 devices (a, b): each device listens on its address"},
		{"unknown device", []string{"--plant", two, "--device", "c"}, `--device "c"`},
		{"scan without plant", []string{"--scan", "1s"}, "go with --plant"},
		{"scan too short", []string{"--plant", plantFile("sparse.yaml"), "--scan", "10us"}, "from 1ms to 1h"},
		{"bad fault rule", []string{"--plant", badFault}, "fault.yaml:5:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var errb syncBuf
			code := run(context.Background(), append([]string{"--listen", "127.0.0.1:0"}, tc.args...), io.Discard, &errb)
			if code != exitUsage || !strings.Contains(errb.String(), tc.want) {
				t.Fatalf("exit %d, want 2 and %q in:\n%s", code, tc.want, errb.String())
			}
		})
	}
}

// TestPlantFaults: the plant's fault rules apply on the wire, after the
// command line's.
func TestPlantFaults(t *testing.T) {
	f := filepath.Join(t.TempDir(), "faulty.yaml")
	os.WriteFile(f, []byte("version: 1\ndevices:\n  - {name: a, units: [{id: 1, holding_registers: 10}]}\nfaults:\n  - action=exception,exception=6,fc=3,count=1\n"), 0o644)
	addr, _ := startRun(t, "--plant", f, "--fault", "action=exception,exception=4,fc=6,count=1")
	c := dialClient(t, addr)
	for i, x := range []struct {
		req  modbus.PDU
		want []byte
	}{
		{modbus.NewReadHoldingRegisters(0, 1), []byte{0x83, 0x06}},
		{modbus.NewReadHoldingRegisters(0, 1), []byte{0x03, 2, 0, 0}},
		{&modbus.WriteSingleRegister{Address: 0, Value: 1}, []byte{0x86, 0x04}},
		{&modbus.WriteSingleRegister{Address: 0, Value: 1}, []byte{0x06, 0, 0, 0, 1}},
	} {
		got, err := c.do(x.req)
		if err != nil || !bytes.Equal(got, x.want) {
			t.Fatalf("request %d: % X, %v; want % X", i, got, err, x.want)
		}
	}
}

// TestPlantAddressLoopback: a device's address: of a port alone (":PORT",
// or the bare number) is served on loopback, as --listen :PORT is; every
// interface is 0.0.0.0:PORT spelled out (not bound here: tests stay on
// loopback). ":0" was served on [::]:PORT,
// every interface, unasked.
func TestPlantAddressLoopback(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, address, want string }{
		{"colon port", `":0"`, "127.0.0.1:"},
		{"bare port", "0", "127.0.0.1:"},
		{"quoted port", `"0"`, "127.0.0.1:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, tc.name+".yaml")
			os.WriteFile(file, []byte("version: 1\ndevices:\n  - {name: d, address: "+tc.address+", units: [{id: 1}]}\n"), 0o644)
			ctx, cancel := context.WithCancel(context.Background())
			errb := newReadyBuf()
			done := make(chan int, 1)
			go func() { done <- run(ctx, []string{"--plant", file, "--log-format", "json"}, io.Discard, errb) }()
			select {
			case addr := <-errb.ready:
				if !strings.HasPrefix(addr, tc.want) {
					t.Errorf("address: %s served on %s, want %sPORT", tc.address, addr, tc.want)
				}
			case code := <-done:
				t.Fatalf("plcsim exited %d before ready:\n%s", code, errb.String())
			case <-time.After(5 * time.Second):
				t.Fatalf("plcsim not ready:\n%s", errb.String())
			}
			cancel()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("plcsim did not stop")
			}
		})
	}
}
