//go:build !linux

package main

import (
	"errors"
	"os"
)

// makeRaw is only implemented on Linux; elsewhere the shell reads plain
// lines (the terminal's own line editing, no history keys).
func makeRaw(*os.File) (func(), error) { return nil, errors.New("raw terminal mode not supported") }

// termColumns is only implemented on Linux: 0, the width is unknown.
func termColumns(any) int { return 0 }
