//go:build linux

package simulator_test

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math/rand"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// The hostile-input suite (issue 8): each attack runs for a bounded time
// against a simulator with the default limits (64 connections, 2 s frame
// timeout, 1 s drain) logging JSON at info level, as plcsim does. During
// every attack a fresh client must get its answer within 1 s (a 1 s
// deadline on dial, request and answer: functional, not a timing claim);
// after it, the simulator's sockets, the process's descriptors and
// goroutines return to their baseline; memory stays under a generous bound
// and the log is rate-limited. The figures measured are logged (go test -v)
// and quoted in the README's "Under attack" section.

const (
	attackFor      = 3 * time.Second // each attack's duration, unless it says otherwise
	probeEvery     = 300 * time.Millisecond
	memBound       = 128 << 20 // heap growth and RSS growth allowed during an attack
	logBytesPerSec = 100 << 10 // log written per second of attack, at most
)

type hostileAttack struct {
	name string
	dur  time.Duration // at most; 0 means attackFor
	cfg  func(*simulator.Config)
	// run attacks addr until ctx ends (or its work is done), then closes
	// every socket it opened and returns how many connections it opened.
	run func(ctx context.Context, addr string) int
	// check, if set, looks at the counters after the attack.
	check func(t *testing.T, st simulator.Stats)
}

func TestHostileInput(t *testing.T) {
	if testing.Short() {
		t.Skip("hostile-input suite: about 20 s")
	}
	raiseFDLimit(t, 4096)
	attacks := []hostileAttack{
		{name: "10000 idle connections", run: idleFlood(10000, 4, 128), dur: 20 * time.Second,
			check: func(t *testing.T, st simulator.Stats) {
				if st.Evicted == 0 {
					t.Errorf("stats %+v: no idle connection was evicted", st)
				}
			}},
		{name: "slowloris beyond max conns", run: slowloris(200, 100*time.Millisecond),
			check: func(t *testing.T, st simulator.Stats) {
				if st.Evicted == 0 || st.Resets == 0 {
					t.Errorf("stats %+v: want evictions, and resets (frame or drain timeouts)", st)
				}
			}},
		{name: "random bytes on many connections", run: randomBytes(32, 2048),
			check: func(t *testing.T, st simulator.Stats) {
				if st.FramingFaults == 0 || st.LogSuppressed == 0 {
					t.Errorf("stats %+v: want framing faults, and log lines suppressed", st)
				}
			}},
		{name: "pipelined flood never read", run: pipelinedFlood(4), dur: 6 * time.Second,
			cfg: func(c *simulator.Config) { c.WriteTimeout = time.Second },
			check: func(t *testing.T, st simulator.Stats) {
				if st.ResetsBy[simulator.ResetWriteTimeout] == 0 {
					t.Errorf("stats %+v: want write-timeout resets (a counted close, not a stuck goroutine)", st)
				}
			}},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) { runAttack(t, a) })
	}
}

func runAttack(t *testing.T, a hostileAttack) {
	logw := &countingWriter{}
	log := zerolog.New(logw).Level(zerolog.InfoLevel).With().Timestamp().Logger()
	cfg := simulator.Config{Logger: &log, HoldingRegisters: 1000}
	if a.cfg != nil {
		a.cfg(&cfg)
	}
	s := simtest.Start(t, cfg)
	s.SetHoldingRegisters(7, 0xBEEF)
	runtime.GC()
	baseFDs, baseG, baseRSS := openFDs(t), runtime.NumGoroutine(), rssBytes(t)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	baseHeap := ms.HeapAlloc

	dur := cmp.Or(a.dur, attackFor)
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	start := time.Now()
	opened := make(chan int, 1)
	finished := make(chan struct{})
	go func() { opened <- a.run(ctx, s.Addr); close(finished) }()

	var peakFDs, probes int
	var peakRSS, peakHeap uint64
	var worst time.Duration
	tick := time.NewTicker(probeEvery)
	defer tick.Stop()
	for attacking := true; attacking; {
		select {
		case <-finished:
			attacking = false
			continue
		case <-tick.C:
		}
		d, err := probe(s.Addr)
		probes++
		if err != nil {
			t.Errorf("fresh client during the attack (probe %d): %v", probes, err)
		}
		worst = max(worst, d)
		peakFDs = max(peakFDs, serverSockets(t, s.Addr))
		peakRSS = max(peakRSS, rssBytes(t))
		runtime.ReadMemStats(&ms)
		peakHeap = max(peakHeap, ms.HeapAlloc)
	}
	n := <-opened
	took := time.Since(start)
	logBytes := logw.n.Load()

	// After the attack: every connection gone, descriptors and goroutines
	// back to their baseline (the drains end within the drain timeout).
	waitFor(t, 10*time.Second, "connections gone", func() bool { return s.Stats().Conns == 0 })
	waitFor(t, 5*time.Second, "server sockets back to the listener", func() bool { return serverSockets(t, s.Addr) == 1 })
	waitFor(t, 5*time.Second, "descriptors back to baseline", func() bool { return openFDs(t) <= baseFDs })
	waitFor(t, 5*time.Second, "goroutines back to baseline", func() bool { return runtime.NumGoroutine() <= baseG })
	st := s.Stats()
	t.Logf("figures: %s: %d connections opened in %v; %d probes, slowest answer %v; peak %d server sockets; "+
		"peak RSS %.1f MB (+%.1f MB), peak heap +%.1f MB; %d bytes of log (%d lines suppressed)",
		a.name, n, took.Round(time.Millisecond), probes, worst.Round(time.Millisecond), peakFDs,
		mb(peakRSS), mb(peakRSS-min(peakRSS, baseRSS)), mb(peakHeap-min(peakHeap, baseHeap)), logBytes, st.LogSuppressed)
	t.Logf("stats: %+v", st)
	if probes == 0 {
		t.Error("no probe ran during the attack")
	}
	if peakFDs > 2*64+1 {
		t.Errorf("peak %d server sockets, want at most %d (64 served, 64 draining, the listener)", peakFDs, 2*64+1)
	}
	if g := peakRSS - min(peakRSS, baseRSS); g > memBound {
		t.Errorf("RSS grew by %.1f MB during the attack, bound %.1f MB", mb(g), mb(memBound))
	}
	if g := peakHeap - min(peakHeap, baseHeap); g > memBound {
		t.Errorf("heap grew by %.1f MB during the attack, bound %.1f MB", mb(g), mb(memBound))
	}
	if limit := int64(logBytesPerSec * max(took.Seconds(), 1)); logBytes > limit {
		t.Errorf("%d bytes of log in %v, bound %d: the log is not rate-limited", logBytes, took, limit)
	}
	if a.check != nil {
		a.check(t, st)
	}
}

// probe is the fresh client: dial, one read, its answer, all within 1 s.
func probe(addr string) (time.Duration, error) {
	start := time.Now()
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return time.Since(start), err
	}
	defer nc.Close()
	nc.SetDeadline(start.Add(time.Second))
	if _, err := nc.Write(adu(0x1234, 1, modbus.NewReadHoldingRegisters(7, 1))); err != nil {
		return time.Since(start), err
	}
	_, got, err := modbus.ReadADU(nc, make([]byte, modbus.MaxADULen))
	if err != nil {
		return time.Since(start), err
	}
	if want := []byte{0x12, 0x34, 0, 0, 0, 5, 1, 3, 2, 0xBE, 0xEF}; !bytes.Equal(got, want) {
		return time.Since(start), fmt.Errorf("answer % X, want % X", got, want)
	}
	return time.Since(start), nil
}

// idleFlood opens up to total connections from dialers goroutines, each
// holding its last keep connections open and idle (closing its oldest).
func idleFlood(total, dialers, keep int) func(context.Context, string) int {
	return func(ctx context.Context, addr string) int {
		var count atomic.Int64
		var wg sync.WaitGroup
		for range dialers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var held []net.Conn
				defer func() {
					for _, c := range held {
						c.Close()
					}
				}()
				for ctx.Err() == nil && count.Add(1) <= int64(total) {
					c, err := net.DialTimeout("tcp", addr, time.Second)
					if err != nil {
						continue
					}
					if held = append(held, c); len(held) > keep {
						held[0].Close()
						held = held[1:]
					}
				}
			}()
		}
		wg.Wait()
		return int(min(count.Load(), int64(total)))
	}
}

// slowloris keeps conns connections each sending one byte per gap of a
// frame that announces 254 bytes (so it never completes within the frame
// timeout), reconnecting whenever the server closes one.
func slowloris(conns int, gap time.Duration) func(context.Context, string) int {
	return func(ctx context.Context, addr string) int {
		var opened atomic.Int64
		var wg sync.WaitGroup
		frame := append([]byte{0, 1, 0, 0, 0, 254, 1}, make([]byte, 254)...)
		for range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t := time.NewTicker(gap)
				defer t.Stop()
				for ctx.Err() == nil {
					c, err := net.DialTimeout("tcp", addr, time.Second)
					if err != nil {
						continue
					}
					opened.Add(1)
					for i := 0; ctx.Err() == nil; i = (i + 1) % len(frame) {
						c.SetWriteDeadline(time.Now().Add(time.Second))
						if _, err := c.Write(frame[i : i+1]); err != nil {
							break
						}
						select {
						case <-t.C:
						case <-ctx.Done():
						}
					}
					c.Close()
				}
			}()
		}
		wg.Wait()
		return int(opened.Load())
	}
}

// randomBytes has conns goroutines each connecting, sending size random
// bytes (fixed seed), reading whatever comes back for a moment, closing,
// and again.
func randomBytes(conns, size int) func(context.Context, string) int {
	return func(ctx context.Context, addr string) int {
		var opened atomic.Int64
		var wg sync.WaitGroup
		for g := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewSource(int64(g) + 1))
				buf, junk := make([]byte, 512), make([]byte, size)
				for ctx.Err() == nil {
					c, err := net.DialTimeout("tcp", addr, time.Second)
					if err != nil {
						continue
					}
					opened.Add(1)
					rng.Read(junk)
					c.SetDeadline(time.Now().Add(200 * time.Millisecond))
					if _, err := c.Write(junk); err == nil {
						for {
							if _, err := c.Read(buf); err != nil {
								break
							}
						}
					}
					c.Close()
				}
			}()
		}
		wg.Wait()
		return int(opened.Load())
	}
}

// pipelinedFlood has conns connections writing pipelined requests (125
// registers each) and never reading an answer, reconnecting when reset.
func pipelinedFlood(conns int) func(context.Context, string) int {
	return func(ctx context.Context, addr string) int {
		var opened atomic.Int64
		var wg sync.WaitGroup
		for range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					nc, err := net.DialTimeout("tcp", addr, time.Second)
					if err != nil {
						continue
					}
					opened.Add(1)
					stop := make(chan struct{})
					go func() {
						select {
						case <-ctx.Done():
						case <-stop:
						}
						nc.Close() // ends the flood's write at once
					}()
					flood(&rawClient{nc: nc.(*net.TCPConn)}, ctx.Done())
					close(stop)
				}
			}()
		}
		wg.Wait()
		return int(opened.Load())
	}
}

type countingWriter struct{ n atomic.Int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	return len(p), nil
}

// rssBytes is this process's resident set (VmRSS).
func rssBytes(t testing.TB) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

// raiseFDLimit raises the soft descriptor limit to n if it is lower and the
// hard limit allows.
func raiseFDLimit(t *testing.T, n uint64) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	if rl.Cur >= n {
		return
	}
	if rl.Max < n {
		t.Skipf("descriptor limit %d (hard %d), need %d", rl.Cur, rl.Max, n)
	}
	old := rl.Cur
	rl.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Skipf("setrlimit: %v", err)
	}
	t.Cleanup(func() { rl.Cur = old; syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl) })
}
