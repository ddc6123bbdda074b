package suggest

import (
	"errors"
	"io"
	"slices"
	"strings"
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

// TestDidYouMeanLongWord: a word of a megabyte (a plcctl shell script
// line) built a million-row table per candidate: 6.4 s and 415 MB for one
// unknown command. Candidates whose length differs by more than the limit
// are skipped; the suggestions stay the same (TestDidYouMean).
func TestDidYouMeanLongWord(t *testing.T) {
	word := strings.Repeat("x", 1<<20)
	cands := []string{"read-coils", "write-register", "ping"}
	var got string
	allocs := testing.AllocsPerRun(1, func() { got = DidYouMean(word, cands) })
	if got != "" || allocs > 100 {
		t.Errorf("DidYouMean(1 MiB word) = %q with %.0f allocations, want none and few", got, allocs)
	}
	if got := DidYouMean(strings.Repeat("x", 30), []string{strings.Repeat("x", 33), strings.Repeat("x", 34)}); got != "; did you mean "+strings.Repeat("x", 33)+"?" {
		t.Errorf("DidYouMean near a long candidate = %q", got)
	}
}

// TestFlagErrorEscapes: pflag names an unknown flag as typed; a newline or
// an escape sequence in it reached the terminal raw.
func TestFlagErrorEscapes(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Int("count", 1, "")
	for arg, want := range map[string]string{"--x\x1b[2J": `unknown flag: --x\x1b[2J`, "--a\nb": `unknown flag: --a\nb`,
		"--\xff": `unknown flag: --\xff`, "--cout": "unknown flag: --cout; did you mean --count?"} {
		err := FlagError(fs.Parse([]string{arg}), fs)
		if err == nil || err.Error() != want {
			t.Errorf("FlagError(Parse(%q)) = %q, want %q", arg, err, want)
		}
	}
}

// FuzzDidYouMean: any word gives no suggestion or one naming at most three
// of the candidates, each within the distance limit or the one candidate
// the word starts.
func FuzzDidYouMean(f *testing.F) {
	for _, s := range []string{"raed-coils", "READ-COILS", "read", "--interva", "", "-", "ä", "\xff", "wach"} {
		f.Add(s)
	}
	cands := []string{"read-coils", "read-discrete-inputs", "write-register", "write-registers", "watch",
		"ping", "--interval", "--count", "ä-ö", "help"}
	f.Fuzz(func(t *testing.T, word string) {
		got := DidYouMean(word, cands)
		if got == "" {
			return
		}
		names, ok := strings.CutPrefix(got, "; did you mean ")
		names, ok2 := strings.CutSuffix(names, "?")
		if !ok || !ok2 {
			t.Fatalf("DidYouMean(%q) = %q", word, got)
		}
		list := strings.Split(names, " or ")
		if len(list) > 3 {
			t.Fatalf("DidYouMean(%q) = %q: more than three", word, got)
		}
		for _, n := range list {
			if !slices.Contains(cands, n) {
				t.Fatalf("DidYouMean(%q) = %q names %q, no candidate", word, got, n)
			}
		}
	})
}

func TestQuote(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct{ in, want string }{
		{"read", `"read"`},
		{"rea d", `"rea d"`},
		{"a\x1b[31mb\n", `"a\x1b[31mb\n"`},
		{strings.Repeat("é", MaxQuoted), `"` + strings.Repeat("é", MaxQuoted) + `"`},
		{long, `"` + long[:MaxQuoted] + `"... (300 bytes)`},
		{strings.Repeat("é", MaxQuoted+1), `"` + strings.Repeat("é", MaxQuoted) + `"... (82 bytes)`}, // cut between runes
		{"\xff" + long, `"\xff` + long[:MaxQuoted-1] + `"... (301 bytes)`},
	}
	for _, tc := range tests {
		if got := Quote(tc.in); got != tc.want {
			t.Errorf("Quote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	if got, want := ShortenTo("ab\ncdef", 4), `ab\nc... (7 bytes)`; got != want {
		t.Errorf("ShortenTo = %s, want %s", got, want)
	}
	if got, want := Shorten(long), long[:MaxQuoted]+"... (300 bytes)"; got != want {
		t.Errorf("Shorten = %s, want %s", got, want)
	}
}
