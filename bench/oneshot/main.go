//go:build unix

// Command oneshot measures short-lived commands start to exit, interleaved:
// each round runs every command once, in the order given, so load that
// comes and goes on a shared machine hits them all alike (hyperfine runs
// one command's 300 runs, then the next's, and a burst of load in between
// skews the ratio). The first command is the reference (a hello-world).
//
//	oneshot [-runs 300] [-warmup 20] NAME=COMMAND...
//
// Each argument is NAME=COMMAND, the command split on blanks (no quoting).
// Standard input and output are /dev/null, standard error is oneshot's; a
// command that fails stops the measurement. For each command it prints one line to stdout:
//
//	NAME<TAB>median_ms=... p25_ms=... mean_ms=... user_ms=... sys_ms=... minflt=... csw=... vs_first=...
//
// user, sys, minor page faults and context switches (voluntary and not)
// are the means per run from wait4's rusage; vs_first is the median's
// ratio to the first command's. Runs and warm-up runs are bounded. Unix
// only (rusage).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	runs := flag.Int("runs", 300, "measured runs of each command (1..10000)")
	warmup := flag.Int("warmup", 20, "unmeasured runs of each command first (0..1000)")
	flag.Parse()
	if *runs < 1 || *runs > 10000 || *warmup < 0 || *warmup > 1000 || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: oneshot [-runs 1..10000] [-warmup 0..1000] NAME=COMMAND...")
		os.Exit(2)
	}
	type cmd struct {
		name                string
		argv                []string
		wall                []float64 // ms
		user, sys, flt, csw float64
	}
	var cmds []*cmd
	for _, a := range flag.Args() {
		name, line, ok := strings.Cut(a, "=")
		argv := strings.Fields(line)
		if !ok || name == "" || len(argv) == 0 {
			fmt.Fprintf(os.Stderr, "oneshot: %q is not NAME=COMMAND\n", a)
			os.Exit(2)
		}
		path, err := exec.LookPath(argv[0])
		if err != nil {
			fmt.Fprintf(os.Stderr, "oneshot: %s: %v\n", name, err)
			os.Exit(2)
		}
		argv[0] = path
		cmds = append(cmds, &cmd{name: name, argv: argv})
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "oneshot:", err)
		os.Exit(1)
	}
	fd := null.Fd()
	// stdin and stdout /dev/null; stderr is ours, so a failing run says why.
	attr := &syscall.ProcAttr{Env: os.Environ(), Files: []uintptr{fd, fd, os.Stderr.Fd()}}
	for i := -*warmup; i < *runs; i++ {
		for _, c := range cmds {
			// fork, exec and wait4 directly: os/exec's pipes and goroutines
			// would add a constant to every run and pull the ratios to 1.
			var ws syscall.WaitStatus
			var ru syscall.Rusage
			start := time.Now()
			pid, err := syscall.ForkExec(c.argv[0], c.argv, attr)
			if err == nil {
				for {
					_, err = syscall.Wait4(pid, &ws, 0, &ru)
					if err != syscall.EINTR {
						break
					}
				}
			}
			d := time.Since(start)
			if err == nil && (!ws.Exited() || ws.ExitStatus() != 0) {
				err = fmt.Errorf("exit status %v", ws)
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "oneshot: %s: %v\n", c.name, err)
				os.Exit(1)
			}
			if i < 0 {
				continue
			}
			c.wall = append(c.wall, float64(d.Nanoseconds())/1e6)
			c.user += float64(ru.Utime.Nano()) / 1e6
			c.sys += float64(ru.Stime.Nano()) / 1e6
			c.flt += float64(ru.Minflt)
			c.csw += float64(ru.Nvcsw + ru.Nivcsw)
		}
	}
	runtime.KeepAlive(null) // its finalizer would close the descriptor the runs inherit
	var first float64
	for i, c := range cmds {
		slices.Sort(c.wall)
		n := float64(len(c.wall))
		med, mean := c.wall[len(c.wall)/2], 0.0
		for _, w := range c.wall {
			mean += w / n
		}
		if i == 0 {
			first = med
		}
		fmt.Printf("%s\tmedian_ms=%.3f p25_ms=%.3f mean_ms=%.3f user_ms=%.3f sys_ms=%.3f minflt=%.1f csw=%.1f vs_first=%.3f\n",
			c.name, med, c.wall[len(c.wall)/4], mean, c.user/n, c.sys/n, c.flt/n, c.csw/n, med/first)
	}
}
