package simulator_test

import (
	"errors"
	"io"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// recorder keeps every event the server reports.
type recorder struct {
	mu       sync.Mutex
	requests []simulator.RequestEvent
	writes   []simulator.WriteEvent
	conns    []simulator.ConnEvent
	resets   []simulator.ResetEvent
	faults   []simulator.FaultEvent
}

func (r *recorder) Request(e simulator.RequestEvent) {
	r.mu.Lock()
	r.requests = append(r.requests, e)
	r.mu.Unlock()
}
func (r *recorder) Write(e simulator.WriteEvent) {
	r.mu.Lock()
	r.writes = append(r.writes, e)
	r.mu.Unlock()
}
func (r *recorder) Connection(e simulator.ConnEvent) {
	r.mu.Lock()
	r.conns = append(r.conns, e)
	r.mu.Unlock()
}
func (r *recorder) Reset(e simulator.ResetEvent) {
	r.mu.Lock()
	r.resets = append(r.resets, e)
	r.mu.Unlock()
}
func (r *recorder) Fault(e simulator.FaultEvent) {
	r.mu.Lock()
	r.faults = append(r.faults, e)
	r.mu.Unlock()
}

func (r *recorder) count(f func(*recorder) int) int { r.mu.Lock(); defer r.mu.Unlock(); return f(r) }

func TestObserverWrites(t *testing.T) {
	rec := &recorder{}
	srv := simtest.Start(t, simulator.Config{Observer: rec, HoldingRegisters: 200})
	c := dialRaw(t, srv.Addr)
	reqs := []modbus.PDU{
		modbus.NewWriteSingleCoil(7, true),
		modbus.NewWriteMultipleCoils(10, []bool{true, false, true}),
		&modbus.WriteSingleRegister{Address: 100, Value: 42},
		modbus.NewWriteMultipleRegisters(101, []uint16{1, 2, 3}),
		&modbus.MaskWriteRegister{Address: 100, AndMask: 0xFF00, OrMask: 0x0001},
		modbus.NewReadWriteRegisters(0, 1, 150, []uint16{9}),
		&modbus.WriteFileRecord{Records: []modbus.FileRecord{{RefType: 6, File: 4, Record: 2, Data: []byte{0, 5, 0, 6}}}},
		modbus.NewReadHoldingRegisters(0, 2),                  // a read: no write event
		&modbus.WriteSingleRegister{Address: 500, Value: 1},   // out of range: exception 02, no write event
		modbus.NewWriteMultipleRegisters(199, []uint16{1, 2}), // out of range too
	}
	for i, p := range reqs {
		c.roundTrip(adu(uint16(i+1), 3, p))
	}
	want := []simulator.WriteEvent{
		{UnitID: 3, Function: modbus.FuncWriteSingleCoil, Address: 7, Coils: []bool{true}},
		{UnitID: 3, Function: modbus.FuncWriteMultipleCoils, Address: 10, Coils: []bool{true, false, true}},
		{UnitID: 3, Function: modbus.FuncWriteSingleRegister, Address: 100, Registers: []uint16{42}},
		{UnitID: 3, Function: modbus.FuncWriteMultipleRegisters, Address: 101, Registers: []uint16{1, 2, 3}},
		{UnitID: 3, Function: modbus.FuncMaskWriteRegister, Address: 100, Registers: []uint16{0xFF00, 1}},
		{UnitID: 3, Function: modbus.FuncReadWriteMultipleRegisters, Address: 150, Registers: []uint16{9}},
		{UnitID: 3, Function: modbus.FuncWriteFileRecord, Address: 2, File: 4, Registers: []uint16{5, 6}},
	}
	rec.mu.Lock()
	got := rec.writes
	nreq := len(rec.requests)
	rec.mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("got %d write events, want %d: %+v", len(got), len(want), got)
	}
	local := c.nc.LocalAddr().String()
	for i := range want {
		if got[i].Remote != local || got[i].Time.IsZero() {
			t.Errorf("write %d: remote %q time %v, want %q and a time", i, got[i].Remote, got[i].Time, local)
		}
		got[i].Remote, got[i].Time = "", time.Time{}
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("write %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if nreq != len(reqs) {
		t.Errorf("%d request events, want %d", nreq, len(reqs))
	}
	rec.mu.Lock()
	last := rec.requests[len(rec.requests)-1]
	rec.mu.Unlock()
	if last.Exception != modbus.IllegalDataAddress || last.Malformed || last.Function != modbus.FuncWriteMultipleRegisters || last.UnitID != 3 {
		t.Errorf("last request event = %+v, want FC 16 unit 3 answered with exception 02", last)
	}
}

func TestObserverConnectionsResetsFaults(t *testing.T) {
	rec := &recorder{}
	srv := simtest.Start(t, simulator.Config{Observer: rec, MaxConns: 1,
		Faults: []simulator.FaultRule{{Function: modbus.FuncReadHoldingRegisters, Action: simulator.FaultCloseRST, After: 1, Count: 1}}})
	c := dialRaw(t, srv.Addr)
	c.roundTrip(readReq(1))
	// A second connection evicts the first, idle (MaxConns 1).
	c2 := dialRaw(t, srv.Addr)
	if err := c.readUntilError(2 * time.Second); !errors.Is(err, io.EOF) { // evicted: the server's FIN first
		t.Fatalf("evicted connection: %v, want EOF", err)
	}
	c.nc.Close()
	waitFor(t, 2*time.Second, "evicted connection gone", func() bool { return srv.Stats().Conns == 1 })
	c2.write(readReq(2)) // the rule resets this one
	if err := c2.readUntilError(2 * time.Second); !isReset(err) {
		t.Fatalf("read after close-rst rule: %v, want a reset", err)
	}
	waitFor(t, 2*time.Second, "events", func() bool { return srv.Stats().Conns == 0 })
	// A malformed PDU (FC 3 with a byte too many) is dropped with a reset.
	c3 := dialRaw(t, srv.Addr)
	c3.write([]byte{0, 9, 0, 0, 0, 7, 1, 3, 0, 0, 0, 1, 0})
	if err := c3.readUntilError(2 * time.Second); !isReset(err) {
		t.Fatalf("read after malformed pdu: %v, want a reset", err)
	}
	waitFor(t, 2*time.Second, "events", func() bool {
		return rec.count(func(r *recorder) int { return len(r.conns) }) == 7
	})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var results []simulator.ConnResult
	for _, e := range rec.conns {
		results = append(results, e.Result)
	}
	wantConns := []simulator.ConnResult{simulator.ConnAccepted, simulator.ConnEvicted, simulator.ConnAccepted, simulator.ConnClosed,
		simulator.ConnClosed, simulator.ConnAccepted, simulator.ConnClosed}
	if !reflect.DeepEqual(results, wantConns) {
		t.Errorf("connection events %v, want %v", results, wantConns)
	}
	if len(rec.resets) != 2 || rec.resets[0].Reason != "fault" || rec.resets[1].Reason != "malformed-pdu" {
		t.Errorf("reset events %+v, want fault then malformed-pdu", rec.resets)
	}
	if len(rec.faults) != 1 || rec.faults[0].Action != simulator.FaultCloseRST {
		t.Errorf("fault events %+v, want one close-rst", rec.faults)
	}
	if n := len(rec.requests); n != 3 || !rec.requests[2].Malformed || rec.requests[1].Malformed {
		t.Errorf("request events %+v, want 3, only the last one malformed", rec.requests)
	}
	st := srv.Stats()
	if st.Requests != uint64(len(rec.requests)) || st.Resets != uint64(len(rec.resets)) || st.Faults != uint64(len(rec.faults)) {
		t.Errorf("stats %+v disagree with events: %d requests, %d resets, %d faults", st, len(rec.requests), len(rec.resets), len(rec.faults))
	}
}
