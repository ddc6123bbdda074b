package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestListenAddress: --listen HOST without a port gets plcsim's default
// port, as plcctl fills in 502 (issue 13: "--listen 127.0.0.1" failed at run
// time with "missing port"); a port alone is loopback.
func TestListenAddress(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"127.0.0.1", "127.0.0.1:5020", ""},
		{"localhost", "localhost:5020", ""},
		{"::1", "[::1]:5020", ""},
		{"[::1]", "[::1]:5020", ""},
		{"[::1]:0", "[::1]:0", ""},
		{"127.0.0.1:0", "127.0.0.1:0", ""},
		{"127.0.0.1:1502", "127.0.0.1:1502", ""},
		{"", "", "empty address"},
		{"127.0.0.1:x", "", `port "x" is not a number`},
		{"127.0.0.1:70000", "", `port "70000" is not a number`},
		{"[::1", "", "unbalanced brackets"},
		// A port alone is loopback, as for --http; everywhere is spelled
		// out. Before, ":1502" listened on every interface and "1502" on
		// host "1502".
		{":1502", "127.0.0.1:1502", ""},
		{"1502", "127.0.0.1:1502", ""},
		{":0", "127.0.0.1:0", ""},
		{"0.0.0.0:1502", "0.0.0.0:1502", ""},
		{"[::]:1502", "[::]:1502", ""},
		{":x", "", `port "x" is not a number`},
	}
	for _, tc := range tests {
		got, err := listenAddress(tc.in)
		if got != tc.want || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("listenAddress(%q) = %q, %v; want %q, %q", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestVersionAndCase(t *testing.T) {
	var out, errb syncBuf
	if code := run(context.Background(), []string{"--version"}, &out, &errb); code != 0 ||
		!strings.HasPrefix(out.String(), "plcsim ") || !strings.Contains(out.String(), "go1.") {
		t.Errorf("--version: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
	// Upper case values are accepted, as in plcctl; a typo'd flag gets a suggestion.
	ctx, cancel := context.WithCancel(context.Background())
	errs := newReadyBuf()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--on-malformed", "RESET", "--malformed-pdu", "Strict",
			"--log-level", "INFO", "--log-format", "JSON"}, &out, errs)
	}()
	select {
	case <-errs.ready:
	case code := <-done:
		t.Fatalf("plcsim exited %d: %s", code, errs.String())
	case <-time.After(5 * time.Second):
		t.Fatalf("plcsim not ready: %s", errs.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d", code)
	}
	var e2 syncBuf
	if code := run(context.Background(), []string{"--holding-regsters", "10"}, &out, &e2); code != exitUsage ||
		!strings.Contains(e2.String(), "did you mean --holding-registers?") {
		t.Errorf("typo: exit %d, stderr %q", code, e2.String())
	}
}

// lineWatch collects output and reports the first write containing want.
type lineWatch struct {
	mu   sync.Mutex
	b    strings.Builder
	want string
	seen chan struct{}
	once sync.Once
}

func (w *lineWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if strings.Contains(w.b.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *lineWatch) String() string { w.mu.Lock(); defer w.mu.Unlock(); return w.b.String() }

// TestLogsTextByDefault: without --log-format the logs are text lines, also
// when stderr is not a terminal (issue 13: JSON whenever it was not).
func TestLogsTextByDefault(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	errs := &lineWatch{want: "plcsim ready", seen: make(chan struct{})}
	done := make(chan int, 1)
	var out syncBuf
	go func() { done <- run(ctx, []string{"--listen", "127.0.0.1:0"}, &out, errs) }()
	select {
	case <-errs.seen:
	case code := <-done:
		t.Fatalf("plcsim exited %d: %s", code, errs.String())
	case <-time.After(5 * time.Second):
		t.Fatalf("plcsim not ready: %s", errs.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d", code)
	}
	if s := errs.String(); !strings.Contains(s, "INF plcsim ready addr=127.0.0.1:") || strings.Contains(s, "{") ||
		!strings.Contains(s, "INF plcsim stopped") {
		t.Errorf("default logs are not text lines:\n%s", s)
	}
	if _, err := newLogger(&out, "info", "auto", false); err == nil || !strings.Contains(err.Error(), "want text or json") {
		t.Errorf("--log-format auto: %v", err)
	}
}
