package transport

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/modbus"
)

// events returns "level message" for every line.
func events(l *syncBuffer) []string {
	var out []string
	for _, line := range bytes.Split(l.Bytes(), []byte("\n")) {
		var rec struct{ Level, Message, Remote string }
		if json.Unmarshal(line, &rec) == nil {
			out = append(out, rec.Level+" "+rec.Message)
		}
	}
	return out
}

// TestWriteAfterLossGoesOnce: a PLC restart is noticed, logged at warn
// (link down) and info (connected), and a write issued after it waits for
// the new link and reaches the PLC exactly once, with Retries 0.
func TestWriteAfterLossGoesOnce(t *testing.T) {
	s := startSim(t)
	logs := &syncBuffer{}
	log := zerolog.New(logs).Level(zerolog.InfoLevel)
	o := testOptions(t)
	o.Logger = &log
	st := states(&o)
	c := dial(t, s.Addr, o)
	if _, err := readHolding(t, c, 0, 1); err != nil {
		t.Fatal(err)
	}
	s.Restart(t)
	waitState(t, st, StateReconnecting)
	if _, err := c.Send(t.Context(), 1, &modbus.WriteSingleRegister{Address: 3, Value: 33}); err != nil {
		t.Fatalf("write after the restart: %v", err)
	}
	if n := s.FunctionRequests(6); n != 1 {
		t.Fatalf("the PLC received the write %d times, want 1", n)
	}
	if got := s.HoldingRegisters(3, 1)[0]; got != 33 {
		t.Fatalf("register 3 = %d, want 33", got)
	}
	if stats := c.Stats(); stats.Retries != 0 || stats.Reconnects != 1 {
		t.Fatalf("stats %+v: want 1 reconnect and no retry", stats)
	}
	want := []string{"info connected", "warn link down", "info connected"}
	var got []string
	for _, e := range events(logs) {
		if e == "info connected" || e == "warn link down" {
			got = append(got, e)
		}
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("link events %q, want %q\nall: %q", got, want, events(logs))
	}
}
