package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plc"
)

// scanResult is one unit that answered: the JSON object of scan, one per
// line.
type scanResult struct {
	Unit     uint8   `json:"unit"`
	Function string  `json:"function"`
	Answer   string  `json:"answer"` // "ok" or "exception 02 illegal data address"
	RTTms    float64 `json:"rtt_ms"`
	Vendor   string  `json:"vendor_name,omitempty"`
	Product  string  `json:"product_code,omitempty"`
	Revision string  `json:"major_minor_revision,omitempty"`
	DeviceID string  `json:"device_id,omitempty"` // "unsupported" when 43/14 was refused
}

// scanFunction returns the probe scan sends for --function name: one item
// at ADDR (a function, not a map: a map literal is built at every start; issue 10).
func scanFunction(name string) (modbus.FunctionCode, bool) {
	switch name {
	case "read-coils":
		return modbus.FuncReadCoils, true
	case "read-discrete-inputs":
		return modbus.FuncReadDiscreteInputs, true
	case "read-holding-registers":
		return modbus.FuncReadHoldingRegisters, true
	case "read-input-registers":
		return modbus.FuncReadInputRegisters, true
	}
	return 0, false
}

const scanWorkers = 16 // requests in flight on the one connection (the transport's maximum)

func (a *app) scanCommand() *command {
	c := &command{name: "scan", args: "[ADDR]", flags: a.opts.newFlagSet("scan"), linkWarnings: true}
	units := c.flags.String("units", "1-247", "unit ids to try: `LIST` of ids and ranges, e.g. 1-247 or 1,2,10-20")
	function := c.flags.String("function", "read-holding-registers", "probe `COMMAND`: read-holding-registers, read-input-registers, read-coils or read-discrete-inputs")
	unitTimeout := durationFlag(c.flags, "unit-timeout", 300*time.Millisecond, "wait at most `D` for each unit")
	devID := c.flags.Bool("device-id", true, "read the basic device identification (43/14) of every unit found")
	c.long = `Sends one read of one item at ADDR (default 0) to every unit id in --units, up to 16 at
once on one connection, each waiting at most --unit-timeout. A unit that answers, with
data or with an exception such as 02 (the device is there, it refused the address), is
found; one that stays silent, or for which a gateway answers exception 0A or 0B (no
device answered behind it), is not. For each unit found, the basic device
identification (vendor, product code, revision) is read where the device supports it.
Only reads are sent. Text prints a table, one line per unit found, its columns aligned;
JSON one object per unit found (with "unit"), CSV a header and one row per unit found;
in every format a summary line goes to stderr.

Exit status: 0 if any unit answered, else 1; 1 too when Ctrl-C stopped the scan (the summary
says after how many unit ids).`
	c.example = []string{"scan", "scan --units 1-32 --unit-timeout 100ms -o json", "scan --function read-coils --device-id=false 0"}
	c.notes = []string{addressHelp}
	c.run = func(ctx context.Context, args []string) error {
		if len(args) > 1 {
			return usagef("want at most ADDR, got %s", arguments(len(args)))
		}
		fc, ok := scanFunction(strings.ToLower(*function))
		if !ok {
			return usagef("--function %q: want read-holding-registers, read-input-registers, read-coils or read-discrete-inputs%s",
				*function, didYouMean(*function, readCommandNames))
		}
		ids, err := parseUnitList(*units)
		if err != nil {
			return err
		}
		if *unitTimeout <= 0 {
			return usagef("--unit-timeout %v: want a positive duration", *unitTimeout)
		}
		tbl := holdingRegisters
		switch fc {
		case modbus.FuncReadCoils:
			tbl = coils
		case modbus.FuncReadDiscreteInputs:
			tbl = discreteInputs
		case modbus.FuncReadInputRegisters:
			tbl = inputRegisters
		}
		var addr uint16
		if len(args) == 1 {
			if addr, err = a.parseAddress(args[0], tbl); err != nil {
				return err
			}
		}
		a.opts.retries = 0
		return a.scan(ctx, ids, strings.ToLower(*function), fc, addr, *unitTimeout, *devID)
	}
	return c
}

// parseUnitList parses "1-247", "1,2,10-20" into sorted unique ids.
func parseUnitList(s string) ([]uint8, error) {
	seen := map[uint8]bool{}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err1 := parseUint(lo, 255)
		b := a
		var err2 error
		if isRange {
			b, err2 = parseUint(hi, 255)
		}
		if err1 != nil || err2 != nil || b < a {
			return nil, unitListError(s, part, lo, hi, a, b, err1, err2)
		}
		for u := a; u <= b; u++ {
			seen[uint8(u)] = true
		}
	}
	ids := make([]uint8, 0, len(seen))
	for u := range seen {
		ids = append(ids, u)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, nil
}

// unitsLabel names the sorted unit ids of a scan for its error sentence,
// in place of -u's one unit, which the scan did not ask alone.
func unitsLabel(ids []uint8) string {
	switch {
	case len(ids) == 1:
		return "unit " + strconv.Itoa(int(ids[0]))
	case int(ids[len(ids)-1])-int(ids[0])+1 == len(ids):
		return "unit ids " + strconv.Itoa(int(ids[0])) + ".." + strconv.Itoa(int(ids[len(ids)-1]))
	}
	return plural(len(ids), "unit id")
}

// unitListError says what is wrong with part of --units s: a range that
// runs backwards, a number beyond 255, or a word that is no id at all.
func unitListError(s, part, lo, hi string, a, b uint64, errLo, errHi error) error {
	if errLo == nil && errHi == nil { // b < a
		return usagef("--units %q: range %q runs backwards: write it low-high (%d-%d)", s, strings.TrimSpace(part), b, a)
	}
	bad := lo
	if errLo == nil {
		bad = hi
	}
	bad = strings.TrimSpace(bad)
	if _, err := strconv.ParseUint(bad, 0, 64); err == nil {
		return usagef("--units %q: %s is not a unit id: want 0..255", s, bad)
	}
	return usagef("--units %q: %q is not a unit id 0..255 or a range such as 1-247", s, part)
}

func (a *app) scan(ctx context.Context, ids []uint8, fname string, fc modbus.FunctionCode, addr uint16, unitTimeout time.Duration, devID bool) error {
	log := a.log
	a.opts.timeout = max(a.opts.timeout, unitTimeout)
	cl, err := a.dialScan(ctx, log)
	if err != nil {
		return &opError{cmd: "scan", span: unitsLabel(ids), noUnit: true, err: err}
	}
	a.client, a.clientAddr = cl, normalizeAddress(a.opts.address) // closed by run
	start := now()
	results := make([]*scanResult, len(ids))
	var (
		wg      sync.WaitGroup
		next    = make(chan int)
		linkErr error
		probed  int // units whose probe ended before Ctrl-C
		mu      sync.Mutex
	)
	for range min(scanWorkers, len(ids)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r, err := a.probeUnit(ctx, cl.WithUnit(ids[i]), ids[i], fname, fc, addr, unitTimeout, devID)
				results[i] = r
				mu.Lock()
				if err != nil {
					linkErr = err
				}
				if r != nil || err == nil { // answered, or silent: not cut short by Ctrl-C
					probed++
				}
				mu.Unlock()
			}
		}()
	}
	for i := range ids {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	found := 0
	if a.opts.output == "csv" {
		// The header even when no unit answers: a CSV reader wants its
		// columns, and the rows carry every key of the JSON object.
		_ = writeCSV(a.stdout, [][]string{{"unit", "function", "answer", "rtt_ms", "vendor_name", "product_code",
			"major_minor_revision", "device_id"}})
	}
	var text [][]string // text output is one table, aligned over every unit found
	for _, r := range results {
		if r == nil {
			continue
		}
		found++
		if a.opts.output == "text" {
			text = append(text, scanRow(r))
		} else {
			a.printScan(r)
		}
	}
	_ = writeColumns(a.stdout, text, 2) // the round trip is a number
	a.log.Info().Int("units", len(ids)).Int("found", found).Dur("elapsed", now().Sub(start)).Msg("scan done")
	// On stderr in every format: with -o json a scan that found nothing
	// exited 1 without a word.
	elapsed := now().Sub(start).Round(time.Millisecond)
	if ctx.Err() != nil {
		// Ctrl-C: not a scan of every unit, so neither exit 0 nor the
		// summary of one ("0 of 247 answered" of units never asked).
		fmt.Fprintf(a.stderr, "scan: interrupted after %d of %s: %d answered at %s (%v)\n", probed, plural(len(ids), "unit id"),
			found, a.clientAddr, elapsed)
		return exitStatus(exitFailure) // said in the summary
	}
	fmt.Fprintf(a.stderr, "scan: %d of %s answered at %s (%v)\n", found, plural(len(ids), "unit id"), a.clientAddr, elapsed)
	switch {
	case found == 0 && linkErr != nil:
		return &opError{cmd: "scan", span: unitsLabel(ids), noUnit: true, err: linkErr, exit: exitFailure}
	case found == 0:
		return exitStatus(exitFailure)
	}
	return nil
}

// dialScan opens the scan's connection: 16 requests in flight, and silent
// units not taken for a dead link (each absent unit is one timeout).
func (a *app) dialScan(ctx context.Context, log zerolog.Logger) (*plc.Client, error) {
	opts := plc.Options{UnitID: a.opts.unit}
	opts.Timeout = a.opts.timeout
	opts.DialTimeout = a.opts.timeout
	opts.MaxInFlight = scanWorkers
	opts.DeadAfterTimeouts = -1
	opts.Logger = &log
	return plc.Dial(ctx, normalizeAddress(a.opts.address), opts)
}

// probeUnit sends the probe to one unit. It returns nil for a unit that did
// not answer, and an error only when the link itself failed.
func (a *app) probeUnit(ctx context.Context, cl *plc.Client, unit uint8, fname string, fc modbus.FunctionCode, addr uint16,
	timeout time.Duration, devID bool) (*scanResult, error) {
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t0 := now()
	var err error
	switch fc {
	case modbus.FuncReadCoils:
		_, err = cl.ReadCoils(pctx, addr, 1)
	case modbus.FuncReadDiscreteInputs:
		_, err = cl.ReadDiscreteInputs(pctx, addr, 1)
	case modbus.FuncReadInputRegisters:
		_, err = cl.ReadInputRegisters(pctx, addr, 1)
	default:
		_, err = cl.ReadHoldingRegisters(pctx, addr, 1)
	}
	rtt := now().Sub(t0)
	r := &scanResult{Unit: unit, Function: fname, Answer: "ok", RTTms: ms(rtt)}
	var exc *modbus.ExceptionError
	switch {
	case err == nil:
	case errors.As(err, &exc) && (exc.Code == modbus.GatewayPathUnavailable || exc.Code == modbus.GatewayTargetDeviceFailedToRespond):
		return nil, nil
	case errors.As(err, &exc):
		r.Answer = "exception " + exc.Code.String()
	case errors.Is(err, context.DeadlineExceeded):
		return nil, nil
	default:
		return nil, err
	}
	if devID {
		dctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		d, err := cl.ReadDeviceID(dctx, modbus.DeviceIDBasic)
		switch {
		case err == nil:
			get := func(id uint8) string { v, _ := d.Object(id); return string(v) }
			r.Vendor, r.Product, r.Revision = get(0), get(1), get(2)
		case errors.As(err, &exc):
			r.DeviceID = "unsupported"
		case ctx.Err() != nil: // Ctrl-C, not the device's silence: nothing to say of it
		default:
			r.DeviceID = "no answer"
		}
	}
	return r, nil
}

func (a *app) printScan(r *scanResult) {
	switch a.opts.output {
	case "json":
		_ = writeJSON(a.stdout, r)
	case "csv":
		_ = writeCSV(a.stdout, [][]string{{strconv.Itoa(int(r.Unit)), r.Function, r.Answer, strconv.FormatFloat(r.RTTms, 'f', 3, 64),
			r.Vendor, r.Product, r.Revision, r.DeviceID}})
	}
}

// scanRow is r as cells of the text table: unit (3 digits wide, as 1..247
// print), answer, round trip, then
// vendor, product and revision (quoted: they may hold spaces), or what
// became of the identification request.
func scanRow(r *scanResult) []string {
	row := []string{fmt.Sprintf("unit %3d", r.Unit), r.Answer, strconv.FormatFloat(r.RTTms, 'f', 3, 64) + " ms"}
	switch {
	case r.Vendor != "" || r.Product != "" || r.Revision != "":
		row = append(row, strconv.Quote(r.Vendor), strconv.Quote(r.Product), strconv.Quote(r.Revision))
	case r.DeviceID != "":
		row = append(row, "(device identification "+r.DeviceID+")")
	}
	return row
}
