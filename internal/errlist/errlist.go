// Package errlist is a list of errors that prints one per line, each
// line whole: the plant file's mistakes (plant.Errors) and an access
// policy's (access.Errors). errors.Join under one prefix would leave every
// line but the first without the place.
package errlist

import "strings"

// List is every mistake found, in the order found or sorted by the caller.
type List[E error] []E

// Error is one line per mistake.
func (l List[E]) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap gives errors.Is and errors.As access to each mistake.
func (l List[E]) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}
