// Package suggest finds the words a user probably meant: "did you mean"
// for mistyped commands, flags and values of plcctl and plcsim.
package suggest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

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
	nw := utf8.RuneCountInString(w)
	for _, c := range candidates {
		b := bare(c)
		if strings.HasPrefix(b, w) {
			prefixed = append(prefixed, c)
		}
		if nb := utf8.RuneCountInString(b); nw-nb > limit || nb-nw > limit {
			// The distance is at least the difference in length: no
			// need for the table, which for a word of a megabyte (a shell
			// script line) took seconds and hundreds of MB per candidate.
			continue
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
// keeping err in the chain, and escapes what a terminal would not show as
// typed: pflag names an unknown flag raw, so a newline or an escape
// sequence in it reached the terminal.
func FlagError(err error, fs *pflag.FlagSet) error {
	err = flagError(bounded(err), fs)
	if msg := err.Error(); !printable(msg) {
		return &escaped{err: err, msg: Escape(msg)}
	}
	return err
}

// bounded returns pflag's unknown-flag and invalid-value errors with the
// word the user typed cut by Quote and Shorten (pflag names it whole), and
// err itself otherwise or when nothing needs cutting.
func bounded(err error) error {
	var (
		nx *pflag.NotExistError
		iv *pflag.InvalidValueError
	)
	switch {
	case errors.As(err, &nx) && strings.HasPrefix(err.Error(), "unknown flag: --"):
		if name := nx.GetSpecifiedName(); Shorten(name) != Escape(name) {
			return &escaped{err: err, msg: "unknown flag: --" + Shorten(name)}
		}
	case errors.As(err, &iv) && iv.GetFlag() != nil:
		v := iv.GetValue()
		if Quote(v) == strconv.Quote(v) {
			return err
		}
		f := iv.GetFlag()
		name := "--" + f.Name
		if f.Shorthand != "" && f.ShorthandDeprecated == "" {
			name = "-" + f.Shorthand + ", " + name
		}
		why := errors.Unwrap(iv)
		var ne *strconv.NumError
		switch {
		case f.Value.Type() == "bool":
			why = errors.New("want true or false")
		case errors.As(why, &ne): // it quotes the value again
			why = ne.Err
		}
		return &escaped{err: err, msg: "invalid argument " + Quote(v) + " for " + strconv.Quote(name) + " flag: " + why.Error()}
	}
	return err
}

// escaped is an error whose message is shown escaped; errors.Is and As
// still reach the error underneath.
type escaped struct {
	err error
	msg string
}

func (e *escaped) Error() string { return e.msg }
func (e *escaped) Unwrap() error { return e.err }

// printable reports whether s is valid UTF-8 with only printable runes.
func printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !strconv.IsPrint(r) })
}

// Escape writes the runes of s that are not printable, and bytes that are
// not UTF-8, as Go escapes (\n, \x1b, \xff), leaving the rest as it is.
func Escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case !strconv.IsPrint(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// MaxQuoted is how many runes of a user's word Quote and Shorten show.
const MaxQuoted = 40

// Quote returns s quoted as %q quotes it (unprintable runes and bytes that
// are not UTF-8 as Go escapes), but only its first MaxQuoted runes, then
// "..." and the word's length: an error names the word a user typed, and a
// word of a megabyte (a pasted file, a runaway $(...)) made the error a
// megabyte long.
func Quote(s string) string {
	head, tail := cut(s)
	return strconv.Quote(head) + tail
}

// Shorten is Quote without the quotes: Escape of the first MaxQuoted runes.
func Shorten(s string) string { return ShortenTo(s, MaxQuoted) }

// ShortenTo is Shorten keeping up to most runes (a script line, say, which
// is longer than a word).
func ShortenTo(s string, most int) string {
	head, tail := cutAt(s, most)
	return Escape(head) + tail
}

// cut splits s after MaxQuoted runes; see cutAt.
func cut(s string) (head, tail string) { return cutAt(s, MaxQuoted) }

// cutAt splits s after most runes (a byte that is not UTF-8 counts as
// one) and returns that head and, if anything was cut, "... (N bytes)".
func cutAt(s string, most int) (head, tail string) {
	n := 0
	for i := range s {
		if n == most {
			return s[:i], "... (" + strconv.Itoa(len(s)) + " bytes)"
		}
		n++
	}
	return s, ""
}

func flagError(err error, fs *pflag.FlagSet) error {
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
