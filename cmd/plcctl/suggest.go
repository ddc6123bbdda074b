package main

import (
	"github.com/spf13/pflag"

	"github.com/plcctl/plcctl/internal/suggest"
)

var readCommandNames = []string{"read-coils", "read-discrete-inputs", "read-holding-registers", "read-input-registers"}

// commandWords is every word that names a command: names, aliases, help.
func commandWords() []string {
	words := []string{"help"}
	for _, g := range commandTable {
		for _, c := range g.cmds {
			words = append(words, c.name)
			words = append(words, c.aliases...)
		}
	}
	return words
}

// didYouMean is suggest.DidYouMean.
func didYouMean(word string, candidates []string) string { return suggest.DidYouMean(word, candidates) }

// flagError is suggest.FlagError.
func flagError(err error, fs *pflag.FlagSet) error { return suggest.FlagError(err, fs) }

// escape is suggest.Escape: unprintable runes as Go escapes.
func escape(s string) string { return suggest.Escape(s) }

// quote is suggest.Quote: a user's word quoted, cut if long.
func quote(s string) string { return suggest.Quote(s) }

// shortLine is a script line as an error names it: escaped, and cut after
// maxLineShown runes.
func shortLine(s string) string { return suggest.ShortenTo(s, maxLineShown) }

const maxLineShown = 200
