package admin

import (
	"net"
	"testing"
	"time"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
)

// TestMetricsAgreeWithClient drives the simulator with a scripted client
// and checks that every series counts exactly what the script sent.
func TestMetricsAgreeWithClient(t *testing.T) {
	r := newRig(t, Options{}, simulator.Config{HoldingRegisters: 100, MaxConns: 2})
	// Fault: the 2nd FC 6 request is dropped (executed, not answered), and
	// every FC 4 gets exception 06.
	r.sim.SetFaults(
		simulator.FaultRule{Action: simulator.FaultDrop, Function: modbus.FuncWriteSingleRegister, After: 1, Count: 1},
		simulator.FaultRule{Action: simulator.FaultException, Function: modbus.FuncReadInputRegisters, Exception: modbus.ServerDeviceBusy},
	)
	c := dialMB(t, r.sim.Addr)
	const reads = 7
	for i := 0; i < reads; i++ {
		c.call(1, modbus.NewReadHoldingRegisters(0, 10))
	}
	for i := 0; i < 3; i++ { // address 100 is past the table: exception 02
		if p := c.call(1, modbus.NewReadHoldingRegisters(95, 10)); string(p) != "\x83\x02" {
			t.Fatalf("read past the end = % X", p)
		}
	}
	c.call(9, &modbus.WriteSingleRegister{Address: 5, Value: 1})
	c.tid++ // the dropped one: no answer to wait for
	adu, _ := modbus.AppendADU(nil, c.tid, 9, &modbus.WriteSingleRegister{Address: 5, Value: 2})
	c.nc.Write(adu)
	c.call(9, &modbus.WriteSingleRegister{Address: 5, Value: 3})
	for i := 0; i < 2; i++ {
		if p := c.call(2, modbus.NewReadInputRegisters(0, 1)); string(p) != "\x84\x06" {
			t.Fatalf("FC 4 under the exception rule = % X", p)
		}
	}
	if p := c.call(3, &modbus.Raw{FC: 0x41, Data: []byte{1}}); string(p) != "\xC1\x01" {
		t.Fatalf("FC 65 = % X, want C1 01", p)
	}
	// A second connection, then a third that evicts the first, idle
	// longest (MaxConns 2).
	c2 := dialMB(t, r.sim.Addr)
	c2.call(1, modbus.NewReadCoils(0, 1))
	c3, err := net.Dial("tcp", r.sim.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	c.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.nc.Read(make([]byte, 1)); err == nil {
		t.Fatal("first connection still served after a third arrived with MaxConns 2")
	}
	c.nc.Close()
	// The second sends a malformed PDU and is reset.
	c2.nc.Write([]byte{0, 9, 0, 0, 0, 7, 1, 3, 0, 0, 0, 1, 0})
	c2.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := c2.nc.Read(make([]byte, 1)); err == nil {
		t.Fatal("malformed PDU answered")
	}
	waitFor(t, 3*time.Second, "the evicted and reset connections to be counted", func() bool {
		st := r.sim.Stats()
		return st.Evicted == 1 && st.Conns == 1
	})

	m := scrape(t, r)
	want := map[string]float64{
		`plcsim_requests_total{fc="3",unit="1"}`:                   reads + 3 + 1, // + the malformed FC 3
		`plcsim_requests_total{fc="6",unit="9"}`:                   3,
		`plcsim_requests_total{fc="4",unit="2"}`:                   2,
		`plcsim_requests_total{fc="65",unit="3"}`:                  1,
		`plcsim_requests_total{fc="1",unit="1"}`:                   1,
		`plcsim_exceptions_total{code="2",fc="3",unit="1"}`:        3,
		`plcsim_exceptions_total{code="6",fc="4",unit="2"}`:        2,
		`plcsim_exceptions_total{code="1",fc="65",unit="3"}`:       1,
		`plcsim_connections`:                                       1,
		`plcsim_connections_total{result="accepted"}`:              3,
		`plcsim_connections_total{result="refused"}`:               0,
		`plcsim_connections_total{result="evicted"}`:               1,
		`plcsim_resets_total{reason="malformed-pdu"}`:              1,
		`plcsim_resets_total{reason="framing-fault"}`:              0,
		`plcsim_faults_injected_total{action="drop"}`:              1,
		`plcsim_faults_injected_total{action="exception"}`:         2,
		`plcsim_malformed_pdus_total`:                              1,
		`plcsim_request_duration_seconds_count{fc="3"}`:            reads + 3,
		`plcsim_request_duration_seconds_count{fc="6"}`:            3,
		`plcsim_request_duration_seconds_bucket{fc="6",le="+Inf"}`: 3,
	}
	for k, v := range want {
		if got, ok := m[k]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	// Nothing the script did not send.
	var requests, exceptions float64
	for k, v := range m {
		switch {
		case len(k) > 21 && k[:22] == "plcsim_requests_total{":
			requests += v
		case len(k) > 23 && k[:24] == "plcsim_exceptions_total{":
			exceptions += v
		}
	}
	st := r.sim.Stats()
	if requests != float64(st.Requests) || requests != reads+3+1+3+2+1+1 {
		t.Errorf("requests in metrics %v, Stats %d, script sent %d", requests, st.Requests, reads+3+1+3+2+1+1)
	}
	if exceptions != float64(st.Exceptions) || exceptions != 6 {
		t.Errorf("exceptions in metrics %v, Stats %d, script caused 6", exceptions, st.Exceptions)
	}
	// The journal has the three FC 6 writes, the dropped one included.
	if n := r.a.journal.total(); n != 3 {
		t.Errorf("journal has %d writes, want 3 (the dropped answer's write executed)", n)
	}
}

// TestMetricsSilentUnknownUnit: a request to a unit without a memory under
// UnknownUnit silent gets no answer on purpose; it is a request, not a
// malformed PDU (the connection stays), and has no answer to time. It was
// counted in plcsim_malformed_pdus_total, which /api/v1/counters'
// malformed_pdus (0) contradicted.
func TestMetricsSilentUnknownUnit(t *testing.T) {
	r := newRig(t, Options{}, simulator.Config{UnitIDs: []uint8{1}, UnknownUnit: simulator.UnknownUnitSilent})
	c := dialMB(t, r.sim.Addr)
	c.tid++ // unit 7 is not served: no answer to wait for
	adu, _ := modbus.AppendADU(nil, c.tid, 7, modbus.NewReadHoldingRegisters(0, 1))
	c.nc.Write(adu)
	c.call(1, modbus.NewReadHoldingRegisters(0, 1)) // answered after the silent one: it was handled

	m := scrape(t, r)
	want := map[string]float64{
		`plcsim_requests_total{fc="3",unit="7"}`:        1,
		`plcsim_requests_total{fc="3",unit="1"}`:        1,
		`plcsim_malformed_pdus_total`:                   0,
		`plcsim_request_duration_seconds_count{fc="3"}`: 1, // only the answered one
	}
	for k, v := range want {
		if got := m[k]; got != v {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	if st := r.sim.Stats(); st.MalformedPDUs != 0 {
		t.Errorf("Stats().MalformedPDUs = %d, want 0", st.MalformedPDUs)
	}
}

// TestMetricsBadInput: malformed PDUs, framing faults and frames of another
// protocol are in /metrics as Stats counts them, under either policy.
// Under MalformedPDU exception the answered 03 was not counted in
// plcsim_malformed_pdus_total (0 while Stats said 1), and framing faults
// and foreign frames were in no series at all (with OnMalformed close no
// reset counts them either).
func TestMetricsBadInput(t *testing.T) {
	cases := []struct {
		name   string
		policy simulator.PDUPolicy
		action simulator.MalformedAction
		frame  []byte // the framing fault
	}{
		{"strict reset", simulator.PDUStrict, simulator.ActionReset, []byte{0, 2, 0, 0, 0, 1, 1}},
		{"exception close", simulator.PDUException, simulator.ActionClose, []byte{0, 2, 0, 0, 1, 0, 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, Options{}, simulator.Config{MalformedPDU: tc.policy, OnMalformed: tc.action})
			// A malformed FC 3: one byte too many.
			c := dialMB(t, r.sim.Addr)
			malformed := []byte{0, 1, 0, 0, 0, 7, 1, 3, 0, 0, 0, 1, 0}
			if tc.policy == simulator.PDUException {
				if p := c.raw(malformed); string(p) != "\x83\x03" {
					t.Fatalf("malformed PDU answered % X, want 83 03", p)
				}
			} else {
				c.nc.Write(malformed)
				c.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
				if _, err := c.nc.Read(make([]byte, 1)); err == nil {
					t.Fatal("malformed PDU answered under strict")
				}
			}
			// Two framing faults, each on its own connection.
			for range 2 {
				f := dialMB(t, r.sim.Addr)
				f.nc.Write(tc.frame)
				f.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
				if _, err := f.nc.Read(make([]byte, 1)); err == nil {
					t.Fatalf("framing fault % X answered", tc.frame)
				}
			}
			// Three frames of protocol 5, then a request answered on the
			// same connection: they were read and discarded.
			g := dialMB(t, r.sim.Addr)
			for range 3 {
				g.nc.Write([]byte{0, 9, 0, 5, 0, 6, 1, 3, 0, 0, 0, 1})
			}
			g.call(1, modbus.NewReadHoldingRegisters(0, 1))
			waitFor(t, 3*time.Second, "two framing faults counted", func() bool { return r.sim.Stats().FramingFaults == 2 })

			m := scrape(t, r)
			st := r.sim.Stats()
			want := map[string]float64{
				`plcsim_malformed_pdus_total`:          1,
				`plcsim_framing_faults_total`:          2,
				`plcsim_foreign_protocol_frames_total`: 3,
			}
			if tc.policy == simulator.PDUException {
				want[`plcsim_exceptions_total{code="3",fc="3",unit="1"}`] = 1
			}
			for k, v := range want {
				if got, ok := m[k]; !ok || got != v {
					t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
				}
			}
			if st.MalformedPDUs != 1 || st.FramingFaults != 2 || st.ForeignProtocol != 3 {
				t.Errorf("Stats: malformed %d, framing %d, foreign %d; want 1, 2, 3", st.MalformedPDUs, st.FramingFaults, st.ForeignProtocol)
			}
		})
	}
}
