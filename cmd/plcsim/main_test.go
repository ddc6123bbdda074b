package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/modbus"
)

// syncBuf collects output from several goroutines and reports plcsim's
// readiness line on ready.
type syncBuf struct {
	mu    sync.Mutex
	b     bytes.Buffer
	line  []byte
	ready chan string
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range p {
		if c != '\n' {
			s.line = append(s.line, c)
			continue
		}
		var rec struct{ Message, Addr string }
		if json.Unmarshal(s.line, &rec) == nil && rec.Message == "plcsim ready" && s.ready != nil {
			select {
			case s.ready <- rec.Addr:
			default:
			}
		}
		s.line = s.line[:0]
	}
	return s.b.Write(p)
}

func (s *syncBuf) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func newReadyBuf() *syncBuf { return &syncBuf{ready: make(chan string, 1)} }

func TestUsage(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"help", []string{"--help"}, 0, "Usage: plcsim", ""},
		{"unknown flag", []string{"--nope"}, 2, "", "unknown flag: --nope"},
		{"bad action", []string{"--on-malformed", "explode"}, 2, "", "want reset or close"},
		{"bad policy", []string{"--malformed-pdu", "x"}, 2, "", "want strict or exception"},
		{"bad unit", []string{"--unit-ids", "1,300"}, 2, "", "not a unit id"},
		{"bad unknown unit", []string{"--unknown-unit", "maybe"}, 2, "", "want exception or silent"},
		{"bad file bound", []string{"--max-file-registers", "0"}, 2, "", "want at least 1"},
		// Each limit is refused naming its flag and what 0 means; the
		// simulator's words were "simulator: negative timeout" for any of
		// four flags and "max conns -1 below 1".
		{"bad size", []string{"--coils", "70000"}, 2, "", "--coils 70000: want 1..65536 (0: the default, 65536)"},
		{"negative size", []string{"--input-registers", "-1"}, 2, "", "--input-registers -1: want 1..65536"},
		{"bad max conns", []string{"--max-conns", "-1"}, 2, "", "--max-conns -1: want 1 or more (0: the default, 64)"},
		{"bad per-ip cap", []string{"--max-conns-per-ip", "-3"}, 2, "", "--max-conns-per-ip -3: want 1 or more (0: no cap)"},
		{"bad frame timeout", []string{"--frame-timeout", "-1s"}, 2, "", "--frame-timeout -1s: want a positive duration (0: the default, 2s)"},
		{"bad idle timeout", []string{"--idle-timeout", "-1s"}, 2, "", "--idle-timeout -1s: want a positive duration (0: never)"},
		{"bad drain timeout", []string{"--drain-timeout", "-1ms"}, 2, "", "--drain-timeout -1ms: want a positive duration"},
		{"bad handshake timeout", []string{"--tls-handshake-timeout", "-2s"}, 2, "", "--tls-handshake-timeout -2s: want a positive duration"},
		{"argument", []string{"extra"}, 2, "", "unexpected argument"},
		{"bad fault", []string{"--fault", "action=delay"}, 2, "", "needs delay=DURATION"},
		{"bad write timeout", []string{"--write-timeout", "-1s"}, 2, "", "--write-timeout -1s: want a positive duration (0: the default, 5s)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb syncBuf
			code := run(context.Background(), tc.args, &out, &errb)
			if code != tc.wantCode || !strings.Contains(out.String(), tc.wantOut) || !strings.Contains(errb.String(), tc.wantErr) {
				t.Fatalf("run(%q) = %d\nstdout: %s\nstderr: %s", tc.args, code, out.String(), errb.String())
			}
		})
	}
}

// TestServeAndStop starts plcsim on a free loopback port, finds the real
// address in its readiness line, talks to it, and stops it with the context
// (as SIGINT does): it must exit 0 after a graceful close.
func TestServeAndStop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuf
	errb := newReadyBuf()
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--log-format", "json"}, &out, errb) }()
	addr := waitReady(t, errb)
	if addr == "" || strings.HasSuffix(addr, ":0") {
		t.Fatalf("no readiness line with a real address:\n%s", errb.String())
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1})
	buf := make([]byte, 11)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(buf); err != nil || !bytes.Equal(buf, []byte{0, 1, 0, 0, 0, 5, 1, 3, 2, 0, 0}) {
		t.Fatalf("read: % X, %v", buf, err)
	}
	cancel()
	// The simulator half-closes: we see EOF, then close our side.
	one := make([]byte, 1)
	if n, err := c.Read(one); n != 0 || err == nil || !strings.Contains(err.Error(), "EOF") {
		t.Fatalf("after shutdown: read %d, %v; want EOF", n, err)
	}
	c.Close()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit code %d, want 0\n%s", code, errb.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("plcsim did not stop")
	}
	if !strings.Contains(errb.String(), "plcsim stopped") {
		t.Fatalf("no stop line:\n%s", errb.String())
	}
	if out.String() != "" {
		t.Fatalf("stdout must stay empty, got %q", out.String())
	}
}

// TestFaultFlag: plcsim --fault applies its rule on the wire.
func TestFaultFlag(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuf
	errb := newReadyBuf()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--log-format", "json",
			"--fault", "action=exception,exception=6,fc=3,count=1"}, &out, errb)
	}()
	addr := waitReady(t, errb)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	for i, want := range [][]byte{
		{0, 1, 0, 0, 0, 3, 1, 0x83, 0x06},    // first FC 3: the fault
		{0, 1, 0, 0, 0, 5, 1, 0x03, 2, 0, 0}, // count=1: served normally after
	} {
		c.Write([]byte{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1})
		got := make([]byte, len(want))
		if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("request %d: % X, %v; want % X", i, got, err, want)
		}
	}
	cancel()
	<-done
}

// waitReady returns the address from plcsim's readiness line.
func waitReady(t *testing.T, errb *syncBuf) string {
	t.Helper()
	select {
	case addr := <-errb.ready:
		return addr
	case <-time.After(5 * time.Second):
		t.Fatalf("no readiness line:\n%s", errb.String())
		return ""
	}
}

// TestUnitIDsSeparate is the regression for "-u 1 write-register 0 111 then
// -u 5 read-holding-registers 0 gives 111": with --unit-ids each unit listed
// has its own memory.
func TestUnitIDsSeparate(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuf
	errb := newReadyBuf()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--log-format", "json", "--unit-ids", "1,5"}, &out, errb)
	}()
	addr := waitReady(t, errb)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	for i, x := range []struct{ req, want []byte }{
		{[]byte{0, 1, 0, 0, 0, 6, 1, 6, 0, 0, 0, 111}, []byte{0, 1, 0, 0, 0, 6, 1, 6, 0, 0, 0, 111}}, // unit 1: write 111
		{[]byte{0, 2, 0, 0, 0, 6, 5, 3, 0, 0, 0, 1}, []byte{0, 2, 0, 0, 0, 5, 5, 3, 2, 0, 0}},        // unit 5: still 0
		{[]byte{0, 3, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1}, []byte{0, 3, 0, 0, 0, 5, 1, 3, 2, 0, 111}},      // unit 1: 111
	} {
		c.Write(x.req)
		got := make([]byte, len(x.want))
		if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, x.want) {
			t.Fatalf("request %d: % X, %v; want % X", i, got, err, x.want)
		}
	}
	c.Close()
	cancel()
	<-done
}

// TestUnknownUnitFlag: --unknown-unit silent sends nothing for a unit id
// without a memory; the connection serves the next request.
func TestUnknownUnitFlag(t *testing.T) {
	addr, _ := startRun(t, "--unit-ids", "1", "--unknown-unit", "silent")
	c := dialClient(t, addr)
	c.nc.Write([]byte{0, 1, 0, 0, 0, 6, 9, 3, 0, 0, 0, 1})
	c.nc.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
	if n, err := c.nc.Read(make([]byte, 16)); err == nil {
		t.Fatalf("unit 9 answered %d bytes", n)
	}
	if got := c.register(0); got != 0 {
		t.Fatalf("unit 1 register 0 = %d", got)
	}
}

// TestStopSummaryCountsFaults: the shutdown line counts the faults injected,
// by action, and leaves out a breakdown with nothing in it (it logged
// "resets_by=" with nothing after it, and no fault count at all).
func TestStopSummaryCountsFaults(t *testing.T) {
	addr := testutil.HeldAddr(t)
	logs, stop := startDevices(t, "--listen", addr,
		"--fault", "action=exception,exception=4,fc=3,count=2", "--fault", "action=wrong-fc,fc=4,count=1")
	c := dialClient(t, addr)
	for _, p := range []modbus.PDU{
		modbus.NewReadHoldingRegisters(0, 1), // exception 04
		modbus.NewReadHoldingRegisters(0, 1), // exception 04
		modbus.NewReadHoldingRegisters(0, 1), // answered
		modbus.NewReadInputRegisters(0, 1),   // answered under another function code
	} {
		if _, err := c.do(p); err != nil {
			t.Fatal(err)
		}
	}
	c.nc.Close()
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, logs.String())
	}
	line := stopLine(logs.String())
	if line == nil || line["faults"] != 3.0 || line["faults_by"] != "exception=2,wrong-fc=1" || line["resets"] != 0.0 {
		t.Fatalf("stop line %v: want faults 3, faults_by exception=2,wrong-fc=1, resets 0\n%s", line, logs.String())
	}
	if _, ok := line["resets_by"]; ok {
		t.Errorf("stop line %v has resets_by without a reset", line)
	}
}

// TestStopSummaryCountsRefusals: connections --allow closed at once are
// counted in the shutdown line (not_allowed); they were only in accepted,
// so a run whose every client was refused read "accepted=2 refused=0".
// Counters that stayed 0 are left out.
func TestStopSummaryCountsRefusals(t *testing.T) {
	addr := testutil.HeldAddr(t)
	logs, stop := startDevices(t, "--listen", addr, "--allow", "10.0.0.0/8")
	for range 2 {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		nc.SetReadDeadline(time.Now().Add(3 * time.Second))
		nc.Read(make([]byte, 1)) // closed at once by plcsim
		nc.Close()
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, logs.String())
	}
	line := stopLine(logs.String())
	if line == nil || line["not_allowed"] != 2.0 {
		t.Fatalf("stop line %v: want not_allowed 2\n%s", line, logs.String())
	}
	for _, k := range []string{"per_ip_refused", "tls_handshake_failures", "denied"} {
		if _, ok := line[k]; ok {
			t.Errorf("stop line %v has %s without any", line, k)
		}
	}
}

// stopLine is the last "plcsim stopped" line of a JSON log, or nil.
func stopLine(logs string) map[string]any {
	var line map[string]any
	for _, l := range strings.Split(logs, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(l), &rec) == nil && rec["message"] == "plcsim stopped" {
			line = rec
		}
	}
	return line
}
