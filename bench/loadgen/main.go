// Command loadgen is the load generator of bench/: it measures a Modbus TCP
// server (plcsim, libmodbus's C server, pymodbus) the same way for all of
// them, with exact frames and nothing of plcctl's client library in the way.
//
//	loadgen -addr 127.0.0.1:PORT -conns 64 -duration 3s [-regs 10] [-max 2000000]
//
// It opens -conns TCP connections (TCP_NODELAY), then every connection sends
// FC 3 requests for -regs holding registers one after the other (one request
// outstanding per connection, as a polling client does) until -duration has
// passed or -max requests were sent in all. Every answer is checked (length
// field, transaction id, unit id, function code, byte count); a wrong answer
// or a broken connection counts as an error and ends that connection. It
// prints one JSON object to stdout:
//
//	{"conns":64,"regs":10,"requests":N,"errors":0,"seconds":3.0,"rps":...,"p50_us":...,"p99_us":...,"cpu_us_per_req":...}
//
// cpu_us_per_req is the load generator's own CPU time (user + system, the
// whole process) per request answered: what the load costs the CPU it runs
// on, a bound on what any server can be shown to do in the same placement.
//
// Only loopback addresses are accepted, and both the time (at most 60 s) and
// the request count are bounded.
package main

import (
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
}

func main() {
	addr := flag.String("addr", "", "server address, 127.0.0.1:PORT (loopback only)")
	conns := flag.Int("conns", 1, "connections, 1..1000")
	dur := flag.Duration("duration", 3*time.Second, "how long to send, at most 60s")
	regs := flag.Int("regs", 10, "holding registers per request, 1..125")
	maxReq := flag.Int64("max", 5_000_000, "at most this many requests in all")
	flag.Parse()
	if err := check(*addr, *conns, *dur, *regs); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	r, err := run(*addr, *conns, *dur, *regs, *maxReq)
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
	t0 := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(t0)
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
	slices.Sort(all)
	r := result{Conns: conns, Regs: regs, Requests: int64(len(all)), Errors: errs,
		Seconds: elapsed.Seconds(), RPS: float64(len(all)) / elapsed.Seconds()}
	if len(all) > 0 {
		r.P50us = float64(all[len(all)/2].Nanoseconds()) / 1e3
		r.P99us = float64(all[min(len(all)-1, len(all)*99/100)].Nanoseconds()) / 1e3
	}
	if len(all) == 0 {
		return r, errors.New("no request was answered")
	}
	if cpu := processCPU(); cpu > 0 {
		r.CPUus = float64(cpu.Nanoseconds()) / 1e3 / float64(len(all))
	}
	return r, nil
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
		w.lat = append(w.lat, time.Since(t))
		switch {
		case binary.BigEndian.Uint16(resp) != tid:
			return fmt.Errorf("answer tid %d, want %d", binary.BigEndian.Uint16(resp), tid)
		case binary.BigEndian.Uint16(resp[4:]) != uint16(want-6) || resp[6] != 1 || resp[7] != 3 || int(resp[8]) != 2*w.regs:
			return fmt.Errorf("answer to tid %d is not FC 3 with %d registers: % x", tid, w.regs, resp[:9])
		}
	}
	return nil
}
