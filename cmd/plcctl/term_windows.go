package main

import (
	"os"

	"golang.org/x/sys/windows"
)

// makeRaw puts the console input f into raw mode for line editing: no line
// buffering, no echo, Ctrl-C read as a byte (not a signal), and keys as VT
// sequences (arrows as ESC [ A ...), which is what the line editor reads on
// every platform. It returns a function that restores the old mode.
func makeRaw(f *os.File) (restore func(), err error) {
	h := windows.Handle(f.Fd())
	var old uint32
	if err := windows.GetConsoleMode(h, &old); err != nil {
		return nil, err
	}
	raw := old&^(windows.ENABLE_LINE_INPUT|windows.ENABLE_ECHO_INPUT|windows.ENABLE_PROCESSED_INPUT) |
		windows.ENABLE_VIRTUAL_TERMINAL_INPUT
	if err := windows.SetConsoleMode(h, raw); err != nil {
		return nil, err
	}
	return func() { _ = windows.SetConsoleMode(h, old) }, nil
}

// fileIsTerminal reports whether f is a console that understands the VT
// escape sequences the live table, the progress bar and coloured logs
// write. An output console gets VT processing turned on here (Windows 10
// and later); where that fails, f counts as no terminal and plcctl writes
// plain lines. An input console is a terminal as it is.
func fileIsTerminal(f *os.File) bool {
	h := windows.Handle(f.Fd())
	var mode uint32
	if err := windows.GetConsoleMode(h, &mode); err != nil {
		return false // a pipe, a file or NUL
	}
	if f == os.Stdin {
		return true
	}
	if mode&windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING != 0 {
		return true
	}
	return windows.SetConsoleMode(h, mode|windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING) == nil
}

// fileTermSize returns the console window's columns and rows, or 0, 0.
func fileTermSize(f *os.File) (cols, rows int) {
	var info windows.ConsoleScreenBufferInfo
	if err := windows.GetConsoleScreenBufferInfo(windows.Handle(f.Fd()), &info); err != nil {
		return 0, 0
	}
	w := info.Window
	return int(w.Right-w.Left) + 1, int(w.Bottom-w.Top) + 1
}
