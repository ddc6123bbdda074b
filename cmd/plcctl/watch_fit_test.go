package main

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestLiveTableFitsTheTerminal: 40 registers in a 20-row terminal draw at
// most 19 rows per round (the header kept, the rest cut with a note), and
// the next round goes back over exactly those (issue 13: the table scrolled
// and left seven copies of itself behind).
func TestLiveTableFitsTheTerminal(t *testing.T) {
	defer func(c, r func(any) int) { terminalColumns, terminalRows = c, r }(terminalColumns, terminalRows)
	terminalColumns = func(any) int { return 120 }
	terminalRows = func(any) int { return 20 }
	var out strings.Builder
	a := &app{stdout: &out}
	a.opts.address, a.opts.unit = "127.0.0.1:502", 1
	w := &watchState{op: &readOp{cmd: "read-holding-registers", addr: 0, n: 40, items: 40}, interval: time.Second}
	regs := make([]any, 40)
	for i := range regs {
		regs[i] = uint16(i)
	}
	at := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	for round := 1; round <= 3; round++ {
		out.Reset()
		w.round = round
		a.watchTable(w, at, newRegisterValues("read-holding-registers", 1, 0, 0, 0, regs), nil, false)
		text := out.String()
		if round > 1 && !strings.HasPrefix(text, "\x1b[19A\r\x1b[J") {
			t.Errorf("round %d does not go back over the 19 rows drawn: %q", round, text[:min(len(text), 20)])
		}
		body := strings.TrimPrefix(text, "\x1b[19A\r\x1b[J")
		lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
		if len(lines) != 19 || !strings.HasPrefix(lines[0], "read-holding-registers 0..39  127.0.0.1:502 unit 1") ||
			lines[17] != "15  15" || lines[18] != "... 24 of 40 values not shown: the terminal has 20 rows (make it taller, or pipe or use -o json for every value)" {
			t.Errorf("round %d drew %d lines:\n%s", round, len(lines), body)
		}
	}
	// A tall enough terminal shows every row and no note.
	terminalRows = func(any) int { return 60 }
	out.Reset()
	a.watchTable(&watchState{op: w.op, interval: time.Second, round: 1}, at, newRegisterValues("read-holding-registers", 1, 0, 0, 0, regs), nil, false)
	if n := strings.Count(out.String(), "\n"); n != 42 || strings.Contains(out.String(), "not shown") {
		t.Errorf("60 rows: %d lines:\n%s", n, out.String())
	}
	// A terminal too short for any value still keeps the header and the note.
	terminalRows = func(any) int { return 3 }
	out.Reset()
	a.watchTable(&watchState{op: w.op, interval: time.Second, round: 1}, at, newRegisterValues("read-holding-registers", 1, 0, 0, 0, regs), nil, false)
	if !strings.Contains(out.String(), "... 40 of 40 values not shown") {
		t.Errorf("3 rows:\n%s", out.String())
	}
}

// TestTagTableFitsTheTerminal: watch TAG... with more tags than the
// terminal has rows draws the tags that fit and a "+N more" line, keeps
// one row for the cursor, and goes back over exactly what it drew; a tag
// row that wraps counts as the rows it takes.
func TestTagTableFitsTheTerminal(t *testing.T) {
	defer func(c, r func(any) int) { terminalColumns, terminalRows = c, r }(terminalColumns, terminalRows)
	p := loadTestPlant(t, "pump-station")
	tags := p.Tags[:8]
	vs := make([]tagValue, len(tags))
	for i, tg := range tags {
		vs[i] = tagValue{tg, zeroOf(tg)}
	}
	at := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	tests := []struct {
		name       string
		rows, cols int
		shown      int // tag rows drawn
		note       string
	}{
		{"unknown size", 0, 0, 8, ""},
		{"tall enough", 11, 120, 8, ""}, // 2 header rows + 8 + the cursor
		{"one row short", 10, 120, 6, "+2 more (use -o json/csv or fewer tags)"},
		{"five rows", 5, 120, 1, "+7 more (use -o json/csv or fewer tags)"},
		{"no room", 4, 120, 0, "+8 more (use -o json/csv or fewer tags)"},
		// 20 columns: the title takes 3 rows, the note 2, a tag row 1
		{"narrow: rows wrap", 11, 20, 4, "+4 more (use -o json/csv or fewer tags)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			terminalColumns = func(any) int { return tt.cols }
			terminalRows = func(any) int { return tt.rows }
			a := &app{}
			w := &watchState{interval: time.Second, round: 1}
			var first, second strings.Builder
			a.tagTable(w, &first, at, tags, vs, nil, nil, false)
			drawn := w.lines
			w.round = 2
			a.tagTable(w, &second, at, tags, vs, vs, nil, false)
			lines := strings.Split(strings.TrimSuffix(first.String(), "\n"), "\n")
			body := lines[2:]
			if tt.note != "" {
				if last := body[len(body)-1]; last != tt.note {
					t.Errorf("last line %q, want %q", last, tt.note)
				}
				body = body[:len(body)-1]
			}
			if len(body) != tt.shown || strings.Contains(first.String(), "more (use") != (tt.note != "") {
				t.Errorf("drew %d tag rows, want %d:\n%s", len(body), tt.shown, first.String())
			}
			if tt.rows > 0 && drawn > tt.rows-1 {
				t.Errorf("drew %d screen rows on a terminal of %d: it scrolls", drawn, tt.rows)
			}
			if want := "\x1b[" + strconv.Itoa(drawn) + "A\r\x1b[J"; !strings.HasPrefix(second.String(), want) {
				t.Errorf("round 2 starts %q, want %q", second.String()[:min(12, second.Len())], want)
			}
		})
	}
}

// TestWatchTagsPipedColumnsStay: piped watch TAG... keeps its columns where
// the first round put them: a value that gets shorter or longer moves
// nothing in the other lines (each round was aligned on its own, so 2.5 ->
// 2.25 moved every unit of the round, and a log written through tee was
// ragged), and the name column is as wide as the longest tag name.
func TestWatchTagsPipedColumnsStay(t *testing.T) {
	p := loadTestPlant(t, "pump-station")
	tags, err := p.Lookup("tank1.level", "setpoint", "pump1.run")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	a := &app{stdout: &out, log: zerolog.Nop()}
	a.opts.output = "text"
	w := &watchState{}
	const firstW = len("false") // the widest value of round 1
	rounds := [][]any{{float64(2.5), float64(2.5), false}, {float64(2.25), float64(12.125), true}, {float64(3), float64(2.5), false}}
	valueCol := len("2026-01-02T03:04:05.000Z  tank1.level  ")
	unitCol := map[string]int{} // tag -> column of its unit in round 1
	for i, vals := range rounds {
		vs := make([]tagValue, len(tags))
		for j, tg := range tags {
			vs[j] = tagValue{tg, vals[j]}
		}
		out.Reset()
		w.round = i + 1
		a.showTagRound(w, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), tags, vs, nil, nil, false)
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != len(tags) {
			t.Fatalf("round %d: %d lines, want %d:\n%s", i+1, len(lines), len(tags), out.String())
		}
		for j, l := range lines {
			f := strings.Fields(l)
			name := tags[j].Name
			if len(f) < 3 || f[1] != name || strings.Index(l, "  "+f[2])+2 != valueCol {
				t.Errorf("round %d line %q: want the value at column %d", i+1, l, valueCol)
			}
			if tags[j].EngUnit == "" {
				continue
			}
			col := strings.LastIndex(l, " "+tags[j].EngUnit) + 1
			if i == 0 {
				unitCol[name] = col
			} else if want := unitCol[name]; col != want && len(f[2]) <= firstW {
				t.Errorf("round %d line %q: unit at column %d, round 1 had it at %d", i+1, l, col, want)
			}
		}
	}
}
