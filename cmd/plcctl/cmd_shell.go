package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/plcctl/plcctl/internal/limitfile"
)

// exitStatus ends a command with a given exit code, its cause already
// reported (the shell's result).
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

const shellPrompt = "plcctl> "

func (a *app) shellCommand() *command {
	c := &command{name: "shell", args: "[FILE]", flags: a.opts.newFlagSet("shell"), linkWarnings: true}
	stopOnError := c.flags.BoolP("stop-on-error", "e", false, "stop at the first command that fails")
	history := c.flags.String("history", "~/.plcctl_history", "history `FILE` of the interactive shell (\"\" for none)")
	plantFile := c.flags.String("plant", "", "plant `FILE` of the lines' tag commands (get, set, tags, watch TAG...) that give none (env "+plantEnv+")")
	c.long = `Reads commands, one per line, from FILE, or from standard input ("-" or no FILE). On
a terminal it shows a prompt with line editing, history (Up/Down, kept in --history)
and Tab completion of command names. Lines are plcctl commands without "plcctl"
("read-holding-registers 0 10 --type float32"), with shell-like quoting; # starts a
comment. Built in: help [COMMAND], history, exit (or quit, Ctrl-D).

All commands share one connection, opened at the first command that needs it. Shared
flags given to shell are the defaults for every line, and so is --plant FILE for the tag
commands (get, set, tags, watch TAG...); a line may change --unit, --output, --one-based,
--trace and logging, but not --address, --timeout or --retries.
At the prompt, Ctrl-C stops the running command (e.g. watch), not the shell; in a
script it stops the script: the lines after it are not run, and the exit status is 1.

Exit status: 0 if every command succeeded, else the exit code of the last one that
failed (with --stop-on-error: the first).`
	c.example = []string{"shell -a 192.168.1.20", "shell commissioning.txt --stop-on-error"}
	c.run = func(ctx context.Context, args []string) error {
		a.shellPlant = *plantFile
		return a.shell(ctx, args, *stopOnError, *history)
	}
	return c
}

// shell runs the lines of FILE or stdin, interactively on a terminal.
func (a *app) shell(ctx context.Context, args []string, stopOnError bool, history string) error {
	if a.inShell {
		return usagef("already in the shell")
	}
	if len(args) > 1 {
		return usagef("want at most one FILE, got %s", arguments(len(args)))
	}
	in, interactive := a.stdin, false
	if len(args) == 1 && args[0] != "-" {
		f, err := os.Open(args[0])
		if err != nil {
			return usagef("script %v", strings.TrimPrefix(err.Error(), "open "))
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.IsDir() {
			// Reading it fails at the first line, which was reported as a
			// failure on the device ("shell on ADDR unit 1: read DIR: is a
			// directory", exit 1), though nothing was sent.
			return usagef("script %s is a directory, not a file of commands", args[0])
		}
		in = f
	} else {
		interactive = isTerminal(a.stdin) && isTerminal(a.stderr)
	}
	a.inShell, a.shellOpts = true, a.opts
	defer func() { a.inShell = false }()
	if interactive {
		return a.interactiveShell(ctx, in.(*os.File), expandHome(history))
	}
	return a.scriptShell(ctx, in, stopOnError)
}

// scriptShell runs the lines of in, without prompts.
func (a *app) scriptShell(ctx context.Context, in io.Reader, stopOnError bool) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	status := exitOK
	n := 1
	for ; sc.Scan(); n++ {
		line := sc.Text()
		if n == 1 {
			line = strings.TrimPrefix(line, "\uFEFF") // a byte order mark from a Windows editor
		}
		code, quit := exitOK, false
		if ctx.Err() == nil {
			code, quit = a.shellLine(ctx, line, nil)
		}
		if ctx.Err() != nil {
			// Ctrl-C (or SIGTERM) ends a script: the lines after this one
			// are not run, and the script did not succeed, even if the
			// interrupted command (a watch) ends cleanly.
			fmt.Fprintf(a.stderr, "plcctl shell: interrupted at line %d; the lines after it were not run\n", n)
			return exitStatus(exitFailure)
		}
		if quit {
			break
		}
		if err := a.stdoutErr(); err != nil {
			// The results of the lines after it could not be recorded
			// either, and they may write to the device: stop here.
			fmt.Fprintf(a.stderr, "plcctl shell: stopped at line %d: the output cannot be written (%v); the lines after it were not run\n", n, err)
			return exitStatus(exitFailure)
		}
		if code != exitOK {
			status = code
			// The error above names the command, not where it is in the
			// script. The line is cut as a word is (a line of a megabyte
			// was echoed whole); its number says which it is.
			msg := fmt.Sprintf("plcctl shell: line %d failed (exit %d): %s", n, code, shortLine(strings.TrimSpace(line)))
			if stopOnError && sc.Scan() {
				// Say that the script stopped here: it looked like the
				// report of a line that failed among others that ran.
				msg += "; --stop-on-error: the lines after it were not run"
			}
			fmt.Fprintln(a.stderr, msg)
			if stopOnError {
				return exitStatus(status) // what Scan found past the line is not read
			}
		}
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		// The lines before it ran; this one is no command (a binary given
		// as the script?), and nothing of it was sent.
		return usagef("script line %d is longer than 1 MiB, which no command is; the lines after it were not run", n)
	}
	if err := sc.Err(); err != nil {
		return &opError{cmd: "shell", err: err}
	}
	if status != exitOK {
		return exitStatus(status)
	}
	return nil
}

// shellLine runs one line; quit reports exit or quit.
func (a *app) shellLine(ctx context.Context, line string, ed *lineEditor) (code int, quit bool) {
	words, err := splitWords(line)
	if err != nil {
		fmt.Fprintf(a.stderr, "plcctl: %v\n", err)
		return exitUsage, false
	}
	if len(words) == 0 {
		return exitOK, false
	}
	switch words[0] {
	case "exit", "quit":
		return exitOK, true
	case "help", "?":
		return a.help(words[1:]), false
	case "history":
		if ed != nil {
			for i, h := range ed.history {
				fmt.Fprintf(a.stdout, "%5d  %s\n", i+1, h)
			}
		}
		return exitOK, false
	case "shell":
		fmt.Fprintln(a.stderr, "plcctl: already in the shell")
		return exitUsage, false
	}
	return a.dispatch(ctx, words), false
}

// interactiveShell reads lines with the line editor until exit or EOF.
// Ctrl-C ends the running command only; SIGTERM ends the shell.
func (a *app) interactiveShell(ctx context.Context, tty *os.File, historyFile string) error {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	base := context.WithoutCancel(ctx) // Ctrl-C also cancels ctx; here it must not end the shell
	ed := &lineEditor{in: bufio.NewReader(tty), out: a.stderr, complete: a.completeCommand}
	ed.history = loadHistory(historyFile)
	defer saveHistory(historyFile, ed)
	fmt.Fprintf(a.stderr, "plcctl shell: %s unit %d. Type help, or exit.\n", a.deviceAddress(), a.opts.unit)
	status := exitOK
	for {
		line, err := a.promptLine(tty, ed)
		if errors.Is(err, errInterrupted) {
			continue
		}
		if err != nil {
			break // EOF (Ctrl-D) or a read error
		}
		ed.addHistory(strings.TrimSpace(line))
		code, quit := a.interruptibleLine(base, sigs, line, ed)
		if code != exitOK {
			status = code
		}
		if quit {
			break
		}
	}
	if status != exitOK {
		return exitStatus(status)
	}
	return nil
}

// interruptibleLine runs one line; SIGINT cancels it, SIGTERM also ends
// the shell (quit).
func (a *app) interruptibleLine(base context.Context, sigs <-chan os.Signal, line string, ed *lineEditor) (code int, quit bool) {
	// A signal that arrived while no command ran (a second Ctrl-C just
	// after the first ended a watch, a kill -INT at the prompt) must not
	// cancel this line; a SIGTERM that waited ends the shell now.
	for drained := false; !drained; {
		select {
		case s := <-sigs:
			if s == syscall.SIGTERM {
				return exitOK, true
			}
		default:
			drained = true
		}
	}
	ctx, cancel := context.WithCancel(base)
	defer cancel()
	stop, term := make(chan struct{}), make(chan bool, 1)
	go func() {
		select {
		case s := <-sigs:
			cancel()
			term <- s == syscall.SIGTERM
		case <-stop:
		}
	}()
	code, quit = a.shellLine(ctx, line, ed)
	close(stop)
	select {
	case t := <-term:
		quit = quit || t
	default:
	}
	return code, quit
}

// promptLine reads one line in raw mode, or a plain line where raw mode is
// not available.
func (a *app) promptLine(tty *os.File, ed *lineEditor) (string, error) {
	restore, err := makeRaw(tty)
	if err != nil {
		fmt.Fprint(a.stderr, shellPrompt)
		line, err := ed.in.ReadString('\n')
		if err != nil && line == "" {
			return "", err
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	defer restore()
	return ed.readLine(shellPrompt)
}

// completeCommand returns the command names (and built-ins) starting with prefix.
func (a *app) completeCommand(prefix string) []string {
	names := append([]string{"exit", "history", "quit"}, commandWords()...)
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) && n != "shell" {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// splitWords splits a line into words as a POSIX shell would for simple
// cases: blanks separate, '...' and "..." quote, backslash escapes, # at the
// start of a word begins a comment.
func splitWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord, quote := false, rune(0)
	rs := []rune(line)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote == '\'':
			cur.WriteRune(r)
		case r == '\\' && i+1 < len(rs) && (quote == 0 || strings.ContainsRune(`"\$`, rs[i+1])):
			i++
			cur.WriteRune(rs[i])
			inWord = true
		case quote == '"':
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words, inWord = append(words, cur.String()), false
				cur.Reset()
			}
		case r == '#' && !inWord:
			return words, nil
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

func expandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return p
}

func loadHistory(path string) []string {
	if path == "" {
		return nil
	}
	b, err := limitfile.Read(path, maxHistoryFile)
	if err != nil {
		return nil // a history that cannot be read is no history
	}
	var h []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			h = append(h, l)
		}
	}
	return h[max(len(h)-maxHistory, 0):]
}

func saveHistory(path string, ed *lineEditor) {
	if path == "" || len(ed.history) == 0 {
		return
	}
	_ = os.WriteFile(path, []byte(strings.Join(ed.history, "\n")+"\n"), 0o600)
}
