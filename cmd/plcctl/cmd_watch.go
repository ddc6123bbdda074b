package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/spf13/pflag"

	"github.com/plcctl/plcctl/plc"
)

const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// watchRecord is one round of watch in JSON: the read's object plus time and
// round, or an error in place of values. reconnected marks the first round
// after the link was lost and re-established (the gap).
type watchRecord struct {
	Time        string `json:"time"`
	Round       int    `json:"round"`
	*values            // function, unit, address, count, type, word_order, values
	Error       string `json:"error,omitempty"`
	Reconnected bool   `json:"reconnected,omitempty"`
}

// watchState is what watch remembers between rounds.
type watchState struct {
	op        *readOp
	interval  time.Duration
	round     int
	conns     uint64    // reconnections seen so far (transport Stats.Reconnects)
	relinked  bool      // a new connection was made before this good round (roundReconnected)
	failed    int       // consecutive failed rounds
	gapStart  time.Time // first failed round of the current gap
	lastGap   string    // "15:04:01..15:04:05, 4 rounds" for the live table
	last      *values   // last good values (the live table keeps them during a gap)
	lines     int       // lines drawn last round (live table)
	csvHeader bool
	shown     bool   // a round was shown (it ended before Ctrl-C)
	what      string // what is watched, for an error: "read-coils 0..7", tag names
	// watch TAG... piped: the widths of its name and value columns, fixed
	// by the first round with values (tagLines).
	tagNameW, tagValueW int
	// roundFn, when set, runs a round instead of op (watch TAG...).
	roundFn func(ctx context.Context) error
}

func (a *app) watchCommand() *command {
	c := &command{name: "watch", args: "READ-COMMAND [flags] ARGS",
		flags: a.opts.newFlagSet("watch"), linkWarnings: true}
	c.flags.SetInterspersed(false)
	interval := durationFlag(c.flags, "interval", time.Second, "time `D` between rounds")
	count := intFlag(c.flags, "count", 0, "stop after `N` rounds (0: until Ctrl-C)")
	plantFile := addPlantFlag(c.flags)
	gap := addGapFlag(c.flags)
	c.long = `READ-COMMAND is read-coils, read-discrete-inputs, read-holding-registers or
read-input-registers, with its own flags and arguments after it. Every round uses the
same connection. On a terminal, text output redraws a live table (changed values
highlighted); piped, it prints "TIME ADDRESS VALUE" lines per round, and lines starting
with # for failed rounds and reconnections. JSON prints one object per round: the read's
object plus "time" and "round"; a failed round has "error" instead of values, and the
first round after the link was re-established has "reconnected": true. If the device
restarts, watch keeps polling: failed rounds mark the gap, and the connection is
re-established by itself. Watch flags may come before or after READ-COMMAND.

With a plant file (--plant FILE or $PLCCTL_PLANT), watch TAG... polls the named tags,
of any tables and devices, in one view: each round reads them in as few requests as
get does (--gap N as for get), and prints "TIME TAG VALUE UNIT" lines, in the columns
of the first round (json: one object per round with "values" by tag name; csv:
time,round,tag,value,eng_unit,error).
On a terminal the live table fits the screen: tags that do not fit are counted in a
last "+N more" line (-o json or csv, or a pipe, print every tag).

Exit status: 0 after --count rounds or Ctrl-C, unless the last round shown failed; 1 when
Ctrl-C came before the first round was answered.`
	c.example = []string{"watch read-holding-registers 100 10", "watch --interval 500ms --count 20 read-input-registers 0 4 --type float32",
		"poll -o json read-coils 0 16 > coils.jsonl", "watch --plant station.yaml tank1.level flow pump1.run"}
	c.run = func(ctx context.Context, args []string) error {
		if *interval <= 0 {
			return usagef("--interval %v: want a positive duration", *interval)
		}
		if *count < 0 {
			return usagef("--count %d: want 0 or more", *count)
		}
		if a.isTagWatch(args, *plantFile) {
			return a.watchTags(ctx, c, args, interval, count, plantFile, gap)
		}
		op, err := a.prepareInner(c, args)
		if err != nil {
			return err
		}
		if *gap != 0 {
			return usagef("--gap joins the reads of tags: it goes with watch TAG..., not with %s", op.cmd)
		}
		return a.watch(ctx, &watchState{op: op, interval: *interval, what: op.cmd + " " + a.span(op.addr, op.items)}, *count)
	}
	return c
}

// prepareInner parses the read command watch repeats; its flags may include
// shared flags, which then apply to the whole watch, and the outer
// command's own flags (watch read-coils 0 8 --interval 1s).
func (a *app) prepareInner(outer *command, args []string) (*readOp, error) {
	if len(args) == 0 {
		return nil, usagef("want a read command, e.g. %s read-holding-registers 0 10", outer.name)
	}
	saved := a.opts
	inner := a.lookup(args[0])
	a.opts = saved
	if inner == nil || inner.prepareRead == nil {
		return nil, usagef("%q is not a read command: want read-coils, read-discrete-inputs, read-holding-registers or read-input-registers%s",
			args[0], didYouMean(args[0], readCommandNames))
	}
	own, _ := splitFlags(outer.flags)
	own.VisitAll(func(f *pflag.Flag) {
		if inner.flags.Lookup(f.Name) == nil {
			inner.flags.AddFlag(f)
		}
	})
	if err := parseFlags(inner.flags, args[1:]); errors.Is(err, pflag.ErrHelp) {
		return nil, err
	} else if err != nil {
		return nil, usagef("%s: %v", inner.name, flagError(err, inner.flags))
	}
	if err := a.connFlags(inner.flags); err != nil { // as for any line: in the shell, its connection is fixed
		return nil, err
	}
	if err := a.opts.check(); err != nil {
		return nil, err
	}
	a.log = a.newLogger()
	return inner.prepareRead(inner.flags.Args())
}

// watch runs the rounds until count is reached or ctx ends. Ctrl-C is a
// normal end, and the last round shown decides the exit status as after
// --count rounds: a watch whose rounds all failed exited 0 when stopped
// with Ctrl-C, and one stopped before any round was shown exited 0 with
// nothing on stdout.
func (a *app) watch(ctx context.Context, w *watchState, count int) error {
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	var lastErr error
	for count == 0 || w.round < count {
		w.round++
		var err error
		if w.roundFn != nil {
			err = w.roundFn(ctx)
		} else {
			err = a.watchRound(ctx, w)
		}
		if ctx.Err() != nil { // the round was interrupted, not shown
			return watchInterrupted(w, lastErr)
		}
		if werr := a.stdoutErr(); werr != nil {
			return fmt.Errorf("watch stopped at round %d: its output cannot be written: %w", w.round, werr)
		}
		lastErr = err
		if count != 0 && w.round >= count {
			break
		}
		select {
		case <-ctx.Done():
			return watchInterrupted(w, lastErr)
		case <-tick.C:
		}
	}
	return lastErr
}

// watchInterrupted is watch's result when Ctrl-C ended it: the last round
// shown's error, or one saying that no round was, when Ctrl-C came during
// the first.
func watchInterrupted(w *watchState, lastErr error) error {
	if !w.shown {
		return &opError{cmd: "watch", span: w.what, err: errors.New("interrupted before the first round was answered"), exit: exitFailure}
	}
	return lastErr
}

// watchRound reads once and shows the result.
func (a *app) watchRound(ctx context.Context, w *watchState) error {
	t := now()
	cl, err := a.connect(ctx)
	if err != nil {
		err = &opError{cmd: w.op.cmd, span: a.span(w.op.addr, w.op.items), err: err}
	}
	var v *values
	if err == nil {
		v, err = a.doRead(ctx, cl, w.op)
	}
	if ctx.Err() != nil {
		return nil
	}
	reconnected := a.roundReconnected(w, err)
	a.showRound(w, t, v, err, reconnected)
	if err != nil {
		if w.failed == 0 {
			w.gapStart = t
		}
		w.failed++
	} else {
		if reconnected || w.failed > 0 {
			w.lastGap = gapText(w, t)
		}
		w.failed, w.last = 0, v
	}
	return err
}

// roundReconnected reports whether the round's connection is a new one
// since the last good round: only then may a round say "reconnected".
// Rounds that failed on a link that stayed up (an exception, a late or a
// refused answer) are a gap, not a reconnection. It records the answer for
// gapText.
func (a *app) roundReconnected(w *watchState, err error) bool {
	w.relinked = false
	if a.client != nil && err == nil {
		conns := a.client.Conn().Stats().Reconnects
		w.relinked = conns > w.conns
		w.conns = conns
	}
	return w.relinked
}

// gapText describes the gap that ended at t, and whether the link was
// re-established in it.
func gapText(w *watchState, t time.Time) string {
	if w.failed == 0 {
		return "link re-established at " + t.Format("15:04:05") + " (no round lost)"
	}
	rounds := "rounds"
	if w.failed == 1 {
		rounds = "round"
	}
	s := fmt.Sprintf("gap %s..%s, %d %s lost", w.gapStart.Format("15:04:05"), t.Format("15:04:05"), w.failed, rounds)
	if w.relinked {
		s += ", link re-established"
	}
	return s
}

// showRound prints one round in the --output format.
func (a *app) showRound(w *watchState, t time.Time, v *values, err error, reconnected bool) {
	w.shown = true
	switch {
	case a.opts.output == "json":
		a.watchJSON(w, t, v, err, reconnected)
	case a.opts.output == "csv":
		a.watchCSV(w, t, v, err)
	case isTerminal(a.stdout):
		a.watchTable(w, t, v, err, reconnected)
	default:
		a.watchLines(w, t, v, err, reconnected)
	}
}

func (a *app) watchJSON(w *watchState, t time.Time, v *values, err error, reconnected bool) {
	rec := watchRecord{Time: t.Format(timeLayout), Round: w.round, values: v, Reconnected: reconnected}
	if err != nil {
		op := w.op // the same keys as a good round, values null
		rec.values = &values{Function: op.cmd, Unit: a.opts.unit, Address: op.addr, Count: op.n}
		if op.tbl == holdingRegisters || op.tbl == inputRegisters {
			rec.values.Type = op.typ.String()
			if op.order != plc.ABCD {
				rec.values.WordOrder = op.order.String()
			}
		}
		rec.Error = reason(err)
	}
	_ = writeJSON(a.stdout, rec) // a failed write stops the watch (stdoutErr)
}

func (a *app) watchCSV(w *watchState, t time.Time, v *values, err error) {
	var rows [][]string
	if !w.csvHeader {
		rows = append(rows, []string{"time", "round", "address", "value", "error"})
		w.csvHeader = true
	}
	ts, round := t.Format(timeLayout), strconv.Itoa(w.round)
	if err != nil {
		rows = append(rows, []string{ts, round, "", "", reason(err)})
	} else {
		for i := range v.raw {
			rows = append(rows, []string{ts, round, strconv.Itoa(int(v.Address) + i*v.step), v.csv(i), ""})
		}
	}
	_ = writeCSV(a.stdout, rows)
}

// watchLines prints "TIME ADDRESS VALUE" lines, # lines for gaps.
func (a *app) watchLines(w *watchState, t time.Time, v *values, err error, reconnected bool) {
	var sb strings.Builder
	ts := t.Format(timeLayout)
	if err != nil {
		fmt.Fprintf(&sb, "# %s round %d failed: %s\n", ts, w.round, reason(err))
	} else {
		if reconnected || w.failed > 0 {
			fmt.Fprintf(&sb, "# %s %s\n", ts, gapText(w, t))
		}
		for i := range v.raw {
			fmt.Fprintf(&sb, "%s  %s  %s\n", ts, a.key(v, i), v.text(i))
		}
	}
	fmt.Fprint(a.stdout, sb.String())
}

// watchTable redraws the live table in place on a terminal.
func (a *app) watchTable(w *watchState, t time.Time, v *values, err error, reconnected bool) {
	var sb strings.Builder
	if w.lines > 0 {
		fmt.Fprintf(&sb, "\x1b[%dA\r\x1b[J", w.lines) // back to the top of the last table, clear below
	}
	op := w.op
	fmt.Fprintf(&sb, "%s %s  %s unit %d  every %v  round %d  %s\n", op.cmd, a.span(op.addr, op.items),
		a.clientAddrOr(), a.opts.unit, w.interval, w.round, t.Format("15:04:05"))
	lines := 1
	switch {
	case err != nil:
		fmt.Fprintf(&sb, "\x1b[1mno answer (%s): %s\x1b[0m\n", plural(w.failed+1, "round"), reason(err))
	case reconnected || w.failed > 0:
		fmt.Fprintf(&sb, "%s\n", gapText(w, t))
	case w.lastGap != "":
		fmt.Fprintf(&sb, "last %s\n", w.lastGap)
	default:
		sb.WriteString("ok\n")
	}
	lines++
	shown := v
	if shown == nil {
		shown = w.last
	}
	if shown != nil {
		// Fit the screen: a table taller than the terminal would scroll,
		// and the cursor could not go back over what scrolled away (a copy
		// of the table left behind every round). The header stays; rows
		// that do not fit are cut with a note saying how many.
		limit := len(shown.raw)
		if rows := terminalRows(a.stdout); rows > 0 {
			used := lines
			if cols := terminalColumns(a.stdout); cols > 0 {
				used = screenRows(sb.String(), cols)
			}
			if room := rows - used - 1; room < limit { // one row for the cursor
				limit = max(room-1, 0) // one for the note
			}
		}
		lines += a.tableRows(&sb, shown, w.last, err != nil, limit)
		if hidden := len(shown.raw) - limit; hidden > 0 {
			fmt.Fprintf(&sb, "... %d of %s not shown: the terminal has %d rows (make it taller, or pipe or use -o json for every value)\n",
				hidden, plural(len(shown.raw), "value"), terminalRows(a.stdout))
			lines++
		}
	}
	if cols := terminalColumns(a.stdout); cols > 0 {
		lines = screenRows(sb.String(), cols) // long lines wrap: go back over every row drawn
	}
	w.lines = lines
	fmt.Fprint(a.stdout, sb.String())
}

// terminalColumns and terminalRows are the size of the live table's
// terminal (0 if unknown), replaceable in tests.
var (
	terminalColumns = termColumns
	terminalRows    = func(w any) int { _, rows := termSize(w); return rows }
)

// screenRows counts the terminal rows that text (lines ending in "\n" after
// an optional cursor-movement prefix) takes on a terminal cols wide: a line
// longer than the terminal wraps onto more rows, and redrawing in place must
// move the cursor back over all of them. Escape sequences take no room.
func screenRows(text string, cols int) int {
	rows := 0
	for _, line := range strings.SplitAfter(text, "\n") {
		if !strings.HasSuffix(line, "\n") {
			continue
		}
		n := utf8.RuneCountInString(ansiEscape().ReplaceAllString(strings.TrimSuffix(line, "\n"), ""))
		rows += max(1, (n+cols-1)/cols)
	}
	return rows
}

// ansiEscape matches what the live table writes that takes no room: CSI
// sequences and carriage returns.
var ansiEscape = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]|\r") })

// tableRows writes the first limit live table rows, highlighting values
// that changed since prev, dimming all of them when stale.
func (a *app) tableRows(sb *strings.Builder, v, prev *values, stale bool, limit int) int {
	width := 0
	for i := range v.raw {
		width = max(width, len(a.key(v, i)))
	}
	for i := range v.raw[:limit] {
		val := v.text(i)
		switch {
		case stale:
			val = "\x1b[2m" + val + "\x1b[0m"
		case prev != nil && prev != v && i < len(prev.raw) && prev.text(i) != v.text(i):
			val = "\x1b[7m" + val + "\x1b[0m"
		}
		fmt.Fprintf(sb, "%*s  %s\n", width, a.key(v, i), val)
	}
	return limit
}

func (a *app) clientAddrOr() string {
	if a.clientAddr != "" {
		return a.clientAddr
	}
	return a.deviceAddress()
}
