package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plc"
	"github.com/plcctl/plcctl/transport"
)

// benchResult is bench's summary, the one JSON object it prints.
type benchResult struct {
	Function     string  `json:"function"` // "bench"
	Target       string  `json:"target"`   // read-holding-registers or write-registers
	Address      uint16  `json:"address"`
	Count        int     `json:"count"`
	Unit         uint8   `json:"unit"`
	InFlight     int     `json:"in_flight"`
	Requests     int     `json:"requests"`
	Errors       int     `json:"errors"`
	Timeouts     int     `json:"timeouts"`
	Exceptions   int     `json:"exceptions"`
	Reconnects   uint64  `json:"reconnects"`
	Stopped      string  `json:"stopped,omitempty"` // "duration" or "max-errors": ended before all requests were sent
	ElapsedS     float64 `json:"elapsed_s"`
	RequestsPerS float64 `json:"requests_per_s"`
	MinMs        float64 `json:"min_ms"`
	AvgMs        float64 `json:"avg_ms"`
	P50Ms        float64 `json:"p50_ms"`
	P90Ms        float64 `json:"p90_ms"`
	P99Ms        float64 `json:"p99_ms"`
	MaxMs        float64 `json:"max_ms"`
}

// benchRun is the shared state of the workers.
type benchRun struct {
	cl       *plc.Client
	addr     uint16
	regs     []uint16 // written back by --function write
	count    uint16
	write    bool
	next     atomic.Int64
	done     atomic.Int64
	lat      []time.Duration // per request; 0 for a failed one
	errs     []error
	requests int

	maxErrors int           // stop once this many requests failed (0: never)
	duration  time.Duration // stop sending after this long (0: no limit)
	failed    atomic.Int64
	stopped   atomic.Value // string: why it stopped early
	reorder   bool         // --allow-reorder
}

// stop ends the run early for why: no new request is sent, those in
// flight finish.
func (b *benchRun) stop(why string) { b.stopped.CompareAndSwap(nil, why) }

func (a *app) benchCommand() *command {
	c := &command{name: "bench", args: "[ADDR [COUNT]]", flags: a.opts.newFlagSet("bench"), linkWarnings: true}
	// -n as ab(1) spells the number of requests.
	requests := intFlagP(c.flags, "requests", "n", 1000, "total requests `N`")
	inFlight := intFlag(c.flags, "in-flight", 1, "requests outstanding at once, `K` (pipelining, 1..16)")
	function := c.flags.String("function", "read", "`F`: read (read holding registers) or write (write them back)")
	duration := durationFlag(c.flags, "duration", 0, "stop sending after `D` (0: when N requests were sent)")
	maxErrors := intFlag(c.flags, "max-errors", 20, "stop after `E` failed requests (0: never)")
	reorder := c.flags.Bool("allow-reorder", false, "accept answers to pipelined requests in any order (a device that reorders; see README)")
	c.long = `Sends N requests for COUNT holding registers (default 1) at ADDR (default 0) over one
new connection, K at a time (the device must accept pipelined requests for K > 1).
--function write first reads the registers, then writes the values read back with function
16, N times: the data stays as it was only if nothing else writes those registers during
the run (a value the device's program or another client changes meanwhile is overwritten
with the one read at the start; a warning on stderr says so). A progress bar is drawn on
stderr when it is a terminal. Prints requests/s, latency min/avg/p50/p90/p99/max, errors
and reconnects; JSON prints the summary as one object. The run stops early, with the
summary of what was sent, after --duration or once --max-errors requests have failed (a
device that drops every connection cannot hold it for N timeouts).

Exit status: 0 unless every request failed or --max-errors was reached.`
	c.example = []string{"bench", "bench --requests 10000 --in-flight 8 100 10", "bench --function write -o json 100 10"}
	c.notes = []string{addressHelp}
	c.run = func(ctx context.Context, args []string) error {
		*function = strings.ToLower(*function) // the words flags take are not case-sensitive
		if *function != "read" && *function != "write" {
			return usagef("--function %q: want read or write", *function)
		}
		b := &benchRun{count: 1, write: *function == "write", requests: *requests, maxErrors: *maxErrors,
			duration: *duration, reorder: *reorder}
		if *duration < 0 { // --max-errors, a numFlag, is never negative
			return usagef("--duration %v: want 0 (no limit) or more", *duration)
		}
		if err := a.parseBench(b, *inFlight, args); err != nil {
			return err
		}
		return a.bench(ctx, b, *inFlight)
	}
	return c
}

// parseBench checks the counts and parses [ADDR [COUNT]] into b.
func (a *app) parseBench(b *benchRun, inFlight int, args []string) error {
	if b.requests < 1 {
		return usagef("--requests %d: want at least 1", b.requests)
	}
	if inFlight < 1 || inFlight > transport.MaxInFlightLimit {
		return usagef("--in-flight %d: want 1..%d", inFlight, transport.MaxInFlightLimit)
	}
	if len(args) > 2 {
		return usagef("want [ADDR [COUNT]], got %s", arguments(len(args)))
	}
	var err error
	if len(args) > 0 {
		if b.addr, err = a.parseAddress(args[0], holdingRegisters); err != nil {
			return err
		}
	}
	if len(args) > 1 {
		limit := modbus.MaxReadRegisters
		if b.write {
			limit = modbus.MaxWriteRegisters
		}
		n, err := parseCount(args[1], limit)
		if err != nil {
			return err
		}
		b.count = uint16(n)
	}
	if !modbus.InRange(modbus.AddressSpace, b.addr, int(b.count)) {
		return usagef("count %d from address %s runs past the last address 65535", b.count, args[0])
	}
	return nil
}

func (a *app) bench(ctx context.Context, b *benchRun, inFlight int) error {
	cl, err := a.dialWith(ctx, inFlight, a.log, func(o *plc.Options) { o.AllowReorder = b.reorder })
	if err != nil {
		return &opError{cmd: "bench", err: err}
	}
	defer cl.Close()
	b.cl = cl.WithUnit(a.opts.unit)
	if b.write {
		if b.regs, err = b.cl.ReadHoldingRegisters(ctx, b.addr, b.count); err != nil {
			return &opError{cmd: "bench", span: a.span(b.addr, int(b.count)), err: err}
		}
		// The help said "the device's data is unchanged": only if nothing
		// else writes these registers during the run.
		a.log.Warn().Msgf("bench: writing holding registers %s back %s with the values read now: a value the device or another client changes meanwhile is overwritten",
			a.span(b.addr, int(b.count)), plural(b.requests, "time"))
	}
	b.lat, b.errs = make([]time.Duration, b.requests), make([]error, b.requests)
	stop := a.benchProgress(b)
	start := time.Now()
	if b.duration > 0 {
		t := time.AfterFunc(b.duration, func() { b.stop("duration") })
		defer t.Stop()
	}
	var wg sync.WaitGroup
	for range inFlight {
		wg.Add(1)
		go func() { defer wg.Done(); b.work(ctx) }()
	}
	wg.Wait()
	elapsed := time.Since(start)
	stop()
	res := a.benchSummary(b, inFlight, elapsed)
	if err := a.printBench(res); err != nil {
		return err
	}
	if res.Errors == res.Requests || res.Stopped == "max-errors" { // every request failed, or Ctrl-C before any answer
		return &opError{cmd: "bench", span: a.span(b.addr, int(b.count)), err: firstError(b.errs)}
	}
	return nil
}

// work sends requests until all are taken. A read goes into the worker's
// own slice (ReadHoldingRegistersInto): no allocation per request, so the
// figure is the library's, as the Go benchmark measures it.
func (b *benchRun) work(ctx context.Context) {
	dst := make([]uint16, b.count)
	for {
		if b.stopped.Load() != nil {
			return
		}
		i := int(b.next.Add(1) - 1)
		if i >= b.requests || ctx.Err() != nil {
			return
		}
		t := time.Now()
		var err error
		if b.write {
			err = b.cl.WriteRegisters(ctx, b.addr, b.regs)
		} else {
			_, err = b.cl.ReadHoldingRegistersInto(ctx, b.addr, dst)
		}
		if err != nil && ctx.Err() != nil {
			return // interrupted (Ctrl-C): neither an answer nor an error of the device
		}
		if err != nil {
			b.errs[i] = err
			if n := b.failed.Add(1); b.maxErrors > 0 && n >= int64(b.maxErrors) {
				b.stop("max-errors")
			}
		} else {
			b.lat[i] = max(time.Since(t), 1)
		}
		b.done.Add(1)
	}
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return errors.New("interrupted before any answer")
}

// benchProgress draws a progress bar on a terminal stderr until stop.
func (a *app) benchProgress(b *benchRun) (stop func()) {
	if !isTerminal(a.stderr) {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		start := time.Now()
		draw := func() {
			n := int(b.done.Load())
			const width = 40
			bar := strings.Repeat("=", n*width/b.requests) + strings.Repeat(" ", width-n*width/b.requests)
			fmt.Fprintf(a.stderr, "\r[%s] %d/%d  %.0f req/s", bar, n, b.requests, float64(n)/time.Since(start).Seconds())
		}
		draw() // at once, so even a run shorter than one tick shows its bar
		for {
			select {
			case <-done:
				draw() // the final count, then clear the line for the summary
				fmt.Fprint(a.stderr, "\r\x1b[K")
				return
			case <-t.C:
				draw()
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func (a *app) benchSummary(b *benchRun, inFlight int, elapsed time.Duration) *benchResult {
	target := "read-holding-registers"
	if b.write {
		target = "write-registers"
	}
	res := &benchResult{Function: "bench", Target: target, Address: b.addr, Count: int(b.count), Unit: a.opts.unit,
		InFlight: inFlight, ElapsedS: elapsed.Seconds(), Reconnects: b.cl.Conn().Stats().Reconnects}
	if why, ok := b.stopped.Load().(string); ok {
		res.Stopped = why
	}
	var ok latencies
	res.Requests = int(b.done.Load())
	var exc *modbus.ExceptionError // errors.As's target escapes: one for the loop, not one per request
	for i, err := range b.errs {
		switch {
		case err == nil && b.lat[i] > 0:
			ok = append(ok, b.lat[i])
		case err == nil:
		case errors.As(err, &exc):
			res.Errors++
			res.Exceptions++
		case errors.Is(err, context.DeadlineExceeded):
			res.Errors++
			res.Timeouts++
		default:
			res.Errors++
		}
	}
	if elapsed > 0 {
		res.RequestsPerS = float64(res.Requests) / elapsed.Seconds()
	}
	s := ok.summary()
	res.MinMs, res.AvgMs, res.P50Ms, res.P90Ms, res.P99Ms, res.MaxMs = s.Min, s.Avg, s.P50, s.P90, s.P99, s.Max
	return res
}

func (a *app) printBench(r *benchResult) error {
	switch a.opts.output {
	case "json":
		return writeJSON(a.stdout, r)
	case "csv":
		// JSON's fields; the ones CSV lacked at first (unit, timeouts,
		// exceptions, stopped) go last, so the columns scripts know stay put.
		return writeCSV(a.stdout, [][]string{
			{"target", "address", "count", "in_flight", "requests", "errors", "elapsed_s", "requests_per_s", "min_ms", "avg_ms", "p50_ms", "p90_ms", "p99_ms", "max_ms", "reconnects",
				"unit", "timeouts", "exceptions", "stopped"},
			{r.Target, fmt.Sprint(r.Address), fmt.Sprint(r.Count), fmt.Sprint(r.InFlight), fmt.Sprint(r.Requests), fmt.Sprint(r.Errors),
				fmt.Sprintf("%.3f", r.ElapsedS), fmt.Sprintf("%.1f", r.RequestsPerS), fmt.Sprint(r.MinMs), fmt.Sprint(r.AvgMs),
				fmt.Sprint(r.P50Ms), fmt.Sprint(r.P90Ms), fmt.Sprint(r.P99Ms), fmt.Sprint(r.MaxMs), fmt.Sprint(r.Reconnects),
				fmt.Sprint(r.Unit), fmt.Sprint(r.Timeouts), fmt.Sprint(r.Exceptions), r.Stopped}})
	}
	regs := "registers"
	if r.Count == 1 {
		regs = "register"
	}
	latency := fmt.Sprintf("min %.3f  avg %.3f  p50 %.3f  p90 %.3f  p99 %.3f  max %.3f ms", r.MinMs, r.AvgMs, r.P50Ms, r.P90Ms, r.P99Ms, r.MaxMs)
	if r.Requests == r.Errors {
		// Latency is measured on the requests that succeeded: with none,
		// zeros would read as an instant device.
		latency = "none: no request succeeded"
	}
	_, err := fmt.Fprintf(a.stdout, `%d %s requests of %d %s at %s, %d in flight, %s unit %d
elapsed     %.3f s
throughput  %.1f requests/s
latency     %s
errors      %d (%d timeouts, %d exceptions)
reconnects  %d
`, r.Requests, r.Target, r.Count, regs, a.span(r.Address, r.Count), r.InFlight, normalizeAddress(a.opts.address), r.Unit,
		r.ElapsedS, r.RequestsPerS, latency, r.Errors, r.Timeouts, r.Exceptions, r.Reconnects)
	if err == nil && r.Stopped != "" {
		_, err = fmt.Fprintf(a.stdout, "stopped     early, at --%s\n", r.Stopped)
	}
	return err
}
