// Command loadgen is the load generator of bench/: it measures a Modbus TCP
// server (plcsim, libmodbus's C server, pymodbus) the same way for all of
// them, with exact frames and nothing of plcctl's client library in the way.
//
//	loadgen -addr 127.0.0.1:PORT -conns 64 -duration 3s [-regs 10] [-max 2000000] [-engine epoll|goroutines]
//
// It opens -conns TCP connections (TCP_NODELAY), then every connection sends
// FC 3 requests for -regs holding registers one after the other (one request
// outstanding per connection, as a polling client does) until -duration has
// passed or -max requests were sent in all. Every answer is checked (length
// field, transaction id, unit id, function code, byte count, and the
// register values: holding register i = i, as bench/ sets up every server;
// a byte after an answer shows as the start of the next); a wrong answer or a broken connection counts as an error and
// ends that connection. It prints one JSON object to stdout:
//
//	{"conns":64,"regs":10,"requests":N,"errors":0,"seconds":3.0,"rps":...,"p50_us":...,"p99_us":...,"cpu_us_per_req":...,"wakeups":...}
//
// cpu_us_per_req is the load generator's own CPU time (user + system, the
// whole process, from the first request to the last answer) per request
// answered: what the load costs the CPU it runs on, a bound on what any
// server can be shown to do in the same placement.
//
// Two engines make the same load. "epoll" (the default on Linux,
// epoll_linux.go) serves every connection from one thread with epoll and
// raw non-blocking system calls: one send and one receive per request,
// one epoll_wait per batch of answers (wakeups counts them): the least a
// load generator can do per request, which is about what the least server
// does (bench/testdata/epoll_server.c), since each side pays the kernel's
// TCP work for what it sends. "goroutines" is a goroutine per
// connection over net.Conn (Go's netpoller), the engine before it, kept for
// comparison and for other systems.
//
// -depth N (epoll engine) keeps N requests outstanding per connection
// instead of one, written together and answered in order: a pipelined
// load, another shape than a polling client's, to be reported apart from
// it.
//
// Only loopback addresses are accepted, and both the time (at most 60 s) and
// the request count are bounded.
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

type result struct {
	Conns    int     `json:"conns"`
	Regs     int     `json:"regs"`
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	Seconds  float64 `json:"seconds"`
	RPS      float64 `json:"rps"`
	P50us    float64 `json:"p50_us"`
	P99us    float64 `json:"p99_us"`
	CPUus    float64 `json:"cpu_us_per_req"`
	Wakeups  int64   `json:"wakeups,omitempty"` // epoll engine: epoll_wait calls that returned
	Engine   string  `json:"engine"`
	Depth    int     `json:"depth"` // requests outstanding per connection
}

func main() {
	addr := flag.String("addr", "", "server address, 127.0.0.1:PORT (loopback only)")
	conns := flag.Int("conns", 1, "connections, 1..1000")
	dur := flag.Duration("duration", 3*time.Second, "how long to send, at most 60s")
	regs := flag.Int("regs", 10, "holding registers per request, 1..125")
	maxReq := flag.Int64("max", 5_000_000, "at most this many requests in all")
	depth := flag.Int("depth", 1, "requests outstanding per connection, 1..16 (above 1: pipelined load, epoll engine only)")
	engine := flag.String("engine", defaultEngine, "epoll (Linux: one thread, raw system calls) or goroutines (one per connection, net.Conn)")
	flag.Parse()
	if err := check(*addr, *conns, *dur, *regs); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	if *depth < 1 || *depth > 16 || *depth > 1 && *engine != "epoll" {
		fmt.Fprintf(os.Stderr, "loadgen: -depth %d: 1..16, and above 1 only with -engine epoll\n", *depth)
		os.Exit(2)
	}
	var r result
	var err error
	switch *engine {
	case "epoll":
		r, err = runEpoll(*addr, *conns, *dur, *regs, *maxReq, *depth)
	case "goroutines":
		r, err = run(*addr, *conns, *dur, *regs, *maxReq)
	default:
		fmt.Fprintf(os.Stderr, "loadgen: -engine %q is epoll or goroutines\n", *engine)
		os.Exit(2)
	}
	r.Engine, r.Depth = *engine, *depth
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(r)
}

func check(addr string, conns int, dur time.Duration, regs int) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %v", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr %q: only loopback addresses are allowed", addr)
	}
	switch {
	case conns < 1 || conns > 1000:
		return fmt.Errorf("-conns %d outside 1..1000", conns)
	case dur <= 0 || dur > time.Minute:
		return fmt.Errorf("-duration %v outside (0, 60s]", dur)
	case regs < 1 || regs > 125:
		return fmt.Errorf("-regs %d outside 1..125", regs)
	}
	return nil
}

// worker is one connection's loop; lat collects its round trips.
type worker struct {
	nc   *net.TCPConn
	regs int
	lat  []time.Duration
	err  error
}

func run(addr string, conns int, dur time.Duration, regs int, maxReq int64) (result, error) {
	ws := make([]*worker, conns)
	for i := range ws {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			for _, w := range ws[:i] {
				w.nc.Close()
			}
			return result{}, fmt.Errorf("connection %d of %d: %w", i+1, conns, err)
		}
		nc := c.(*net.TCPConn)
		nc.SetNoDelay(true)
		ws[i] = &worker{nc: nc, regs: regs, lat: make([]time.Duration, 0, 1<<16)}
	}
	var budget atomic.Int64
	budget.Store(maxReq)
	start := make(chan struct{})
	var wg sync.WaitGroup
	deadline := time.Now().Add(dur)
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			w.err = w.loop(deadline, &budget)
		}()
	}
	cpu0 := processCPU()
	t0 := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(t0)
	cpu := processCPU() - cpu0
	var all []time.Duration
	var errs int64
	for _, w := range ws {
		all = append(all, w.lat...)
		if w.err != nil {
			errs++
			fmt.Fprintln(os.Stderr, "loadgen:", w.err)
		}
		w.nc.CloseWrite()
		w.nc.Close()
	}
	r := summarize(conns, regs, all, errs, elapsed)
	if len(all) == 0 {
		return r, errors.New("no request was answered")
	}
	r.CPUus = float64(cpu.Nanoseconds()) / 1e3 / float64(len(all))
	return r, nil
}

// summarize sorts lat and fills in everything but the CPU figures.
func summarize(conns, regs int, lat []time.Duration, errs int64, elapsed time.Duration) result {
	slices.Sort(lat)
	r := result{Conns: conns, Regs: regs, Requests: int64(len(lat)), Errors: errs,
		Seconds: elapsed.Seconds(), RPS: float64(len(lat)) / elapsed.Seconds()}
	if len(lat) > 0 {
		r.P50us = float64(lat[len(lat)/2].Nanoseconds()) / 1e3
		r.P99us = float64(lat[min(len(lat)-1, len(lat)*99/100)].Nanoseconds()) / 1e3
	}
	return r
}

// values holds the register values every answer must carry: register i = i.
var values = func() []byte {
	b := make([]byte, 0, 250)
	for i := range uint16(125) {
		b = binary.BigEndian.AppendUint16(b, i)
	}
	return b
}()

// checkAnswer checks that a is the answer to FC 3 request tid for regs
// registers from 0 (the bytes were read to exactly its expected length).
func checkAnswer(a []byte, tid uint16, regs int) error {
	switch {
	case binary.BigEndian.Uint16(a) != tid:
		return fmt.Errorf("answer tid %d, want %d", binary.BigEndian.Uint16(a), tid)
	case binary.BigEndian.Uint16(a[2:]) != 0 || binary.BigEndian.Uint16(a[4:]) != uint16(len(a)-6) ||
		a[6] != 1 || a[7] != 3 || int(a[8]) != 2*regs:
		return fmt.Errorf("answer to tid %d is not FC 3 with %d registers: % x", tid, regs, a[:9])
	case !bytes.Equal(a[9:], values[:2*regs]):
		return fmt.Errorf("answer to tid %d: registers % x, want % x (register i = i)", tid, a[9:], values[:2*regs])
	}
	return nil
}

func (w *worker) loop(deadline time.Time, budget *atomic.Int64) error {
	req := []byte{0, 0, 0, 0, 0, 6, 1, 3, 0, 0, 0, byte(w.regs)}
	want := 9 + 2*w.regs
	resp := make([]byte, 260)
	w.nc.SetDeadline(deadline.Add(2 * time.Second))
	for tid := uint16(1); time.Now().Before(deadline) && budget.Add(-1) >= 0; tid++ {
		binary.BigEndian.PutUint16(req, tid)
		t := time.Now()
		if _, err := w.nc.Write(req); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		if _, err := io.ReadFull(w.nc, resp[:want]); err != nil {
			return fmt.Errorf("read answer to tid %d: %w", tid, err)
		}
		d := time.Since(t)
		if err := checkAnswer(resp[:want], tid, w.regs); err != nil {
			return err
		}
		w.lat = append(w.lat, d)
	}
	return nil
}
