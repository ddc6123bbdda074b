package suggest

import (
	"errors"
	"testing"

	"github.com/spf13/pflag"
)

func TestDidYouMean(t *testing.T) {
	commands := []string{"read-coils", "read-discrete-inputs", "read-holding-registers", "read-input-registers",
		"write-register", "write-registers", "watch", "poll", "ping", "bench", "raw", "scan", "help"}
	tests := []struct {
		word string
		want string
	}{
		{"read-holding-register", "; did you mean read-holding-registers?"},
		{"raed-coils", "; did you mean read-coils?"}, // transposition
		{"READ-COILS", "; did you mean read-coils?"}, // names are case-sensitive
		{"wach", "; did you mean watch?"},            // deletion
		{"pong", "; did you mean ping?"},
		{"wite-register", "; did you mean write-register?"},
		{"rad-coils", "; did you mean read-coils?"},
		{"pinf", "; did you mean ping?"},
		{"sacn", "; did you mean scan?"},
		{"read-holding", "; did you mean read-holding-registers?"}, // unique prefix
		{"read", ""},       // prefix of four: no guess
		{"frobnicate", ""}, // nothing close
		{"", ""},
		{"write-registrs", "; did you mean write-registers?"},
	}
	for _, tc := range tests {
		if got := DidYouMean(tc.word, commands); got != tc.want {
			t.Errorf("DidYouMean(%q) = %q, want %q", tc.word, got, tc.want)
		}
	}
}

func TestFlagError(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.Duration("interval", 0, "")
	fs.String("word-order", "", "")
	fs.Int("count", 0, "")
	fs.BoolP("quiet", "q", false, "")
	fs.Bool("csv", false, "")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--intervall", "1s"}, "unknown flag: --intervall; did you mean --interval?"},
		{[]string{"--word-ordr"}, "unknown flag: --word-ordr; did you mean --word-order?"},
		{[]string{"--frobnicate"}, "unknown flag: --frobnicate"},
		{[]string{"-z"}, "unknown shorthand flag: 'z' in -z"},
		{[]string{"-i", "1s"}, "unknown shorthand flag: 'i' in -i; did you mean --interval?"},
		{[]string{"-w"}, "unknown shorthand flag: 'w' in -w; did you mean --word-order?"},
		{[]string{"-c", "3"}, "unknown shorthand flag: 'c' in -c"}, // --count and --csv: no guess
		{[]string{"-qz"}, "unknown shorthand flag: 'z' in -z"},
	}
	for _, tc := range tests {
		perr := fs.Parse(tc.args)
		err := FlagError(perr, fs)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Parse %v: %v, want %q", tc.args, err, tc.want)
		}
		if !errors.Is(err, perr) {
			t.Errorf("Parse %v: the suggestion lost pflag's error from the chain", tc.args)
		}
	}
}
