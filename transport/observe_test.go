package transport

import (
	"sync/atomic"
	"testing"

	"github.com/plcctl/plcctl/modbus"
)

// stateEvent is one OnStateChange call with the counters seen in it.
type stateEvent struct {
	s          State
	downs, ups uint64
}

// TestStateAndCounters: what a `watch` relies on to mark a gap. Each loss
// gives one OnStateChange(StateReconnecting) with LinkDowns already one
// ahead of Reconnects, each recovery one OnStateChange(StateConnected) with
// them equal again; Close gives StateClosed and counts no loss.
func TestStateAndCounters(t *testing.T) {
	f := startFake(t, servePLC)
	var conn atomic.Pointer[Conn]
	events := make(chan stateEvent, 64)
	o := testOptions(t)
	o.OnStateChange = func(s State) {
		e := stateEvent{s: s}
		if c := conn.Load(); c != nil {
			st := c.Stats()
			e.downs, e.ups = st.LinkDowns, st.Reconnects
		}
		events <- e
	}
	c := dial(t, f.addr, o)
	conn.Store(c)
	want := []stateEvent{{s: StateConnecting}, {s: StateConnected}}
	got := []stateEvent{recv(t, events, "connecting"), recv(t, events, "connected")}
	for gap := uint64(1); gap <= 3; gap++ {
		f.restart()
		want = append(want, stateEvent{StateReconnecting, gap, gap - 1}, stateEvent{StateConnected, gap, gap})
		got = append(got, recv(t, events, "reconnecting"), recv(t, events, "connected again"))
		if _, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(0, 1)); err != nil {
			t.Fatalf("Send after gap %d = %v", gap, err)
		}
	}
	c.Close()
	want = append(want, stateEvent{StateClosed, 3, 3})
	got = append(got, recv(t, events, "closed"))
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("state change %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	select {
	case e := <-events:
		t.Errorf("extra state change %+v", e)
	default:
	}
}

// TestCountersBeforeCallers: a caller that just got an error from a lost
// link already sees it in Stats.LinkDowns, and one that just got an answer
// over a new link already sees it in Stats.Reconnects, so a poller can mark
// the gap in the same round.
func TestCountersBeforeCallers(t *testing.T) {
	f := startFake(t, func(c *fakeConn) {
		if c.n > 0 {
			servePLC(c)
			return
		}
		c.readRequest()
		c.reset()
	})
	c := dial(t, f.addr, testOptions(t))
	_, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(0, 1))
	if err == nil {
		t.Fatal("Send over a link reset mid-request succeeded")
	}
	if s := c.Stats(); s.LinkDowns != 1 {
		t.Errorf("Send = %v, then Stats = %+v: want the loss counted already", err, s)
	}
	if _, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(0, 1)); err != nil {
		t.Fatalf("Send over the next link = %v", err)
	}
	if s := c.Stats(); s.Reconnects != 1 {
		t.Errorf("answered over the second link, then Stats = %+v: want the reconnect counted already", s)
	}
}
