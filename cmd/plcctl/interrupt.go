package main

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"time"
)

// interrupts turns SIGINT and SIGTERM into the cancellation of the
// commands' ctx. The handler is installed when a command is about to run,
// not at start: os/signal starts a goroutine locked to its own thread and
// another that blocks in the runtime, which cost a one-shot run about
// 0.3 ms, a fifth of a hello-world binary's whole run (issue 10). So help,
// --version and usage errors never install it; a quick read installs it
// only if it is still running after interruptGrace, when a person could
// have pressed Ctrl-C; every other command (writes, watch, bench, ping,
// scan, shell) installs it before it starts.
//
// Before the handler is installed a signal has its default effect: the
// process ends at once (status 130 in a shell for Ctrl-C) and the kernel
// closes the connection. That is only allowed for reads: nothing was
// written, so nothing is left to report.
type interrupts struct {
	sigs   []os.Signal
	cancel context.CancelFunc

	mu      sync.Mutex
	ch      chan os.Signal // non-nil once installed
	timer   *time.Timer
	stopped bool
	done    chan struct{}
}

// interruptGrace is how long a quick read runs before Ctrl-C is caught
// (a read that answers in time never pays for the handler).
const interruptGrace = 100 * time.Millisecond

// processInterrupts is the handling main set up (nil in tests, which
// cancel their ctx themselves): signals are the whole process's.
var processInterrupts *interrupts

// notifyLater returns a ctx that the signals will cancel once catch (or
// catchLater's timer) installed the handler, and the stop function that
// uninstalls it.
func notifyLater(parent context.Context, sigs ...os.Signal) (context.Context, *interrupts) {
	ctx, cancel := context.WithCancel(parent)
	return ctx, &interrupts{sigs: sigs, cancel: cancel, done: make(chan struct{})}
}

// catch installs the handler now (once).
func (h *interrupts) catch() {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ch != nil || h.stopped {
		return
	}
	if h.timer != nil {
		h.timer.Stop()
	}
	h.ch = make(chan os.Signal, 1)
	signal.Notify(h.ch, h.sigs...)
	go func() {
		select {
		case <-h.ch:
			h.cancel() // later signals fill the channel and are dropped, as with signal.NotifyContext
		case <-h.done:
		}
	}()
}

// catchLater installs the handler after d unless stop or catch came first.
func (h *interrupts) catchLater(d time.Duration) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ch == nil && h.timer == nil && !h.stopped {
		h.timer = time.AfterFunc(d, h.catch)
	}
}

// stop uninstalls the handler (a later signal has its default effect
// again) and cancels the ctx.
func (h *interrupts) stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return
	}
	h.stopped = true
	if h.timer != nil {
		h.timer.Stop()
	}
	if h.ch != nil {
		signal.Stop(h.ch)
		close(h.done)
	}
	h.cancel()
}
