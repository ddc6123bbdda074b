package simulator_test

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// TestMaxConnsEvictsIdlest: when MaxConns is reached a new client is served
// and the connection idle longest is closed gracefully (a FIN, then our
// close; no reset) [IG §4.2.1 p.11]. Issue 8 defect 3: a full server used to
// turn every new client away while idle connections held the slots.
func TestMaxConnsEvictsIdlest(t *testing.T) {
	s := simtest.Start(t, simulator.Config{MaxConns: 2})
	a, b := dialRaw(t, s.Addr), dialRaw(t, s.Addr)
	a.roundTrip(readReq(1))
	b.roundTrip(readReq(1))
	a.roundTrip(readReq(2)) // a is now the more recently active: b is idlest
	c := dialRaw(t, s.Addr)
	if got := c.roundTrip(readReq(3)); got[1] != 3 {
		t.Fatalf("new client's answer % X, want tid 3", got)
	}
	if err := b.readUntilError(2 * time.Second); !errors.Is(err, io.EOF) { // evicted: the server's FIN first
		t.Fatalf("evicted connection: %v, want EOF", err)
	}
	b.nc.Close()
	if got := a.roundTrip(readReq(4)); got[1] != 4 {
		t.Fatalf("surviving client's answer % X, want tid 4", got)
	}
	waitFor(t, 2*time.Second, "evicted connection gone", func() bool { return s.Stats().Conns == 2 })
	st := s.Stats()
	if st.Evicted != 1 || st.Refused != 0 || st.Resets != 0 || st.Accepted != 3 || st.PeerEOF != 1 {
		t.Fatalf("stats %+v: want 3 accepted, 1 evicted gracefully, none refused or reset", st)
	}
	conns := s.Connections()
	if len(conns) != 2 || conns[0].Remote != a.nc.LocalAddr().String() || conns[1].Remote != c.nc.LocalAddr().String() {
		t.Fatalf("Connections() = %+v, want a then c", conns)
	}
}

// TestMaxConnsRefusedHoldsNoDescriptor: a connection refused because every
// served one is busy with a request is closed at once (a FIN): it holds
// no descriptor for a drain (issue 8: 7,510 descriptors at peak under a
// connection flood), even while the peer never closes.
func TestMaxConnsRefusedHoldsNoDescriptor(t *testing.T) {
	s := simtest.Start(t, simulator.Config{MaxConns: 1, DrainTimeout: time.Minute, Logger: nopLogger()})
	s.SetFaults(simulator.FaultRule{Action: simulator.FaultDelay, Delay: time.Minute, Count: 1})
	a := dialRaw(t, s.Addr)
	a.write(readReq(1)) // a's answer is delayed (until shutdown): a is busy, not idle
	waitFor(t, 2*time.Second, "request under way", func() bool { return s.Stats().Requests == 1 })
	before := serverSockets(t, s.Addr) // the listener and a
	var refused []*rawClient
	for i := 0; i < 5; i++ {
		c := dialRaw(t, s.Addr)
		c.write(readReq(2)) // discarded by the server before its close: a FIN, or a reset if it arrives during the close
		if err := c.readUntilError(2 * time.Second); !errors.Is(err, io.EOF) && !isReset(err) {
			t.Fatalf("refused connection %d: %v, want it closed at once", i, err)
		}
		refused = append(refused, c) // kept open: the server must not wait for its FIN
	}
	waitFor(t, 2*time.Second, "refusals counted", func() bool { return s.Stats().Refused == 5 })
	if n := serverSockets(t, s.Addr); n != before {
		t.Fatalf("server holds %d sockets after 5 refusals, want %d (listener and the busy connection)", n, before)
	}
	if st := s.Stats(); st.Evicted != 0 || st.Resets != 0 {
		t.Fatalf("stats %+v: want no eviction (the only connection was busy) and no reset", st)
	}
}

// TestConnections: each connection is listed with its remote address, the
// time it opened, its request and answer counts and its last activity.
func TestConnections(t *testing.T) {
	s := simtest.Start(t, simulator.Config{})
	start := time.Now()
	a := dialRaw(t, s.Addr)
	for i := 0; i < 3; i++ {
		a.roundTrip(readReq(uint16(i)))
	}
	b := dialRaw(t, s.Addr)
	// An answer is counted once the server's write returned, which can be
	// just after the client read it.
	waitFor(t, 2*time.Second, "two connections, a's answers counted", func() bool {
		c := s.Connections()
		return len(c) == 2 && c[0].Responses >= 3
	})
	conns := s.Connections()
	ca, cb := conns[0], conns[1]
	if ca.Remote != a.nc.LocalAddr().String() || cb.Remote != b.nc.LocalAddr().String() {
		t.Fatalf("remotes %s, %s; want %s, %s", ca.Remote, cb.Remote, a.nc.LocalAddr(), b.nc.LocalAddr())
	}
	if ca.ID >= cb.ID || ca.Requests != 3 || ca.Responses != 3 || cb.Requests != 0 || ca.Draining || cb.Draining {
		t.Fatalf("Connections() = %+v, want a (3 requests answered) before b (none), neither draining", conns)
	}
	if ca.Opened.Before(start) || ca.LastActivity.Before(ca.Opened) || !cb.LastActivity.Equal(cb.Opened) {
		t.Fatalf("times: a opened %v active %v, b opened %v active %v (test began %v)",
			ca.Opened, ca.LastActivity, cb.Opened, cb.LastActivity, start)
	}
	a.closeGracefully()
	waitFor(t, 2*time.Second, "a gone", func() bool { return len(s.Connections()) == 1 })
	if got := s.Connections()[0].ID; got != cb.ID {
		t.Fatalf("remaining connection %d, want %d", got, cb.ID)
	}
}
