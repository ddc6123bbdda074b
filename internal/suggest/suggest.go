// Package suggest finds the words a user probably meant: "did you mean"
// for mistyped commands, flags and values of plcctl and plcsim.
package suggest

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"
)

// DidYouMean returns "; did you mean X?" naming the candidates closest to
// word, or "" when none is close: an edit distance of at most a third of
// the word's length (1 to 3), or else word being the start of exactly one
// candidate. Case and leading dashes are ignored in the comparison (so
// READ-COILS suggests read-coils), and the candidates are named as given ("--interval").
func DidYouMean(word string, candidates []string) string {
	bare := func(s string) string { return strings.ToLower(strings.TrimLeft(s, "-")) }
	w := bare(word)
	if w == "" {
		return ""
	}
	limit := min(max(1, len(w)/3), 3)
	var best, prefixed []string
	bestD := limit + 1
	for _, c := range candidates {
		b := bare(c)
		if strings.HasPrefix(b, w) {
			prefixed = append(prefixed, c)
		}
		switch d := editDistance(w, b); {
		case d > limit:
		case d < bestD:
			best, bestD = []string{c}, d
		case d == bestD:
			best = append(best, c)
		}
	}
	if len(best) == 0 && len(prefixed) == 1 {
		best = prefixed
	}
	if len(best) == 0 || len(best) > 3 {
		return ""
	}
	return "; did you mean " + strings.Join(best, " or ") + "?"
}

// editDistance is the Levenshtein distance between a and b, with an
// adjacent transposition counting as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range rb {
		d[0][j+1] = j + 1
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// FlagError adds a suggestion to pflag's "unknown flag: --name" errors,
// keeping err in the chain.
func FlagError(err error, fs *pflag.FlagSet) error {
	if c, ok := unknownShorthand(err.Error()); ok {
		// -c where only --count exists (ping(8)'s habit): name the one
		// long flag, without a shorthand, that starts with the letter.
		var only string
		n := 0
		fs.VisitAll(func(f *pflag.Flag) {
			if f.Shorthand == "" && !f.Hidden && strings.HasPrefix(f.Name, c) {
				only, n = f.Name, n+1
			}
		})
		if n == 1 {
			return fmt.Errorf("%w; did you mean --%s?", err, only)
		}
		return err
	}
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok {
		return err
	}
	var names []string
	fs.VisitAll(func(f *pflag.Flag) { names = append(names, "--"+f.Name) })
	if s := DidYouMean("--"+name, names); s != "" {
		return fmt.Errorf("%w%s", err, s)
	}
	return err
}

// unknownShorthand returns the letter of pflag's "unknown shorthand flag:
// 'c' in -c" error.
func unknownShorthand(msg string) (string, bool) {
	rest, ok := strings.CutPrefix(msg, "unknown shorthand flag: '")
	if !ok || len(rest) < 2 || rest[1] != '\'' {
		return "", false
	}
	return rest[:1], true
}
