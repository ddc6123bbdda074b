package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// errInterrupted is returned by readLine for Ctrl-C: the line is dropped.
var errInterrupted = errors.New("interrupted")

// lineEditor edits one line at a time on a terminal in raw mode: cursor
// keys, Home/End, Backspace/Delete, Ctrl-A/E/K/U/W, Up/Down through the
// history, Tab to complete a command name, Ctrl-C to drop the line, Ctrl-D
// on an empty line for end of input.
type lineEditor struct {
	in       *bufio.Reader
	out      io.Writer
	history  []string
	complete func(prefix string) []string

	buf    []rune
	pos    int
	hist   int    // index into history while browsing; len(history) = the new line
	draft  []rune // the new line, kept while browsing history
	prompt string
}

const maxHistory = 1000

// maxHistoryFile bounds what loadHistory reads: 1000 lines of commands.
const maxHistoryFile = 1 << 20

// addHistory appends line unless it is empty or repeats the last entry.
func (e *lineEditor) addHistory(line string) {
	if line == "" || len(e.history) > 0 && e.history[len(e.history)-1] == line {
		return
	}
	e.history = append(e.history, line)
	if len(e.history) > maxHistory {
		e.history = e.history[len(e.history)-maxHistory:]
	}
}

// readLine shows prompt and returns the edited line.
func (e *lineEditor) readLine(prompt string) (string, error) {
	e.buf, e.pos, e.hist, e.draft, e.prompt = nil, 0, len(e.history), nil, prompt
	e.redraw()
	for {
		r, _, err := e.in.ReadRune()
		if err != nil {
			return "", err
		}
		done, err := e.key(r)
		if err != nil {
			fmt.Fprint(e.out, "\r\n")
			return "", err
		}
		if done {
			fmt.Fprint(e.out, "\r\n")
			return string(e.buf), nil
		}
		e.redraw()
	}
}

// key applies one key; done reports Enter.
func (e *lineEditor) key(r rune) (done bool, err error) {
	switch r {
	case '\r', '\n':
		return true, nil
	case 3: // Ctrl-C
		fmt.Fprint(e.out, "^C")
		return false, errInterrupted
	case 4: // Ctrl-D
		if len(e.buf) == 0 {
			return false, io.EOF
		}
		e.deleteAt(e.pos)
	case 1: // Ctrl-A
		e.pos = 0
	case 5: // Ctrl-E
		e.pos = len(e.buf)
	case 2: // Ctrl-B
		e.pos = max(e.pos-1, 0)
	case 6: // Ctrl-F
		e.pos = min(e.pos+1, len(e.buf))
	case 11: // Ctrl-K
		e.buf = e.buf[:e.pos]
	case 21: // Ctrl-U
		e.buf, e.pos = append([]rune{}, e.buf[e.pos:]...), 0
	case 23: // Ctrl-W
		e.deleteWord()
	case 16: // Ctrl-P
		e.browse(-1)
	case 14: // Ctrl-N
		e.browse(1)
	case 127, 8: // Backspace
		if e.pos > 0 {
			e.pos--
			e.deleteAt(e.pos)
		}
	case '\t':
		e.completeWord()
	case 27:
		e.escape()
	default:
		if unicode.IsPrint(r) {
			e.buf = append(e.buf[:e.pos], append([]rune{r}, e.buf[e.pos:]...)...)
			e.pos++
		}
	}
	return false, nil
}

// escape handles CSI sequences: arrows, Home, End, Delete.
func (e *lineEditor) escape() {
	r, _, err := e.in.ReadRune()
	if err != nil || (r != '[' && r != 'O') {
		return
	}
	var seq []rune
	for {
		r, _, err = e.in.ReadRune()
		if err != nil {
			return
		}
		seq = append(seq, r)
		if r >= 0x40 && r <= 0x7E {
			break
		}
	}
	switch string(seq) {
	case "A":
		e.browse(-1)
	case "B":
		e.browse(1)
	case "C":
		e.pos = min(e.pos+1, len(e.buf))
	case "D":
		e.pos = max(e.pos-1, 0)
	case "H", "1~", "7~":
		e.pos = 0
	case "F", "4~", "8~":
		e.pos = len(e.buf)
	case "3~":
		e.deleteAt(e.pos)
	}
}

func (e *lineEditor) deleteAt(i int) {
	if i < len(e.buf) {
		e.buf = append(e.buf[:i], e.buf[i+1:]...)
	}
}

func (e *lineEditor) deleteWord() {
	i := e.pos
	for i > 0 && e.buf[i-1] == ' ' {
		i--
	}
	for i > 0 && e.buf[i-1] != ' ' {
		i--
	}
	e.buf = append(e.buf[:i], e.buf[e.pos:]...)
	e.pos = i
}

// browse moves through the history by d (-1 older, +1 newer).
func (e *lineEditor) browse(d int) {
	n := e.hist + d
	if n < 0 || n > len(e.history) {
		return
	}
	if e.hist == len(e.history) {
		e.draft = append([]rune{}, e.buf...)
	}
	e.hist = n
	if n == len(e.history) {
		e.buf = append([]rune{}, e.draft...)
	} else {
		e.buf = []rune(e.history[n])
	}
	e.pos = len(e.buf)
}

// completeWord completes the first word (the command name) when the prefix
// names one command; with several candidates it lists them.
func (e *lineEditor) completeWord() {
	if e.complete == nil || strings.ContainsRune(string(e.buf[:e.pos]), ' ') {
		return
	}
	prefix := string(e.buf[:e.pos])
	cands := e.complete(prefix)
	switch {
	case len(cands) == 1:
		rest := []rune(cands[0][len(prefix):] + " ")
		e.buf = append(append(append([]rune{}, e.buf[:e.pos]...), rest...), e.buf[e.pos:]...)
		e.pos += len(rest)
	case len(cands) > 1:
		fmt.Fprintf(e.out, "\r\n%s\r\n", strings.Join(cands, "  "))
	}
}

// redraw rewrites the prompt and line and places the cursor.
func (e *lineEditor) redraw() {
	fmt.Fprintf(e.out, "\r\x1b[K%s%s", e.prompt, string(e.buf))
	if back := len(e.buf) - e.pos; back > 0 {
		fmt.Fprintf(e.out, "\x1b[%dD", back)
	}
}
