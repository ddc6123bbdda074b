// Package logtext is the text form of plcctl's and plcsim's logs: zerolog's
// console writer, with every duration written with its unit ("idle=30s",
// "backoff=250ms") where the JSON form keeps zerolog's number of
// milliseconds.
package logtext

import (
	"encoding/json"
	"io"
	"time"

	"github.com/rs/zerolog"
)

// durationFields are the names of the fields logged with zerolog's Dur.
// TestEveryDurFieldIsKnown fails when code logs a Dur field not listed here.
var durationFields = map[string]bool{
	"backoff":       true,
	"drain_timeout": true,
	"elapsed":       true,
	"for":           true,
	"idle":          true,
	"scan":          true,
	"window":        true,
	"write_timeout": true,
}

// Writer returns the text writer for out: one line per event, the time to
// the millisecond, in colour only when color is set.
func Writer(out io.Writer, color bool) zerolog.ConsoleWriter {
	return zerolog.ConsoleWriter{Out: out, TimeFormat: "15:04:05.000", NoColor: !color, FormatPrepare: withUnits}
}

// withUnits rewrites the duration fields of one decoded event, numbers of
// zerolog.DurationFieldUnit, as Go durations.
func withUnits(evt map[string]any) error {
	for k, v := range evt {
		if !durationFields[k] {
			continue
		}
		n, ok := v.(json.Number)
		if !ok {
			continue
		}
		f, err := n.Float64()
		if err != nil {
			continue
		}
		evt[k] = time.Duration(f * float64(zerolog.DurationFieldUnit)).String()
	}
	return nil
}
