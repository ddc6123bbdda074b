package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/pflag"

	"github.com/plcctl/plcctl/plant"
)

// isTagWatch reports whether watch's arguments name tags rather than a read
// command: a plant file is given and the first word is not a command.
func (a *app) isTagWatch(args []string, file string) bool {
	if len(args) == 0 || a.plantFile(file) == "" && !slices.ContainsFunc(args, func(s string) bool {
		return s == "--plant" || strings.HasPrefix(s, "--plant=")
	}) {
		return false
	}
	saved := a.opts
	cmd := a.lookup(args[0])
	a.opts = saved
	return cmd == nil
}

// tagRound is one round of watch TAG... in JSON.
type tagRound struct {
	Time        string         `json:"time"`
	Round       int            `json:"round"`
	Values      map[string]any `json:"values"`
	Error       string         `json:"error,omitempty"`
	Reconnected bool           `json:"reconnected,omitempty"`
}

// watchTags is watch TAG...: the rounds of watch, each reading the tags as
// get does.
func (a *app) watchTags(ctx context.Context, c *command, args []string, interval *time.Duration, count *int, file *string, gap *int) error {
	// Flags may follow the tag names (watch's flag set stops at the first
	// word): parse them again, keeping what was parsed before.
	fs := a.opts.newFlagSet("watch")
	fs.Var(durFlag{interval}, "interval", "")
	fs.Var(numFlag[int]{count, maxFlagInt}, "count", "")
	fs.StringVar(file, "plant", *file, "")
	fs.Var(numFlag[int]{gap, 0xFFFF}, "gap", "")
	if err := parseFlags(fs, args); errors.Is(err, pflag.ErrHelp) {
		return err
	} else if err != nil {
		return usagef("%v", flagError(err, fs))
	}
	if err := a.connFlags(fs); err != nil {
		return err
	}
	if err := a.opts.check(); err != nil {
		return err
	}
	a.log = a.newLogger()
	if *interval <= 0 {
		return usagef("--interval %v: want a positive duration", *interval)
	}
	if *count < 0 {
		return usagef("--count %d: want 0 or more", *count)
	}
	p, err := a.loadPlant(*file)
	if err != nil {
		return err
	}
	tags, err := p.Lookup(fs.Args()...)
	if err != nil {
		return usagef("%v", err)
	}
	tc := a.newTagConn(c.flags)
	if err := tc.checkAddress(p, tags); err != nil {
		return err
	}
	tc.unitGiven = tc.unitGiven || fs.Changed("unit")
	tc.gap = *gap
	defer tc.close()
	w := &watchState{interval: *interval, what: tagNames(tags)}
	var last []tagValue
	w.roundFn = func(ctx context.Context) error {
		t := now()
		vs, err := a.readTags(ctx, "watch", tc, tags)
		if ctx.Err() != nil {
			return nil
		}
		reconnected := a.roundReconnected(w, err)
		a.showTagRound(w, t, tags, vs, last, err, reconnected)
		if err != nil {
			if w.failed == 0 {
				w.gapStart = t
			}
			w.failed++
			return err
		}
		if reconnected || w.failed > 0 {
			w.lastGap = gapText(w, t)
		}
		w.failed, last = 0, vs
		return nil
	}
	return a.watch(ctx, w, *count)
}

func (a *app) showTagRound(w *watchState, t time.Time, tags []*plant.Tag, vs, last []tagValue, err error, reconnected bool) {
	w.shown = true
	ts := t.Format(timeLayout)
	var sb strings.Builder
	switch {
	case a.opts.output == "json":
		rec := tagRound{Time: ts, Round: w.round, Reconnected: reconnected}
		if err != nil {
			rec.Error = reason(err)
		} else {
			rec.Values = map[string]any{}
			for _, v := range vs {
				rec.Values[v.tag.Name] = jsonValue(v.tag.Type, v.value)
			}
		}
		_ = writeJSON(a.stdout, rec) // a failed write stops the watch (stdoutErr)
		return
	case a.opts.output == "csv":
		var rows [][]string
		if !w.csvHeader {
			rows = append(rows, []string{"time", "round", "tag", "value", "eng_unit", "error"})
			w.csvHeader = true
		}
		round := strconv.Itoa(w.round)
		if err != nil {
			rows = append(rows, []string{ts, round, "", "", "", reason(err)})
		}
		for _, v := range vs {
			rows = append(rows, []string{ts, round, v.tag.Name, v.tag.Format(v.value), v.tag.EngUnit, ""})
		}
		_ = writeCSV(a.stdout, rows)
		return
	case isTerminal(a.stdout):
		a.tagTable(w, &sb, t, tags, vs, last, err, reconnected)
	default:
		switch {
		case err != nil:
			fmt.Fprintf(&sb, "# %s round %d failed: %s\n", ts, w.round, tagReason(err))
		case reconnected || w.failed > 0:
			fmt.Fprintf(&sb, "# %s %s\n", ts, gapText(w, t))
		}
		tagLines(&sb, w, ts, vs)
	}
	fmt.Fprint(a.stdout, sb.String())
}

// tagLines writes the piped "TIME TAG VALUE UNIT" lines of one round in
// columns fixed for the whole watch: tag names as wide as the longest name
// watched, values as wide as the widest of the first round that had values.
// Aligned again each round, the columns moved whenever a value changed width
// (2.5 -> 2.55), so a log written through tee was ragged from round to round;
// a later value wider than the first round's pushes only its own unit over.
func tagLines(sb *strings.Builder, w *watchState, ts string, vs []tagValue) {
	if len(vs) == 0 {
		return
	}
	if w.tagNameW == 0 {
		for _, v := range vs {
			w.tagNameW = max(w.tagNameW, utf8.RuneCountInString(v.tag.Name))
			w.tagValueW = max(w.tagValueW, utf8.RuneCountInString(tagText(v)))
		}
	}
	for _, v := range vs {
		val := tagText(v)
		line := ts + "  " + v.tag.Name + strings.Repeat(" ", max(w.tagNameW-utf8.RuneCountInString(v.tag.Name), 0)) + "  " + val
		if v.tag.EngUnit != "" {
			line += strings.Repeat(" ", max(w.tagValueW-utf8.RuneCountInString(val), 0)) + "  " + v.tag.EngUnit
		}
		sb.WriteString(strings.TrimRight(line, " ") + "\n")
	}
}

// tagTable draws the live table of watch TAG... in place.
func (a *app) tagTable(w *watchState, sb *strings.Builder, t time.Time, tags []*plant.Tag, vs, last []tagValue, err error, reconnected bool) {
	if w.lines > 0 {
		fmt.Fprintf(sb, "\x1b[%dA\r\x1b[J", w.lines)
	}
	start := sb.Len()
	fmt.Fprintf(sb, "watch %s  every %v  round %d  %s\n", plural(len(tags), "tag"), w.interval, w.round, t.Format("15:04:05"))
	switch {
	case err != nil:
		fmt.Fprintf(sb, "\x1b[1mno answer (%s): %s\x1b[0m\n", plural(w.failed+1, "round"), tagReason(err))
	case reconnected || w.failed > 0:
		fmt.Fprintf(sb, "%s\n", gapText(w, t))
	case w.lastGap != "":
		fmt.Fprintf(sb, "last %s\n", w.lastGap)
	default:
		sb.WriteString("ok\n")
	}
	shown := vs
	if shown == nil {
		shown = last
	}
	nameW, valW := 0, 0
	for _, v := range shown {
		nameW, valW = max(nameW, len(v.tag.Name)), max(valW, len(tagText(v)))
	}
	lines := make([]string, len(shown))
	for i, v := range shown {
		val := tagText(v)
		pad := strings.Repeat(" ", valW-len(val)) // padded outside the escapes, so columns line up
		switch {
		case err != nil:
			val = "\x1b[2m" + val + "\x1b[0m"
		case last != nil && i < len(last) && tagText(last[i]) != tagText(v):
			val = "\x1b[7m" + val + "\x1b[0m"
		}
		lines[i] = fmt.Sprintf("%-*s  %s", nameW, v.tag.Name, val)
		if v.tag.EngUnit != "" {
			lines[i] += pad + "  " + v.tag.EngUnit
		}
		lines[i] += "\n"
	}
	cols := terminalColumns(a.stdout)
	limit := fitRows(lines, sb.String()[start:], moreNote(len(lines)), terminalRows(a.stdout), cols)
	for _, l := range lines[:limit] {
		sb.WriteString(l)
	}
	if hidden := len(lines) - limit; hidden > 0 {
		sb.WriteString(moreNote(hidden))
	}
	text := sb.String()[start:]
	w.lines = strings.Count(text, "\n")
	if cols > 0 {
		w.lines = screenRows(text, cols)
	}
}

// moreNote is the live table's last line when n tags do not fit.
func moreNote(n int) string { return "+" + strconv.Itoa(n) + " more (use -o json/csv or fewer tags)\n" }

// fitRows returns how many of lines fit below head on a terminal rows tall
// and cols wide (0: unknown), keeping a row for the cursor and, when not
// all fit, room for note: a table taller than the terminal scrolls, and
// redrawing in place cannot go back over what scrolled away. Lines longer
// than the terminal count as the rows they wrap onto.
func fitRows(lines []string, head, note string, rows, cols int) int {
	if rows <= 0 {
		return len(lines)
	}
	height := func(s string) int {
		if cols > 0 {
			return screenRows(s, cols)
		}
		return strings.Count(s, "\n")
	}
	room := rows - 1 - height(head)
	need := 0
	for _, l := range lines {
		need += height(l)
	}
	if need <= room {
		return len(lines)
	}
	room -= height(note)
	n := 0
	for n < len(lines) && height(lines[n]) <= room {
		room -= height(lines[n])
		n++
	}
	return n
}

// tagReason is reason(err) after the tags of the request that failed, for
// the text lines of a failed round: a round reads its tags in several
// requests, and the line named none of them.
func tagReason(err error) string {
	var oe *opError
	if errors.As(err, &oe) && oe.span != "" {
		return oe.span + ": " + reason(err)
	}
	return reason(err)
}
