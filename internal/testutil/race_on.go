//go:build race

package testutil

// RaceEnabled says the race detector is on: sync.Pool then drops items at
// random and allocation counts mean nothing.
const RaceEnabled = true
