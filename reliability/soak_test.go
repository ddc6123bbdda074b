//go:build linux

package reliability

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/plc"
	"github.com/plcctl/plcctl/transport"
)

const (
	soakClients = 32
	soakPhase   = 2 * time.Second // three phases: the soak stays well under 30 s
	valueSpan   = 2048            // client i writes values i*valueSpan+1 .. i*valueSpan+valueSpan-1
)

// soakFaults are random faults at fixed seeds: the same run every time.
// No reboot: it clears the memory whose survival is checked.
var soakFaults = strings.Join([]string{
	"# soak: random faults at fixed seeds",
	"action=delay,delay=30ms,prob=0.01,seed=1",
	"action=drop,prob=0.002,seed=2",
	"action=duplicate,prob=0.01,seed=3",
	"action=split,at=5,gap=2ms,prob=0.01,seed=4",
	"action=wrong-tid,prob=0.002,seed=5",
	"action=exception,exception=6,prob=0.01,seed=6",
	"action=close-fin,prob=0.001,seed=7",
	"action=close-rst,prob=0.001,seed=8",
	"action=cut-mid-frame,prob=0.001,seed=9",
	"action=wrong-unit,prob=0.001,seed=10",
	"action=wrong-fc,prob=0.001,seed=11",
	"action=short,prob=0.002,seed=12",
	"action=bad-byte-count,prob=0.002,seed=13",
	"action=junk,prob=0.001,seed=14",
	"action=coalesce,prob=0.002,seed=15",
	"action=answer-close,prob=0.001,seed=16",
	"action=stop-accepting,for=100ms,prob=0.0005,seed=17",
}, "\n") + "\n"

// plcsimProc is one run of the plcsim binary.
type plcsimProc struct {
	cmd    *exec.Cmd
	ready  chan string   // the address from "plcsim ready"
	reload chan struct{} // one per "fault rules reloaded"
	exited chan error
}

func startPlcsim(t *testing.T, bin string, args ...string) *plcsimProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--log-format", "json", "--log-level", "info"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &plcsimProc{cmd: cmd, ready: make(chan string, 1), reload: make(chan struct{}, 16), exited: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var rec struct{ Message, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) != nil {
				continue
			}
			switch rec.Message {
			case "plcsim ready":
				p.ready <- rec.Addr
			case "fault rules reloaded":
				p.reload <- struct{}{}
			}
		}
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	return p
}

func (p *plcsimProc) waitReady(t *testing.T) string {
	t.Helper()
	select {
	case addr := <-p.ready:
		return addr
	case err := <-p.exited:
		t.Fatalf("plcsim exited before it was ready: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("plcsim not ready within 10s")
	}
	return ""
}

func (p *plcsimProc) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	p.cmd.Process.Signal(sig)
	select {
	case err := <-p.exited:
		if sig == syscall.SIGTERM && err != nil {
			t.Fatalf("plcsim after SIGTERM: %v, want exit 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("plcsim still running 10s after %v", sig)
	}
}

// soakClient is one client of the soak: it writes rising values to its own
// register and reads ranges of everyone's.
type soakClient struct {
	id        int
	cli       *plc.Client
	attempted atomic.Uint32 // highest value sent (it may have been applied)
	confirmed atomic.Uint32 // highest value confirmed
	reads     atomic.Uint64
	failed    atomic.Uint64 // requests that ended in an error (faults, restarts)
	wrong     atomic.Pointer[string]
}

func (c *soakClient) base() uint16 { return uint16(c.id * valueSpan) }

func (c *soakClient) run(ctx context.Context, rng *rand.Rand) {
	for seq := uint16(1); ctx.Err() == nil; {
		if seq < valueSpan {
			v := c.base() + seq
			c.attempted.Store(uint32(v))
			wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			err := c.cli.WriteRegister(wctx, uint16(c.id), v)
			cancel()
			if err == nil {
				c.confirmed.Store(uint32(v))
			} else {
				c.failed.Add(1)
			}
			seq++
		}
		from := uint16(rng.IntN(soakClients - 3))
		rctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		vals, err := c.cli.ReadHoldingRegisters(rctx, from, 4)
		cancel()
		if err != nil {
			c.failed.Add(1)
			continue
		}
		c.reads.Add(1)
		for i, v := range vals {
			if owner := int(from) + i; v != 0 && int(v)/valueSpan != owner {
				msg := fmt.Sprintf("client %d: register %d read %#04x, a value only client %d writes", c.id, owner, v, int(v)/valueSpan)
				c.wrong.Store(&msg)
			}
		}
	}
}

// TestSoak: 32 clients against the plcsim binary under random faults at
// fixed seeds, while plcsim is killed (SIGKILL), stopped (SIGTERM) and
// restarted on the same port. No read returns a value its register cannot
// hold; writes confirmed before a SIGTERM survive it (--state); every write
// confirmed since the last restart is in memory; goroutines and file
// descriptors of the test and of plcsim are back to their baseline, and
// memory stays bounded.
func TestSoak(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "plcsim")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/plcsim").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	faults, state := filepath.Join(dir, "faults.txt"), filepath.Join(dir, "state.json")
	writeFile(t, faults, soakFaults)
	args := func(addr string) []string {
		return []string{"--listen", addr, "--fault-file", faults, "--state", state, "--state-interval", "100ms",
			"--max-conns", "128", "--drain-timeout", "200ms"}
	}
	p := startPlcsim(t, bin, args("127.0.0.1:0")...)
	addr := p.waitReady(t)
	simFDs := countFDs(t, p.cmd.Process.Pid)
	goroutines, fds := runtime.NumGoroutine(), countFDs(t, os.Getpid())

	ctx, stopClients := context.WithCancel(t.Context())
	clients := make([]*soakClient, soakClients)
	var wg sync.WaitGroup
	for i := range clients {
		cli, err := plc.Dial(t.Context(), addr, plc.Options{Options: transport.Options{Timeout: 300 * time.Millisecond,
			MaxInFlight: 2, Backoff: func(n int) time.Duration { return time.Duration(min(n, 10)) * 10 * time.Millisecond }}})
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = &soakClient{id: i, cli: cli}
		wg.Add(1)
		go func() { defer wg.Done(); clients[i].run(ctx, rand.New(rand.NewPCG(uint64(i), 99))) }()
	}
	phase := func() {
		select {
		case <-time.After(soakPhase):
		case <-t.Context().Done():
		}
	}

	phase()
	p.stop(t, syscall.SIGKILL)
	p = startPlcsim(t, bin, args(addr)...)
	p.waitReady(t)

	phase()
	p.stop(t, syscall.SIGTERM)
	survived := make([]uint32, soakClients) // confirmed before the SIGTERM: all saved at shutdown
	for i, c := range clients {
		survived[i] = c.confirmed.Load()
	}
	writeFile(t, faults, "# no faults while checking\n")
	p = startPlcsim(t, bin, args(addr)...)
	p.waitReady(t)
	checkMemory(t, addr, clients, survived, "after the SIGTERM restart")
	writeFile(t, faults, soakFaults)
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitReload(t, p)
	sinceRestart := make([]uint32, soakClients)
	for i, c := range clients {
		sinceRestart[i] = c.confirmed.Load()
	}

	phase()
	stopClients()
	wg.Wait()
	writeFile(t, faults, "# no faults while checking\n")
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitReload(t, p)
	last := make([]uint32, soakClients)
	var reads, failed uint64
	for i, c := range clients {
		if c.confirmed.Load() > sinceRestart[i] { // a write confirmed since the last restart
			last[i] = c.confirmed.Load()
		}
		reads += c.reads.Load()
		failed += c.failed.Load()
		if msg := c.wrong.Load(); msg != nil {
			t.Errorf("wrong value: %s", *msg)
		}
	}
	checkMemory(t, addr, clients, last, "at the end")
	var confirmedWrites int
	for _, c := range clients {
		confirmedWrites += int(c.confirmed.Load()) - int(c.base())
		c.cli.Close()
	}
	t.Logf("soak: %d reads and %d confirmed writes, %d requests failed (faults, 1 SIGKILL, 1 SIGTERM)", reads, confirmedWrites, failed)
	if reads < soakClients || confirmedWrites < soakClients || failed == 0 {
		t.Fatalf("soak did too little to prove anything: %d reads, %d writes, %d failures", reads, confirmedWrites, failed)
	}

	testutil.WaitFor(t, 5*time.Second, "goroutines and fds back to baseline", func() bool {
		return runtime.NumGoroutine() <= goroutines && countFDs(t, os.Getpid()) <= fds
	})
	testutil.WaitFor(t, 5*time.Second, "plcsim's fds back to baseline", func() bool {
		return countFDs(t, p.cmd.Process.Pid) <= simFDs
	})
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if rss := rssKB(t, p.cmd.Process.Pid); rss > 200<<10 || ms.HeapInuse > 200<<20 {
		t.Errorf("memory: plcsim RSS %d KiB, test heap %d MiB; want under 200 MiB each", rss, ms.HeapInuse>>20)
	}
	p.stop(t, syscall.SIGTERM)
}

// checkMemory reads every client's register with a fault-free client: each
// holds at least want (a confirmed write; 0 checks nothing) and at most
// what the client sent.
func checkMemory(t *testing.T, addr string, clients []*soakClient, want []uint32, when string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	cli, err := plc.Dial(ctx, addr, plc.Options{Options: transport.Options{Retries: 3,
		Backoff: func(int) time.Duration { return 10 * time.Millisecond }}})
	if err != nil {
		t.Fatalf("%s: %v", when, err)
	}
	defer cli.Close()
	vals, err := cli.ReadHoldingRegisters(ctx, 0, soakClients)
	if err != nil {
		t.Fatalf("%s: reading the registers: %v", when, err)
	}
	for i, c := range clients {
		if want[i] == 0 {
			continue
		}
		// Another client's writes may have landed since (after the restart
		// they write again), so the register may hold more, never less.
		if v := uint32(vals[i]); v < want[i] || v > c.attempted.Load() {
			t.Errorf("%s: register %d holds %#04x; a write of %#04x was confirmed, %#04x the highest sent",
				when, i, v, want[i], c.attempted.Load())
		}
	}
}

func waitReload(t *testing.T, p *plcsimProc) {
	t.Helper()
	select {
	case <-p.reload:
	case <-time.After(5 * time.Second):
		t.Fatal("plcsim did not reload its fault rules within 5s of SIGHUP")
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func countFDs(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func rssKB(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Fatal(errors.New("no VmRSS in /proc/pid/status"))
	return 0
}
