package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/plcctl/plcctl/modbus"
)

// pingEvent is one line of ping's JSON output.
type pingEvent struct {
	Event string  `json:"event"` // reply, exception, lost
	Seq   int     `json:"seq"`
	Time  string  `json:"time"`
	RTTms float64 `json:"rtt_ms"`
	Error string  `json:"error,omitempty"`

	rtt  time.Duration
	sent bool // the request went out on a connection
}

// pingSummary is ping's last JSON line.
type pingSummary struct {
	Event    string  `json:"event"` // summary
	Address  string  `json:"address"`
	Unit     uint8   `json:"unit"`
	Sent     int     `json:"sent"`
	Answered int     `json:"answered"`
	LossPct  float64 `json:"loss_pct"`
	MinMs    float64 `json:"min_ms"`
	AvgMs    float64 `json:"avg_ms"`
	MaxMs    float64 `json:"max_ms"`
	P99Ms    float64 `json:"p99_ms"`
}

func (a *app) pingCommand() *command {
	c := &command{name: "ping", args: "[ADDR]", flags: a.opts.newFlagSet("ping"), linkWarnings: true}
	// -c as ping(8) spells the count.
	count := intFlagP(c.flags, "count", "c", 0, "stop after `N` requests (0: until Ctrl-C)")
	rate := new(float64)
	*rate = 1
	c.flags.Var(floatFlag{rate}, "rate", "`R` requests per second")
	c.long = `Each request reads one holding register at ADDR (default 0) over one connection, without
retries. An exception answer counts as answered (the device is alive, it just refused the
address), except gateway exceptions 0A and 0B: the gateway answered that no device did, so
they count as lost. Prints one line per request, then sent, answered, loss and round-trip
min/avg/max/p99. JSON prints one object per request ({"event":"reply"|"exception"|"lost",
...}) and a last {"event":"summary",...}; CSV one row per request and a last row with
event "summary", in columns of their own (address, unit, sent, answered, loss_pct,
min_ms, avg_ms, max_ms, p99_ms) that the request rows leave empty.

Exit status: 0 if at least one request was answered, else 1.`
	c.example = []string{"ping -a 192.168.1.20", "ping -c 10 --rate 5 -o json"}
	c.notes = []string{addressHelp}
	c.run = func(ctx context.Context, args []string) error {
		if len(args) > 1 {
			return usagef("want at most ADDR, got %s", arguments(len(args)))
		}
		// NaN, Inf and rates whose interval rounds to 0 or overflows would
		// make the ticker panic: refuse them like any other bad value.
		interval := float64(time.Second) / *rate
		if !(*rate > 0) || math.IsInf(*rate, 0) || !(interval >= 1) || interval > float64(24*time.Hour) {
			return usagef("--rate %v: want requests per second, from 1/86400 (one a day) to 1e9", *rate)
		}
		var addr uint16
		if len(args) == 1 {
			var err error
			if addr, err = a.parseAddress(args[0], holdingRegisters); err != nil {
				return err
			}
		}
		a.opts.retries = 0 // a lost request is a loss, not a retry
		return a.ping(ctx, addr, *count, time.Duration(interval))
	}
	return c
}

func (a *app) ping(ctx context.Context, addr uint16, count int, interval time.Duration) error {
	headed := false // CSV: the header is printed
	var rtts latencies
	sent, answered := 0, 0
	var lastErr error
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for count == 0 || sent < count {
		sent++
		ev, err := a.pingOnce(ctx, addr, sent)
		if ctx.Err() != nil && ev.Event == "lost" {
			// Ctrl-C during the request: like ping(8), a request that
			// was on the wire counts as sent and unanswered; one that
			// never left (still dialling) does not count.
			if !ev.sent {
				sent--
			} else if lastErr == nil {
				lastErr = errors.New("interrupted before any answer")
			}
			break
		}
		if ev.Event != "lost" {
			answered++
			rtts = append(rtts, ev.rtt)
		} else {
			lastErr = err
		}
		a.printPing(ev, &headed)
		if werr := a.stdoutErr(); werr != nil {
			return fmt.Errorf("ping stopped at seq %d: its output cannot be written: %w", ev.Seq, werr)
		}
		if count != 0 && sent >= count {
			break
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
		if ctx.Err() != nil {
			break
		}
	}
	a.printPingSummary(sent, answered, rtts, &headed)
	if answered == 0 {
		if lastErr == nil {
			lastErr = errors.New("no request sent")
		}
		return &opError{cmd: "ping", err: lastErr, exit: exitFailure}
	}
	return nil
}

// pingOnce sends request seq and classifies the answer.
func (a *app) pingOnce(ctx context.Context, addr uint16, seq int) (pingEvent, error) {
	start := now()
	ev := pingEvent{Seq: seq, Time: start.Format(timeLayout), Event: "reply"}
	cl, err := a.connect(ctx)
	if err == nil {
		ev.sent = true
		_, err = cl.ReadHoldingRegisters(ctx, addr, 1)
	}
	rtt := time.Since(start)
	var exc *modbus.ExceptionError
	switch {
	case err == nil:
	case errors.As(err, &exc) && (exc.Code == modbus.GatewayPathUnavailable || exc.Code == modbus.GatewayTargetDeviceFailedToRespond):
		// The gateway answered that no device did: the unit is absent.
		ev.Event, ev.Error = "lost", "exception "+exc.Code.String()
	case errors.As(err, &exc):
		ev.Event, ev.Error = "exception", "exception "+exc.Code.String()
	default:
		ev.Event, ev.Error = "lost", reason(err)
	}
	if ev.Event != "lost" {
		ev.rtt, ev.RTTms = rtt, ms(rtt)
	}
	return ev, err
}

// pingSummaryColumns are the CSV columns only the last row, the summary,
// fills (JSON's summary keys).
var pingSummaryColumns = []string{"address", "unit", "sent", "answered", "loss_pct", "min_ms", "avg_ms", "max_ms", "p99_ms"}

// pingCSVHeader returns ping's CSV header unless *headed says it was
// printed: one table, whether its first row is a request (one interrupted
// while dialling is not printed) or the summary.
func pingCSVHeader(headed *bool) [][]string {
	if *headed {
		return nil
	}
	*headed = true
	return [][]string{append([]string{"seq", "time", "event", "rtt_ms", "error"}, pingSummaryColumns...)}
}

func (a *app) printPing(ev pingEvent, headed *bool) {
	switch a.opts.output {
	case "json":
		_ = writeJSON(a.stdout, ev)
	case "csv":
		rows := pingCSVHeader(headed)
		rtt := strconv.FormatFloat(ev.RTTms, 'f', 3, 64)
		if ev.Event == "lost" {
			rtt = "" // no round trip, as text and JSON say none (JSON's 0 is its zero value)
		}
		rows = append(rows, append([]string{strconv.Itoa(ev.Seq), ev.Time, ev.Event, rtt, ev.Error}, make([]string, len(pingSummaryColumns))...))
		_ = writeCSV(a.stdout, rows)
	default:
		target := fmt.Sprintf("%s unit %d", a.clientAddrOr(), a.opts.unit)
		switch ev.Event {
		case "lost":
			fmt.Fprintf(a.stdout, "no answer from %s: seq=%d %s\n", target, ev.Seq, ev.Error)
		case "exception":
			fmt.Fprintf(a.stdout, "answer from %s: seq=%d time=%.3f ms (%s)\n", target, ev.Seq, ev.RTTms, ev.Error)
		default:
			fmt.Fprintf(a.stdout, "answer from %s: seq=%d time=%.3f ms\n", target, ev.Seq, ev.RTTms)
		}
	}
}

func (a *app) printPingSummary(sent, answered int, rtts latencies, headed *bool) {
	s := rtts.summary()
	loss := 0.0
	if sent > 0 {
		loss = float64(sent-answered) * 100 / float64(sent)
	}
	sum := pingSummary{Event: "summary", Address: a.clientAddrOr(), Unit: a.opts.unit, Sent: sent, Answered: answered,
		LossPct: loss, MinMs: s.Min, AvgMs: s.Avg, MaxMs: s.Max, P99Ms: s.P99}
	switch a.opts.output {
	case "json":
		_ = writeJSON(a.stdout, sum)
		return
	case "csv": // a last row, event "summary", in the summary's own columns
		rtt := []string{"", "", "", ""}
		if answered > 0 {
			for i, v := range []float64{s.Min, s.Avg, s.Max, s.P99} {
				rtt[i] = strconv.FormatFloat(v, 'f', 3, 64)
			}
		}
		row := append([]string{"", now().Format(timeLayout), "summary", "", "", sum.Address, strconv.Itoa(int(sum.Unit)),
			strconv.Itoa(sent), strconv.Itoa(answered), strconv.FormatFloat(loss, 'f', 1, 64)}, rtt...)
		_ = writeCSV(a.stdout, append(pingCSVHeader(headed), row))
		return
	}
	fmt.Fprintf(a.stdout, "--- %s unit %d ping ---\n%d sent, %d answered, %.1f%% loss\n", sum.Address, sum.Unit, sent, answered, loss)
	if answered > 0 {
		fmt.Fprintf(a.stdout, "round-trip min/avg/max/p99 = %.3f/%.3f/%.3f/%.3f ms\n", s.Min, s.Avg, s.Max, s.P99)
	}
}
