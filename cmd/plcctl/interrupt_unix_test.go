//go:build unix

package main

import (
	"context"
	"io"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// installed reports whether h's handler is in place.
func (h *interrupts) installed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ch != nil
}

// signalSelf sends sig to this process and waits (bounded) for ctx to end.
// Without a handler the signal's default effect ends the test binary.
func signalSelf(t *testing.T, ctx context.Context, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(syscall.Getpid(), sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the signal did not cancel the ctx")
	}
}

func TestInterruptsCatch(t *testing.T) {
	ctx, h := notifyLater(context.Background(), syscall.SIGUSR1)
	defer h.stop()
	if h.installed() {
		t.Fatal("handler installed before catch")
	}
	h.catch()
	h.catch() // once
	signalSelf(t, ctx, syscall.SIGUSR1)
	// A second signal is caught too (dropped), as with signal.NotifyContext.
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
}

func TestInterruptsCatchLater(t *testing.T) {
	ctx, h := notifyLater(context.Background(), syscall.SIGUSR1)
	defer h.stop()
	h.catchLater(10 * time.Millisecond)
	for i := 0; !h.installed(); i++ {
		if i == 10000 {
			t.Fatal("the handler was not installed after the grace time")
		}
		time.Sleep(time.Millisecond)
	}
	if ctx.Err() != nil {
		t.Fatal("ctx cancelled without a signal")
	}
	signalSelf(t, ctx, syscall.SIGUSR1)
}

func TestInterruptsStop(t *testing.T) {
	ctx, h := notifyLater(context.Background(), syscall.SIGUSR1)
	h.catchLater(time.Hour)
	h.stop()
	h.stop()
	h.catch() // after stop: nothing
	if h.installed() || ctx.Err() == nil {
		t.Errorf("after stop: installed %v, ctx %v; want no handler and a cancelled ctx", h.installed(), ctx.Err())
	}
	var none *interrupts // what exec sees in tests: no handling at all
	none.catch()
	none.catchLater(time.Millisecond)
}

// TestBinaryInterruptSlowRead: a read still waiting for its answer after
// the grace time catches Ctrl-C: exit 1, "interrupted", not killed by the
// signal.
func TestBinaryInterruptSlowRead(t *testing.T) {
	plcctl, _ := buildBinaries(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan net.Conn, 1)
	go func() { // a device that takes the request, never answers, and closes after the client's FIN
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 12)
		if _, err := io.ReadFull(c, buf); err != nil {
			return
		}
		got <- c
		_, _ = io.Copy(io.Discard, c)
	}()
	cmd := exec.Command(plcctl, "-a", ln.Addr().String(), "--timeout", "60s", "read-holding-registers", "0", "10")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	select {
	case <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("no request arrived")
	}
	time.Sleep(10 * interruptGrace) // the request is out; the grace time passes
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		code := cmd.ProcessState.ExitCode()
		if code != exitFailure || !strings.Contains(stderr.String(), "interrupted") {
			t.Errorf("read after SIGINT: %v, exit %d, stderr %q; want exit %d and 'interrupted'", err, code, stderr.String(), exitFailure)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the read did not stop on SIGINT")
	}
}
