package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/modbus"
)

// holdFirstWriter makes the first request that starts writing (wlock
// held) wait until release is closed; later writers pass at once. It is
// undone at the end of the test.
func holdFirstWriter(t *testing.T, release <-chan struct{}) {
	t.Helper()
	var first atomic.Bool
	testHookHeld = func(*link) {
		if first.CompareAndSwap(false, true) {
			select {
			case <-release:
			case <-time.After(waitTimeout):
			}
		}
	}
	t.Cleanup(func() { testHookHeld = nil })
}

// collectRequests serves one connection: it reads want request ADUs,
// reports the register address of each, and answers them all, as
// plcAnswer would, in one write.
func collectRequests(want int, got chan<- []uint16) func(*fakeConn) {
	return func(c *fakeConn) {
		var addrs []uint16
		var out []byte
		for range want {
			h, req, err := c.readRequest()
			if err != nil {
				return
			}
			addrs = append(addrs, req.(*modbus.ReadRegisters).Address)
			out, _ = modbus.AppendADU(out, h.TID, h.UnitID, plcAnswer(req))
		}
		got <- addrs
		c.Write(out)
		servePLC(c)
	}
}

// TestQueuedRequestGivesUp: a request waiting in the write queue whose ctx
// ends leaves the queue unsent (OpError.Sent false, never on the wire);
// the others queued with it are written and answered.
func TestQueuedRequestGivesUp(t *testing.T) {
	got := make(chan []uint16, 1)
	f := startFake(t, collectRequests(2, got))
	o := testOptions(t)
	o.MaxInFlight = 4
	c := dial(t, f.addr, o)
	release := make(chan struct{})
	holdFirstWriter(t, release)

	errs := make(chan error, 3)
	go func() { // the writer, held with wlock
		rsp, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(10, 1))
		if err == nil {
			checkRegs(t, rsp, 10, 1)
		}
		errs <- err
	}()
	waitQueue(t, c, 0, func(l *link) bool { return l.wbusy })
	ctx, cancel := context.WithCancel(t.Context())
	gaveUp := make(chan error, 1)
	go func() { // queued, then cancelled
		_, err := c.Send(ctx, 1, modbus.NewReadHoldingRegisters(20, 1))
		gaveUp <- err
	}()
	waitQueue(t, c, 1, nil)
	go func() { // queued, written by the writer
		rsp, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(30, 1))
		if err == nil {
			checkRegs(t, rsp, 30, 1)
		}
		errs <- err
	}()
	waitQueue(t, c, 2, nil)
	cancel()
	err := recv(t, gaveUp, "the cancelled request")
	if !errors.Is(err, context.Canceled) || opError(t, err).Sent {
		t.Fatalf("cancelled queued request = %v (sent %v), want context.Canceled, not sent", err, opError(t, err).Sent)
	}
	close(release)
	for range 2 {
		if err := recv(t, errs, "a request's end"); err != nil {
			t.Fatal(err)
		}
	}
	addrs := recv(t, got, "the requests the server read")
	if len(addrs) != 2 || addrs[0] != 10 || addrs[1] != 30 {
		t.Fatalf("server read requests for %v, want [10 30] (the cancelled one never written)", addrs)
	}
	if s := c.Stats(); s.LinkDowns != 0 {
		t.Fatalf("Stats = %+v, want the link kept", s)
	}
}

// TestWriterGivesUpQueueWritesItself: the request holding wlock gives up
// before writing while others are queued behind it; they are not lost or
// stuck: each writes for itself, and each gets its own answer.
func TestWriterGivesUpQueueWritesItself(t *testing.T) {
	got := make(chan []uint16, 1)
	f := startFake(t, collectRequests(3, got))
	o := testOptions(t)
	o.MaxInFlight = 4
	c := dial(t, f.addr, o)
	release := make(chan struct{})
	holdFirstWriter(t, release)

	ctx, cancel := context.WithCancel(t.Context())
	writer := make(chan error, 1)
	go func() {
		_, err := c.Send(ctx, 1, modbus.NewReadHoldingRegisters(1, 1))
		writer <- err
	}()
	waitQueue(t, c, 0, func(l *link) bool { return l.wbusy })
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for _, a := range []uint16{40, 50, 60} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rsp, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(a, 1))
			if err == nil {
				checkRegs(t, rsp, a, 1)
			}
			errs <- err
		}()
	}
	waitQueue(t, c, 3, nil)
	cancel()
	close(release)
	if err := recv(t, writer, "the writer's end"); !errors.Is(err, context.Canceled) || opError(t, err).Sent {
		t.Fatalf("writer = %v, want context.Canceled, not sent", err)
	}
	wg.Wait()
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	addrs := recv(t, got, "the requests the server read")
	seen := map[uint16]bool{}
	for _, a := range addrs {
		seen[a] = true
	}
	if len(addrs) != 3 || !seen[40] || !seen[50] || !seen[60] {
		t.Fatalf("server read requests for %v, want 40, 50 and 60 once each (not the cancelled writer's)", addrs)
	}
}

// TestCoalescedWrites: 16 requests in flight at once on one connection go
// out in one write system call (the first writer writes the 15 queued
// behind it with its own), in the order they were queued, and each caller
// gets the answer to its own request. The link's write calls are counted:
// 16 when each request wrote alone.
func TestCoalescedWrites(t *testing.T) {
	const n = MaxInFlightLimit
	got := make(chan []uint16, 1)
	f := startFake(t, collectRequests(n, got))
	o := testOptions(t)
	o.MaxInFlight = n
	c := dial(t, f.addr, o)
	release := make(chan struct{})
	holdFirstWriter(t, release)

	var wg sync.WaitGroup
	errs := make(chan error, n)
	send := func(a uint16) {
		defer wg.Done()
		rsp, err := c.Send(t.Context(), 1, modbus.NewReadHoldingRegisters(a, 1))
		if err == nil {
			checkRegs(t, rsp, a, 1)
		}
		errs <- err
	}
	wg.Add(1)
	go send(100)
	waitQueue(t, c, 0, func(l *link) bool { return l.wbusy })
	for i := 1; i < n; i++ {
		wg.Add(1)
		go send(100 + uint16(i))
		waitQueue(t, c, i, nil) // queued in this order
	}
	close(release)
	wg.Wait()
	w := currentLink(t, c).writes
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	addrs := recv(t, got, "the requests the server read")
	for i, a := range addrs {
		if a != 100+uint16(i) {
			t.Fatalf("server read requests for %v, want 100..115 in queue order", addrs)
		}
	}
	if w != 1 {
		t.Errorf("%d write calls for %d requests, want 1", w, n)
	}
}

// waitQueue waits until c's link has n requests queued for writing and,
// when cond is not nil, cond holds (under the queue's lock).
func waitQueue(t *testing.T, c *Conn, n int, cond func(*link) bool) {
	t.Helper()
	waitLinkQueue(t, currentLink(t, c), n, cond)
}

func waitLinkQueue(t *testing.T, l *link, n int, cond func(*link) bool) {
	t.Helper()
	testutil.WaitFor(t, waitTimeout, fmt.Sprintf("%d requests in the write queue", n), func() bool {
		l.wqmu.Lock()
		defer l.wqmu.Unlock()
		return len(l.wq) == n && (cond == nil || cond(l))
	})
}

// blockConn is a linkConn whose writes block, while blocking is on, until
// the write deadline is moved to the past; it records what was written.
type blockConn struct {
	net.Conn // nil: only the methods below are used
	mu       sync.Mutex
	block    bool
	dl       time.Time
	blocked  chan struct{} // a write is blocked (buffered)
	changed  chan struct{} // the write deadline moved (buffered)
	written  []byte
}

func (b *blockConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	for b.block {
		if !b.dl.IsZero() && !time.Now().Before(b.dl) {
			b.block = false // one blocked write is enough
			b.mu.Unlock()
			return 0, os.ErrDeadlineExceeded
		}
		b.mu.Unlock()
		select {
		case b.blocked <- struct{}{}:
		default:
		}
		select {
		case <-b.changed:
		case <-time.After(waitTimeout):
			return 0, errors.New("blockConn: write blocked for good")
		}
		b.mu.Lock()
	}
	defer b.mu.Unlock()
	b.written = append(b.written, p...)
	return len(p), nil
}

func (b *blockConn) SetWriteDeadline(t time.Time) error {
	b.mu.Lock()
	b.dl = t
	b.mu.Unlock()
	select {
	case b.changed <- struct{}{}:
	default:
	}
	return nil
}

func (b *blockConn) SetDeadline(t time.Time) error         { return b.SetWriteDeadline(t) }
func (b *blockConn) SetReadDeadline(time.Time) error       { return nil }
func (b *blockConn) Close() error                          { return nil }
func (b *blockConn) Read([]byte) (int, error)              { return 0, io.EOF } // the link's linger after its failure
func (b *blockConn) CloseWrite() error                     { return nil }
func (b *blockConn) SyscallConn() (syscall.RawConn, error) { return nil, errors.New("no raw conn") }

// TestTakenRequestStopsBlockedWrite: a request whose ADU the writer has
// taken, in a write blocked on a full send buffer, gives up (its ctx ends):
// it moves the write deadline to the past, the write returns with nothing
// sent, it fails with its ctx's error, not sent, and the others (the
// writer and the other queued request) write again by themselves. Without
// the kick it would wait as long as the writer's deadline (an hour here).
// The test holds rlock, so that no request reads (blockConn has nothing
// to read); the link's failure at the end ends the two waiting for answers.
func TestTakenRequestStopsBlockedWrite(t *testing.T) {
	o := Options{MaxInFlight: 4, Timeout: time.Hour}.withDefaults()
	c := &Conn{opts: o, log: *o.Logger}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	defer c.cancel()
	nc := &blockConn{block: true, blocked: make(chan struct{}, 1), changed: make(chan struct{}, 1)}
	l := newLink(c, nc)
	if !l.rlock.tryLock() {
		t.Fatal("rlock of a new link is held")
	}
	release := make(chan struct{})
	holdFirstWriter(t, release)

	send := func(ctx context.Context, addr uint16, res chan<- result) {
		cl := c.getCall(ctx, 1, modbus.NewReadHoldingRegisters(addr, 1), time.Now(), o.Timeout)
		tid, err := l.register(cl)
		if err != nil {
			res <- result{err: err}
			return
		}
		adu, _ := modbus.AppendADU(nil, tid, 1, cl.req)
		res <- l.run(ctx, cl, tid, adu)
	}
	wres, ares, bres := make(chan result, 1), make(chan result, 1), make(chan result, 1)
	go send(context.Background(), 1, wres)
	busy := func(l *link) bool { return l.wbusy }
	lq := func(n int) { waitLinkQueue(t, l, n, busy) }
	lq(0)
	actx, cancel := context.WithCancel(context.Background())
	go send(actx, 2, ares)
	lq(1)
	go send(context.Background(), 3, bres)
	lq(2)
	close(release)
	recv(t, nc.blocked, "the batch write to block")
	cancel()
	if a := recv(t, ares, "the taken request's end"); !errors.Is(a.err, context.Canceled) || a.sent {
		t.Fatalf("taken request = %v, sent %v; want context.Canceled, not sent", a.err, a.sent)
	}
	testutil.WaitFor(t, waitTimeout, "the other two requests written", func() bool {
		nc.mu.Lock()
		defer nc.mu.Unlock()
		return len(nc.written) >= 24
	})
	lost := errors.New("test: link down")
	l.fail(lost)
	for _, ch := range []chan result{wres, bres} {
		if r := recv(t, ch, "a request's end"); !errors.Is(r.err, lost) || !r.sent {
			t.Fatalf("written request = %v, sent %v; want the link's end, sent", r.err, r.sent)
		}
	}
	nc.mu.Lock()
	defer nc.mu.Unlock()
	var addrs []uint16
	for b := nc.written; len(b) >= 12; b = b[12:] {
		addrs = append(addrs, binary.BigEndian.Uint16(b[8:]))
	}
	if len(addrs) != 2 || addrs[0]+addrs[1] != 4 || len(nc.written) != 24 {
		t.Fatalf("written: requests for %v (%d bytes), want 1 and 3 only", addrs, len(nc.written))
	}
}

// TestQueuedReaderWritesAgain: a queued request may take the reader's role
// before the writer has written its ADU. When the writer then writes none
// of it (the writer's own ctx ended: again), it wakes the request from its
// read, and the request writes its ADU itself and gets its answer. Left
// blocked, the request would read until its deadline (an hour) for the
// answer to a request never sent.
func TestQueuedReaderWritesAgain(t *testing.T) {
	first := make(chan struct{}, 1) // the server has read the first request
	answer := make(chan struct{})   // the server may answer it
	f := startFake(t, func(c *fakeConn) {
		h, req, err := c.readRequest()
		if err != nil {
			return
		}
		first <- struct{}{}
		select {
		case <-answer:
		case <-time.After(waitTimeout):
			return
		}
		if c.answer(h, plcAnswer(req)) == nil {
			servePLC(c)
		}
	})
	o := testOptions(t)
	o.MaxInFlight = 4
	o.Timeout = time.Hour
	c := dial(t, f.addr, o)
	var hold atomic.Bool
	held, release := make(chan struct{}, 1), make(chan struct{})
	testHookHeld = func(*link) {
		if hold.CompareAndSwap(true, false) {
			held <- struct{}{}
			select {
			case <-release:
			case <-time.After(waitTimeout):
			}
		}
	}
	t.Cleanup(func() { testHookHeld = nil })

	type out struct {
		rsp modbus.PDU
		err error
	}
	send := func(ctx context.Context, a uint16, res chan<- out) {
		rsp, err := c.Send(ctx, 1, modbus.NewReadHoldingRegisters(a, 1))
		res <- out{rsp, err}
	}
	rres, wres, qres := make(chan out, 1), make(chan out, 1), make(chan out, 1)
	go send(t.Context(), 10, rres) // reads the link for its answer
	recv(t, first, "the first request at the server")
	waitQueue(t, c, 0, func(l *link) bool { return !l.wbusy }) // it gave wlock back
	hold.Store(true)
	wctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go send(wctx, 20, wres) // holds wlock, held before it takes the queue
	recv(t, held, "the writer to hold wlock")
	go send(t.Context(), 30, qres) // queued for the writer
	waitQueue(t, c, 1, nil)
	close(answer) // the first request's answer: the queued one takes over reading
	l := currentLink(t, c)
	testutil.WaitFor(t, waitTimeout, "the queued request to read the link", func() bool {
		l.kmu.Lock()
		r := l.reader
		l.kmu.Unlock()
		l.wqmu.Lock()
		defer l.wqmu.Unlock()
		return r != nil && r.wstate == wQueued
	})
	if r := recv(t, rres, "the first request's end"); r.err != nil {
		t.Fatal(r.err)
	} else {
		checkRegs(t, r.rsp, 10, 1)
	}
	cancel() // the writer writes nothing: the queued request must write itself
	close(release)
	if r := recv(t, wres, "the writer's end"); !errors.Is(r.err, context.Canceled) || opError(t, r.err).Sent {
		t.Fatalf("writer = %v, want context.Canceled, not sent", r.err)
	}
	if r := recv(t, qres, "the queued request's end"); r.err != nil {
		t.Fatalf("queued request = %v, want its answer", r.err)
	} else {
		checkRegs(t, r.rsp, 30, 1)
	}
	if s := c.Stats(); s.LinkDowns != 0 {
		t.Fatalf("Stats = %+v, want the link kept", s)
	}
}
