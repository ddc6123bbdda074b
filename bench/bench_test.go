package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"

	gb "github.com/goburrow/modbus"

	"github.com/plcctl/plcctl/plc"
	"github.com/plcctl/plcctl/transport"
)

// Every benchmark has one sub-benchmark per client, named client=NAME, so
// that `benchstat -col /client` puts the clients side by side. Within one run
// of the test binary the clients of a benchmark run one after the other;
// compare.sh runs the binary once per round (go test -count would run each
// client's samples back to back instead) and sets PLCCTL_BENCH_ROUND so that
// each round starts with a different client.

// callers is how many goroutines share one connection in ReadParallel:
// MaxInFlightLimit, so that the pipelined client keeps 16 in flight however
// many CPUs it runs on (pinned to one, GOMAXPROCS is 1).
const callers = transport.MaxInFlightLimit

// parallelism is the RunParallel multiplier that gives at least callers
// goroutines: callers = parallelism*GOMAXPROCS.
func parallelism() int {
	p := runtime.GOMAXPROCS(0)
	return (callers + p - 1) / p
}

func BenchmarkRead(b *testing.B) {
	for _, n := range []uint16{10, 125} {
		b.Run(fmt.Sprintf("regs=%d", n), func(b *testing.B) {
			runClients(b, []sub{
				{"plcctl", func(b *testing.B) { benchRead(b, plcctl, n) }},
				{"goburrow", func(b *testing.B) { benchRead(b, goburrow, n) }},
				{"libmodbus", func(b *testing.B) { benchLibmodbus(b, "read", readAddr, n, readSeed) }},
			})
		})
	}
}

func BenchmarkWrite(b *testing.B) {
	const n = 10
	b.Run(fmt.Sprintf("regs=%d", n), func(b *testing.B) {
		runClients(b, []sub{
			{"plcctl", func(b *testing.B) { benchWrite(b, plcctl, n) }},
			{"goburrow", func(b *testing.B) { benchWrite(b, goburrow, n) }},
			{"libmodbus", func(b *testing.B) { benchLibmodbus(b, "write", writeAddr, n, nextTag()) }},
		})
	})
}

// BenchmarkReadParallel has many goroutines read 10 registers each through
// ONE client on ONE connection: goburrow serialises them with its mutex,
// plcctl with MaxInFlight=1 does the same with its in-flight slot, and
// plcctl-pipelined keeps up to 16 requests on the wire [IG §4.2.1].
// libmodbus is absent: a modbus_t must not be shared between threads.
func BenchmarkReadParallel(b *testing.B) {
	b.Run(fmt.Sprintf("regs=10/callers=%d", parallelism()*runtime.GOMAXPROCS(0)), func(b *testing.B) {
		runClients(b, []sub{
			{"plcctl", func(b *testing.B) { benchReadParallel(b, plcctl, 10) }},
			{"plcctl-pipelined", func(b *testing.B) { benchReadParallel(b, plcctlPipelined, 10) }},
			{"goburrow", func(b *testing.B) { benchReadParallel(b, goburrow, 10) }},
		})
	})
}

// sub is one client's sub-benchmark.
type sub struct {
	client string
	run    func(*testing.B)
}

// round is the number of this run of the test binary within compare.sh.
var round, _ = strconv.Atoi(os.Getenv("PLCCTL_BENCH_ROUND"))

// runClients runs one sub-benchmark per client, starting with client
// round mod len(subs), so no client always runs first or last.
func runClients(b *testing.B, subs []sub) {
	k := max(round, 0) % len(subs)
	for _, s := range slices.Concat(subs[k:], subs[:k]) {
		b.Run("client="+s.client, s.run)
	}
}

func benchRead(b *testing.B, p peer, n uint16) {
	c := p.dial(b, simAddr(b))
	dst := make([]uint16, n)
	got, err := c.read(dst, readAddr, n)
	checkRegs(b, got, err, readSeed, n)
	b.ReportAllocs()
	for b.Loop() {
		if got, err = c.read(dst, readAddr, n); err != nil {
			b.Fatal(err)
		}
	}
	checkRegs(b, got, nil, readSeed, n)
	reportRate(b)
}

func benchWrite(b *testing.B, p peer, n uint16) {
	c := p.dial(b, simAddr(b))
	tag := nextTag()
	vals := seq(tag, int(n))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.write(writeAddr, vals); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
	got, err := c.read(make([]uint16, n), writeAddr, n)
	checkRegs(b, got, err, tag, n)
}

func benchReadParallel(b *testing.B, p peer, n uint16) {
	c := p.dial(b, simAddr(b))
	b.SetParallelism(parallelism())
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		dst := make([]uint16, n)
		var got []uint16
		var err error
		for pb.Next() {
			if got, err = c.read(dst, readAddr, n); err != nil {
				b.Error(err)
				return
			}
		}
		if err := regsErr(got, readSeed, n); got != nil && err != nil {
			b.Error(err) // not Fatal: this is not the benchmark's goroutine
		}
	})
	b.StopTimer()
	reportRate(b)
}

// benchLibmodbus runs b.N requests in the C program. It uses b.N, not
// b.Loop: the C loop needs its iteration count up front. ns/op and req/s
// come from the C program's own clock around its loop, so the process start
// and the connect are not counted. allocs/op is not measured for C.
func benchLibmodbus(b *testing.B, op string, addr, n, seed uint16) {
	libmodbusBin(b) // skip before timing when libmodbus is missing
	elapsed := runLibmodbus(b, op, addr, n, b.N, seed)
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N), "ns/op")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	if op == "write" {
		c := plcctl.dial(b, simAddr(b))
		got, err := c.read(make([]uint16, n), addr, n)
		checkRegs(b, got, err, seed, n)
	}
}

// reportRate adds requests per second, the number an operator thinks in.
func reportRate(b *testing.B) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "req/s")
	}
}

// checkRegs fails tb unless err is nil and got holds seed, seed+1, ...
func checkRegs(tb testing.TB, got []uint16, err error, seed, n uint16) {
	tb.Helper()
	if err == nil {
		err = regsErr(got, seed, n)
	}
	if err != nil {
		tb.Fatal(err)
	}
}

func regsErr(got []uint16, seed, n uint16) error {
	if want := seq(seed, int(n)); !slices.Equal(got, want) {
		return fmt.Errorf("registers = %#x, want %#x", got, want)
	}
	return nil
}

var tags atomic.Uint32

// nextTag returns a fresh base value for a write benchmark, so that reading
// back proves this run's writes landed, not an earlier run's.
func nextTag() uint16 { return 0xA000 + uint16(tags.Add(1))<<4 }

// peer is a Go client under test. dial opens one persistent connection,
// closed when the benchmark ends.
type peer struct {
	name string
	dial func(tb testing.TB, addr string) conn
}

// conn is one client on one connection, reduced to what the benchmarks do.
// read may return dst (goburrow: decoded into it) or a new slice (plcctl:
// its API returns one); it must be safe for concurrent use. write is only
// called from one goroutine.
type conn interface {
	read(dst []uint16, addr, n uint16) ([]uint16, error)
	write(addr uint16, vals []uint16) error
}

var (
	plcctl          = peer{"plcctl", dialPLC(1)}
	plcctlPipelined = peer{"plcctl-pipelined", dialPLC(transport.MaxInFlightLimit)}
	goburrow        = peer{"goburrow", dialGoburrow}
)

// timeout is every client's per-request timeout: plcctl's default.
const timeout = transport.DefaultTimeout

type plcConn struct{ c *plc.Client }

func dialPLC(inFlight int) func(testing.TB, string) conn {
	return func(tb testing.TB, addr string) conn {
		tb.Helper()
		c, err := plc.Dial(context.Background(), addr, plc.Options{
			Options: transport.Options{Timeout: timeout, MaxInFlight: inFlight}})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { c.Close() })
		return plcConn{c}
	}
}

// read reads into dst when it has room (ReadHoldingRegistersInto, no
// allocation), as the other clients do; else into a new slice.
func (p plcConn) read(dst []uint16, addr, n uint16) ([]uint16, error) {
	if cap(dst) >= int(n) {
		return p.c.ReadHoldingRegistersInto(context.Background(), addr, dst[:n])
	}
	return p.c.ReadHoldingRegisters(context.Background(), addr, n)
}

func (p plcConn) write(addr uint16, vals []uint16) error {
	return p.c.WriteRegisters(context.Background(), addr, vals)
}

// goburrowConn is goburrow/modbus v0.1.0 as its README shows it: one
// TCPClientHandler, connected once and kept, under gb.NewClient.
type goburrowConn struct {
	h   *gb.TCPClientHandler
	c   gb.Client
	buf []byte // write's encoding buffer
}

func dialGoburrow(tb testing.TB, addr string) conn {
	tb.Helper()
	h := gb.NewTCPClientHandler(addr)
	h.Timeout = timeout
	h.SlaveId = 1
	if err := h.Connect(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { h.Close() })
	return &goburrowConn{h: h, c: gb.NewClient(h)}
}

// read decodes goburrow's big-endian bytes into dst, which a caller that
// wants register values must do anyway; it allocates nothing.
func (g *goburrowConn) read(dst []uint16, addr, n uint16) ([]uint16, error) {
	b, err := g.c.ReadHoldingRegisters(addr, n)
	if err != nil {
		return nil, err
	}
	if len(b) != 2*int(n) {
		return nil, fmt.Errorf("goburrow: %d bytes for %d registers", len(b), n)
	}
	dst = dst[:n]
	for i := range dst {
		dst[i] = binary.BigEndian.Uint16(b[2*i:])
	}
	return dst, nil
}

func (g *goburrowConn) write(addr uint16, vals []uint16) error {
	g.buf = g.buf[:0]
	for _, v := range vals {
		g.buf = binary.BigEndian.AppendUint16(g.buf, v)
	}
	_, err := g.c.WriteMultipleRegisters(addr, uint16(len(vals)), g.buf)
	return err
}

// TestPeersAgree runs each client of the benchmarks once against plcsim and
// checks what it read and wrote, so a broken harness fails `make test`
// rather than producing numbers. It asserts nothing about time.
func TestPeersAgree(t *testing.T) {
	for _, p := range []peer{plcctl, plcctlPipelined, goburrow} {
		t.Run("client="+p.name, func(t *testing.T) {
			c := p.dial(t, simAddr(t))
			for _, n := range []uint16{1, 10, 125} {
				got, err := c.read(make([]uint16, n), readAddr, n)
				checkRegs(t, got, err, readSeed, n)
			}
			tag := nextTag()
			if err := c.write(writeAddr, seq(tag, 10)); err != nil {
				t.Fatal(err)
			}
			got, err := c.read(make([]uint16, 10), writeAddr, 10)
			checkRegs(t, got, err, tag, 10)
		})
	}
	t.Run("client=libmodbus", func(t *testing.T) {
		if d := runLibmodbus(t, "read", readAddr, 125, 3, readSeed); d <= 0 {
			t.Fatalf("libmodbus_bench elapsed %v, want a positive duration", d)
		}
		tag := nextTag()
		runLibmodbus(t, "write", writeAddr, 10, 3, tag)
		got, err := plcctl.dial(t, simAddr(t)).read(nil, writeAddr, 10)
		checkRegs(t, got, err, tag, 10)
	})
}
