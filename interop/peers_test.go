package interop_test

import (
	"bytes"
	"context"
	"errors"
	"github.com/rs/zerolog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// inCI reports whether missing peers must fail rather than skip.
func inCI() bool { return os.Getenv("CI") == "true" }

// needPeer returns the path of a peer program, or skips (fails under CI)
// naming the Debian package that provides it.
func needPeer(t *testing.T, bin, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err != nil {
		if inCI() {
			t.Fatalf("interop peer %s not found: install Debian package %s (.ci/run does)", bin, pkg)
		}
		t.Skipf("interop peer %s not found: apt-get install %s", bin, pkg)
	}
	return p
}

// repoRoot returns the module root.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// result is what a peer process did.
type result struct {
	code           int
	stdout, stderr string
}

// runPeer runs a command with a hard deadline and returns its exit code and
// output. A peer that hangs fails the test instead of hanging it.
func runPeer(t *testing.T, timeout time.Duration, name string, args ...string) result {
	t.Helper()
	return runPeerIn(t, timeout, "", name, args...)
}

// runPeerIn is runPeer with stdin.
func runPeerIn(t *testing.T, timeout time.Duration, stdin, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Stdin = strings.NewReader(stdin)
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %s: timed out after %v\nstdout: %s\nstderr: %s", name, strings.Join(args, " "), timeout, out.String(), errb.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }

func nopLogger() *zerolog.Logger {
	l := zerolog.Nop()
	return &l
}
