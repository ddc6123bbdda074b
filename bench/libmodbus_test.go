package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// libmodbus is the C benchmark program, built once per run.
var libmodbus struct {
	once sync.Once
	bin  string
	skip string // why it cannot be built here, if it cannot
	err  error
}

// libmodbusBin builds libmodbus_bench.c against the system libmodbus and
// returns the binary's path. It skips when gcc, pkg-config or libmodbus-dev
// is missing (failing instead under CI=true, where .ci/run installs them).
func libmodbusBin(tb testing.TB) string {
	tb.Helper()
	simAddr(tb) // the binary goes into plcsim's temporary directory
	libmodbus.once.Do(buildLibmodbus)
	switch {
	case libmodbus.err != nil:
		tb.Fatal(libmodbus.err)
	case libmodbus.skip != "" && os.Getenv("CI") == "true":
		tb.Fatal(libmodbus.skip)
	case libmodbus.skip != "":
		tb.Skip(libmodbus.skip)
	}
	return libmodbus.bin
}

func buildLibmodbus() {
	for _, tool := range []string{"gcc", "pkg-config"} {
		if _, err := exec.LookPath(tool); err != nil {
			libmodbus.skip = "libmodbus benchmark needs " + tool + ": apt-get install " + tool
			return
		}
	}
	flags, err := exec.Command("pkg-config", "--cflags", "--libs", "libmodbus").Output()
	if err != nil {
		libmodbus.skip = "libmodbus not found by pkg-config: apt-get install libmodbus-dev"
		return
	}
	bin := filepath.Join(plcsim.dir, "libmodbus_bench")
	args := append([]string{"-Wall", "-Wextra", "-Werror", "-O2", "-o", bin, filepath.Join("testdata", "libmodbus_bench.c")},
		strings.Fields(string(flags))...)
	if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		libmodbus.err = fmt.Errorf("bench: gcc %s: %v\n%s", strings.Join(args, " "), err, out)
		return
	}
	libmodbus.bin = bin
}

// runLibmodbus runs n requests of op ("read" or "write") on count registers
// from addr with the C program against plcsim, and returns the time the C
// loop took (process start, connect and warm-up excluded).
func runLibmodbus(tb testing.TB, op string, addr, count uint16, n int, seed uint16) time.Duration {
	tb.Helper()
	bin := libmodbusBin(tb)
	host, port, _ := strings.Cut(simAddr(tb), ":")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, host, port, op, itoa(int(addr)), itoa(int(count)), itoa(n), itoa(int(seed)))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("libmodbus_bench %s: %v\nstdout: %s\nstderr: %s", strings.Join(cmd.Args[1:], " "), err, &stdout, &stderr)
	}
	f := strings.Fields(stdout.String())
	if len(f) != 2 || f[0] != "elapsed_ns" {
		tb.Fatalf("libmodbus_bench: output %q, want \"elapsed_ns N\"", stdout.String())
	}
	ns, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		tb.Fatalf("libmodbus_bench: output %q: %v", stdout.String(), err)
	}
	return time.Duration(ns)
}

func itoa(i int) string { return strconv.Itoa(i) }
