package main

import (
	"fmt"

	"github.com/spf13/pflag"
)

// checkLimits refuses a negative time or count, or a table size beyond the
// 65536 addresses, naming the flag and what 0 means. The simulator's own
// checks cannot say which flag it was: "simulator: negative timeout" for
// any of four, "simulator: max conns -1 below 1" when 0 is allowed too.
func checkLimits(fs *pflag.FlagSet) error {
	for _, f := range []struct{ name, zero string }{
		{"frame-timeout", "the default, 2s"}, {"idle-timeout", "never"}, {"drain-timeout", "the default, 1s"},
		{"write-timeout", "the default, 5s"}, {"tls-handshake-timeout", "the default, 5s"},
	} {
		if d, err := fs.GetDuration(f.name); err == nil && d < 0 {
			return fmt.Errorf("--%s %v: want a positive duration (0: %s)", f.name, d, f.zero)
		}
	}
	for _, f := range []struct {
		name, zero string
		max        int
	}{
		{"max-conns", "the default, 64", 1<<31 - 1}, {"max-conns-per-ip", "no cap", 1<<31 - 1},
		{"coils", "the default, 65536", 65536}, {"discrete-inputs", "the default, 65536", 65536},
		{"holding-registers", "the default, 65536", 65536}, {"input-registers", "the default, 65536", 65536},
	} {
		if n, err := fs.GetInt(f.name); err == nil && (n < 0 || n > f.max) {
			if f.max < 1<<31-1 {
				return fmt.Errorf("--%s %d: want 1..%d (0: %s)", f.name, n, f.max, f.zero)
			}
			return fmt.Errorf("--%s %d: want 1 or more (0: %s)", f.name, n, f.zero)
		}
	}
	return nil
}
