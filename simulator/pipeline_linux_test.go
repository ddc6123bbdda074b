package simulator_test

import (
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// syscw returns the write system calls this process has made.
func syscw(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Skip("no /proc/self/io:", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "syscw: "); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Skip("no syscw in /proc/self/io")
	return 0
}

// TestPipelinedAnswersOneWrite: requests that arrive together are read in
// one read and answered in one write, in order, each answer with its own
// tid: the process's write system calls (/proc/self/io syscw: the test's
// one write and plcsim's) are counted, which is deterministic where the
// timing of TCP segments is not.
// Then a fault on a pipelined request still acts on the stream in order:
// the answers before it come first.
func TestPipelinedAnswersOneWrite(t *testing.T) {
	sim := simtest.Start(t, simulator.Config{Logger: nopLogger()})
	sim.SetHoldingRegisters(0, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25)
	nc, err := net.DialTimeout("tcp", sim.Addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	var reqs []byte
	const n = 16
	for i := range n {
		reqs = append(reqs, adu(uint16(100+i), 1, &modbus.ReadRegisters{FC: modbus.FuncReadHoldingRegisters, Address: uint16(i), Quantity: 1})...)
	}
	const rspLen = modbus.MBAPHeaderLen + 2 + 2
	buf := make([]byte, 4096)
	w0 := syscw(t)
	if _, err := nc.Write(reqs); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(nc, buf[:n*rspLen]); err != nil {
		t.Fatal(err)
	}
	if w := syscw(t) - w0; w > 1+2 { // ours, plcsim's, and one more if the requests came in two segments
		t.Errorf("%d write system calls for one write of %d requests and their answers, want at most 3", w, n)
	}
	for i := range n {
		a := buf[i*rspLen : (i+1)*rspLen]
		if tid, v := uint16(a[0])<<8|uint16(a[1]), uint16(a[9])<<8|uint16(a[10]); tid != uint16(100+i) || v != uint16(10+i) {
			t.Errorf("answer %d: tid %d value %d, want tid %d value %d", i, tid, v, 100+i, 10+i)
		}
	}
	// The 3rd request after this is closed with a FIN instead of answered:
	// the two before it are answered first.
	sim.SetFaults(simulator.FaultRule{Action: simulator.FaultCloseFIN, Nth: n + 3})
	reqs = reqs[:0]
	for i := range 4 {
		reqs = append(reqs, adu(uint16(200+i), 1, &modbus.ReadRegisters{FC: modbus.FuncReadHoldingRegisters, Address: 0, Quantity: 1})...)
	}
	if _, err := nc.Write(reqs); err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(nc)
	if err != nil {
		t.Fatalf("after the FIN fault: %v (want a clean end of stream)", err)
	}
	if len(all) != 2*rspLen || all[1] != 200 || all[rspLen+1] != 201 {
		t.Errorf("before the FIN: % x, want the answers to tids 200 and 201", all)
	}
}
