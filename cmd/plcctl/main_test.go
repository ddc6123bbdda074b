package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/plcctl")

// TestMain runs the tests without the environment plcctl reads: a
// developer's PLCCTL_ADDRESS sent TestGetTwoDevices' reads to the plcsim it
// named (other tests then failed), PLCCTL_TLS_CA turned TLS on for every
// test, PLCCTL_PLANT gave tag commands another file. Tests that want one
// set it with t.Setenv; the binaries tests start inherit the cleared one.
func TestMain(m *testing.M) {
	for _, k := range []string{addressEnv, plantEnv, tlsCertEnv, tlsKeyEnv, tlsCAEnv} {
		os.Unsetenv(k)
	}
	os.Exit(m.Run())
}

// goldenDir holds the expected help and output texts.
var goldenDir = filepath.Join("..", "..", "testdata", "plcctl")

// result is one run of the command line.
type result struct {
	stdout, stderr string
	code           int
}

// runCLI runs plcctl in-process with args. A safety timer cancels a hung
// run after 60 s (a hang guard, not a bound on speed: the README's
// snapshot --probe-step 10 example takes 11 s under -race alone and went
// past 20 s at a load average of 10); the ctx has no deadline, as main's
// has none, so --timeout applies.
func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	timer := time.AfterFunc(60*time.Second, cancel)
	defer timer.Stop()
	var out, errb bytes.Buffer
	code := run(ctx, args, &out, &errb)
	return result{out.String(), errb.String(), code}
}

// mustRun runs args and fails unless the exit code is 0.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	r := runCLI(t, args...)
	if r.code != 0 {
		t.Fatalf("plcctl %s: exit %d, stderr:\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// startSim starts an in-process simulator; every table has 1000 items so
// that addresses 1000 and up answer exception 02.
func startSim(t *testing.T) *simtest.Server {
	t.Helper()
	return simtest.Start(t, simulator.Config{Coils: 1000, DiscreteInputs: 1000, HoldingRegisters: 1000, InputRegisters: 1000})
}

// checkGolden compares got with testdata/plcctl/name, or rewrites it with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/plcctl -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run with -update and review the diff)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
