//go:build !linux && !darwin && !freebsd && !netbsd && !openbsd && !dragonfly && !windows

package main

import (
	"errors"
	"os"
)

// makeRaw is not implemented here: the shell reads plain lines (the
// terminal's own line editing, no history keys).
func makeRaw(*os.File) (func(), error) { return nil, errors.New("raw terminal mode not supported") }

// fileIsTerminal: a character device counts as a terminal.
func fileIsTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// fileTermSize: unknown.
func fileTermSize(*os.File) (cols, rows int) { return 0, 0 }
