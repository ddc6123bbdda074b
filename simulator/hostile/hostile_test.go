//go:build linux

package hostile_test

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/modbus"
)

// Each attack runs for a bounded time against a plcsim process with the
// default limits (64 connections, 2 s frame timeout, 1 s drain) logging JSON
// at info level. During every attack a fresh client must get its answer
// within 1 s (a 1 s deadline on dial, request and answer: functional, not a
// timing claim). After it the process's descriptors return to their
// baseline; its RSS stays under a generous bound and its log is
// rate-limited. The figures are logged (go test -v) and quoted in the
// README's "Under attack" section.

const (
	attackFor      = 3 * time.Second // each attack's duration, unless it says otherwise
	probeEvery     = 300 * time.Millisecond
	rssBound       = 64 << 20  // plcsim's RSS growth during an attack
	logBytesPerSec = 100 << 10 // plcsim's log per second of attack
	fdBound        = 2*64 + 8  // plcsim's descriptors beyond its baseline: 64 served, 64 draining, slack
)

var plcsimBin string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	plcsimBin = os.Getenv("PLCSIM_BIN")
	dir := ""
	if plcsimBin == "" {
		var err error
		if dir, err = os.MkdirTemp("", "hostile"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		plcsimBin = filepath.Join(dir, "plcsim")
		if out, err := exec.Command("go", "build", "-o", plcsimBin, "github.com/plcctl/plcctl/cmd/plcsim").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build plcsim: %v\n%s", err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	if dir != "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

type attack struct {
	name  string
	dur   time.Duration // at most; 0 means attackFor
	flags []string      // plcsim flags beyond the defaults
	// run attacks addr until ctx ends (or its work is done), closes every
	// socket it opened and returns how many connections it opened.
	run func(ctx context.Context, addr string) int
	// check looks at plcsim's "plcsim stopped" summary after the attack.
	check func(t *testing.T, st summary)
}

func TestHostileInput(t *testing.T) {
	if testing.Short() {
		t.Skip("hostile-input suite: about 20 s")
	}
	raiseFDLimit(t, 4096)
	attacks := []attack{
		{name: "10000 idle connections", run: idleFlood(10000, 2, 128, time.Millisecond), dur: 20 * time.Second,
			check: func(t *testing.T, st summary) {
				if st.Accepted < 10000 || st.Evicted == 0 {
					t.Errorf("summary %+v: want 10,000 connections accepted and idle ones evicted", st)
				}
			}},
		{name: "slowloris beyond max conns", run: slowloris(128, 100*time.Millisecond, 500*time.Millisecond),
			check: func(t *testing.T, st summary) {
				if st.Evicted == 0 || st.Resets == 0 {
					t.Errorf("summary %+v: want evictions, and resets (frame or drain timeouts)", st)
				}
			}},
		{name: "random bytes on many connections", run: randomBytes(32, 2048),
			check: func(t *testing.T, st summary) {
				if st.FramingFaults == 0 || st.LogSuppressed == 0 {
					t.Errorf("summary %+v: want framing faults, and log lines suppressed", st)
				}
			}},
		{name: "pipelined flood never read", run: pipelinedFlood(16), flags: []string{"--write-timeout", "1s"},
			check: func(t *testing.T, st summary) {
				if !strings.Contains(st.ResetsBy, "write-timeout=") {
					t.Errorf("summary %+v: want write-timeout resets (a counted close, not a stuck connection)", st)
				}
			}},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) { runAttack(t, a) })
	}
}

func runAttack(t *testing.T, a attack) {
	p := startPlcsim(t, a.flags...)
	baseFDs, baseRSS := p.fds(t), p.rss(t)
	if d, err := probe(p.addr); err != nil {
		t.Fatalf("probe before the attack: %v (%v)", err, d)
	}

	ctx, cancel := context.WithTimeout(context.Background(), cmp.Or(a.dur, attackFor))
	defer cancel()
	start, logStart := time.Now(), p.logBytes.Load()
	opened := make(chan int, 1)
	go func() { opened <- a.run(ctx, p.addr) }()
	var n, peakFDs, probes int
	var peakRSS uint64
	var worst time.Duration
	tick := time.NewTicker(probeEvery)
	defer tick.Stop()
	for attacking := true; attacking; {
		select {
		case n = <-opened:
			attacking = false
			continue
		case <-tick.C:
		}
		d, err := probe(p.addr)
		probes++
		if err != nil {
			t.Errorf("fresh client during the attack (probe %d, %v): %v", probes, d.Round(time.Millisecond), err)
		}
		worst = max(worst, d)
		peakFDs, peakRSS = max(peakFDs, p.fds(t)), max(peakRSS, p.rss(t))
	}
	took, logBytes := time.Since(start), p.logBytes.Load()-logStart

	// After the attack: every connection closed, within the drain timeout.
	testutil.WaitFor(t, 10*time.Second, "plcsim's descriptors back to baseline", func() bool { return p.fds(t) <= baseFDs })
	st := p.stop(t)
	t.Logf("figures: %s: %d connections opened in %v; %d probes, slowest answer %v; peak %d descriptors (baseline %d); "+
		"peak RSS %.1f MB (baseline %.1f MB); %d bytes of log (%.0f bytes/s, %d lines suppressed)",
		a.name, n, took.Round(time.Millisecond), probes, worst.Round(time.Millisecond), peakFDs, baseFDs,
		mb(peakRSS), mb(baseRSS), logBytes, float64(logBytes)/took.Seconds(), st.LogSuppressed)
	t.Logf("plcsim's summary: %+v", st)
	if probes == 0 {
		t.Error("no probe ran during the attack")
	}
	if peakFDs > baseFDs+fdBound {
		t.Errorf("peak %d descriptors, want at most %d (baseline + 64 served + 64 draining)", peakFDs, baseFDs+fdBound)
	}
	if g := peakRSS - min(peakRSS, baseRSS); g > rssBound {
		t.Errorf("RSS grew by %.1f MB during the attack, bound %.1f MB", mb(g), mb(rssBound))
	}
	if limit := int64(logBytesPerSec * max(took.Seconds(), 1)); logBytes > limit {
		t.Errorf("%d bytes of log in %v, bound %d: the log is not rate-limited", logBytes, took, limit)
	}
	a.check(t, st)
}

// plcsim is a running plcsim process.
type plcsim struct {
	cmd      *exec.Cmd
	addr     string
	logBytes atomic.Int64
	stopped  chan summary
	exited   chan error
}

// summary is plcsim's "plcsim stopped" line.
type summary struct {
	Accepted      uint64 `json:"accepted"`
	Evicted       uint64 `json:"evicted"`
	Refused       uint64 `json:"refused"`
	Requests      uint64 `json:"requests"`
	FramingFaults uint64 `json:"framing_faults"`
	Resets        uint64 `json:"resets"`
	ResetsBy      string `json:"resets_by"`
	LogSuppressed uint64 `json:"log_suppressed"`
}

func startPlcsim(t *testing.T, flags ...string) *plcsim {
	t.Helper()
	args := append([]string{"--listen", "127.0.0.1:0", "--log-format", "json", "--holding-registers", "1000"}, flags...)
	p := &plcsim{cmd: exec.Command(plcsimBin, args...), stopped: make(chan summary, 1), exited: make(chan error, 1)}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			p.logBytes.Add(int64(len(line)) + 1)
			switch {
			case bytes.Contains(line, []byte(`"plcsim ready"`)):
				var rec struct{ Addr string }
				json.Unmarshal(line, &rec)
				ready <- rec.Addr
			case bytes.Contains(line, []byte(`"plcsim stopped"`)):
				var st summary
				json.Unmarshal(line, &st)
				p.stopped <- st
			}
		}
		p.exited <- p.cmd.Wait()
	}()
	t.Cleanup(func() { p.cmd.Process.Kill() })
	select {
	case p.addr = <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("plcsim not ready")
	}
	return p
}

// stop sends SIGTERM and returns plcsim's summary once it exited.
func (p *plcsim) stop(t *testing.T) summary {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		if err != nil {
			t.Errorf("plcsim exit: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("plcsim did not exit after SIGTERM")
	}
	select {
	case st := <-p.stopped:
		return st
	default:
		t.Error(`no "plcsim stopped" line`)
		return summary{}
	}
}

func (p *plcsim) fds(t *testing.T) int {
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/fd")
	if err != nil {
		t.Skipf("no /proc/PID/fd: %v", err)
	}
	return len(ents)
}

// rss is plcsim's resident set (VmRSS).
func (p *plcsim) rss(t *testing.T) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
	if err != nil {
		t.Skipf("no /proc/PID/status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
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
	if _, err := nc.Write(mustADU(0x1234, modbus.NewReadHoldingRegisters(7, 1))); err != nil {
		return time.Since(start), err
	}
	_, got, err := modbus.ReadADU(nc, make([]byte, modbus.MaxADULen))
	if err != nil {
		return time.Since(start), err
	}
	if want := []byte{0x12, 0x34, 0, 0, 0, 5, 1, 3, 2, 0, 0}; !bytes.Equal(got, want) {
		return time.Since(start), fmt.Errorf("answer % X, want % X", got, want)
	}
	return time.Since(start), nil
}

func mustADU(tid uint16, p modbus.PDU) []byte {
	b, err := modbus.AppendADU(nil, tid, 1, p)
	if err != nil {
		panic(err)
	}
	return b
}

// idleFlood opens total connections from dialers goroutines, each at most
// one per every, holding its last keep connections open and idle (closing
// its oldest).
//
// Paced: when MaxConns is reached plcsim evicts the connection unused
// longest, so at R new connections a second a fresh client has 64/R s to
// send its first request. Unpaced, this in-process attacker reaches ~6,000
// a second (10 ms): that measures how fast the test's own client gets to
// write under load more than plcsim.
func idleFlood(total, dialers, keep int, every time.Duration) func(context.Context, string) int {
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
				pace := time.NewTicker(every)
				defer pace.Stop()
				for ctx.Err() == nil && count.Add(1) <= int64(total) {
					<-pace.C
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
// timeout), reconnecting after redial whenever plcsim closes one.
func slowloris(conns int, gap, redial time.Duration) func(context.Context, string) int {
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
					select {
					case <-time.After(redial):
					case <-ctx.Done():
					}
				}
			}()
		}
		wg.Wait()
		return int(opened.Load())
	}
}

// randomBytes has conns goroutines each connecting, sending size random
// bytes (fixed seeds), reading whatever comes back for a moment, closing,
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
// registers each: 257-byte answers) and never reading an answer,
// reconnecting when plcsim drops one.
func pipelinedFlood(conns int) func(context.Context, string) int {
	return func(ctx context.Context, addr string) int {
		var opened atomic.Int64
		var wg sync.WaitGroup
		var batch []byte
		for range 64 {
			batch = append(batch, mustADU(1, modbus.NewReadHoldingRegisters(0, 125))...)
		}
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
					// Not tiny: a receive buffer smaller than a loopback
					// segment drops the segments that carry our ACKs.
					nc.(*net.TCPConn).SetReadBuffer(128 << 10)
					for off := 0; ctx.Err() == nil; {
						nc.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
						w, err := nc.Write(batch[off:])
						if off = (off + w) % len(batch); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
							break // reset by plcsim: reconnect
						}
					}
					nc.Close()
				}
			}()
		}
		wg.Wait()
		return int(opened.Load())
	}
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

// raiseFDLimit raises the soft descriptor limit to n if it is lower and the
// hard limit allows; plcsim inherits it.
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
