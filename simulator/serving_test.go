package simulator_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// These tests hold on every path a request can take through plcsim's
// connection loop (on Linux: served inside the raw read, or handed back to
// the loop for what it cannot do there).

// TestPeerResetWhileIdle: a client that resets its connection after an
// answer is counted as a peer reset, not as a reset of ours or a FIN.
func TestPeerResetWhileIdle(t *testing.T) {
	s := simtest.Start(t, simulator.Config{Logger: nopLogger()})
	c := dialRaw(t, s.Addr)
	c.roundTrip(readReq(1))
	c.nc.SetLinger(0)
	c.nc.Close()
	waitFor(t, 10*time.Second, "the connection to end", func() bool { return s.Stats().Conns == 0 })
	if st := s.Stats(); st.PeerResets != 1 || st.PeerEOF != 0 || st.Resets != 0 {
		t.Fatalf("stats %+v: want one peer reset, no FIN, no reset of ours", st)
	}
}

// TestUserFunctionPipelined: a user function between two register reads
// of one batch is answered in order, each answer with its tid.
func TestUserFunctionPipelined(t *testing.T) {
	s := simtest.Start(t, simulator.Config{Logger: nopLogger(), UserFunctions: map[modbus.FunctionCode]simulator.UserFunc{
		65: func(data []byte) ([]byte, modbus.ExceptionCode) { return append([]byte{0xAA}, data...), 0 },
	}})
	s.SetHoldingRegisters(0, 7)
	c := dialRaw(t, s.Addr)
	var batch []byte
	batch = append(batch, readReq(1)...)
	batch = append(batch, adu(2, 1, &modbus.Raw{FC: 65, Data: []byte{1, 2}})...)
	batch = append(batch, readReq(3)...)
	c.write(batch)
	want := [][]byte{
		adu(1, 1, &modbus.RegistersResponse{FC: modbus.FuncReadHoldingRegisters, Data: []byte{0, 7}}),
		adu(2, 1, &modbus.Raw{FC: 65, Data: []byte{0xAA, 1, 2}}),
		adu(3, 1, &modbus.RegistersResponse{FC: modbus.FuncReadHoldingRegisters, Data: []byte{0, 7}}),
	}
	for i, w := range want {
		got, err := c.readADU(2 * time.Second)
		if err != nil || !bytes.Equal(got, w) {
			t.Fatalf("answer %d: % X, %v; want % X", i, got, err, w)
		}
	}
}

// TestTraceLogsFrames: at trace level every frame received and sent is
// logged in hex, pipelined ones too.
func TestTraceLogsFrames(t *testing.T) {
	log, buf := captureLogger(t)
	l := log.Level(zerolog.TraceLevel)
	s := simtest.Start(t, simulator.Config{Logger: &l})
	c := dialRaw(t, s.Addr)
	req := append(readReq(1), readReq(2)...)
	c.write(req)
	want := []string{fmt.Sprintf(`"rx":"%x"`, readReq(1)), fmt.Sprintf(`"rx":"%x"`, readReq(2))}
	for i := range 2 {
		a, err := c.readADU(2 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			want = append(want, fmt.Sprintf(`"tx":"%x`, a)) // the batch's answers in one write, or one each
		} else {
			want = append(want, fmt.Sprintf("%x", a))
		}
	}
	for _, w := range want {
		waitFor(t, 5*time.Second, w, func() bool { return strings.Contains(buf.String(), w) })
	}
}
