package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/modbus"
)

// readReady waits for --ready-file path to hold this process's line (a
// stale file of another run does not count) and decodes it into v.
func readReady(t *testing.T, path string, v any) {
	t.Helper()
	var rec struct {
		PID int `json:"pid"`
	}
	var b []byte
	testutil.WaitFor(t, 10*time.Second, "the ready file", func() bool {
		var err error
		b, err = os.ReadFile(path)
		return err == nil && json.Unmarshal(b, &rec) == nil && rec.PID == os.Getpid()
	})
	if !strings.HasSuffix(string(b), "}\n") || strings.Count(string(b), "\n") != 1 {
		t.Errorf("ready file %q: want one JSON line", b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("ready file %q: %v", b, err)
	}
}

// TestReadyFile: --ready-file is written once plcsim listens, whatever the
// log level (at warn there is no "plcsim ready" line, and with port 0
// nothing else told the port), names the Modbus and HTTP addresses that
// serve, replaces a file of an earlier run, and is removed at exit.
func TestReadyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plcsim.ready")
	if err := os.WriteFile(path, []byte(`{"pid":1,"modbus":"127.0.0.1:1"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errb syncBuf
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--log-level", "warn",
			"--ready-file", path}, io.Discard, &errb)
	}()
	var info struct {
		Modbus string `json:"modbus"`
		HTTP   string `json:"http"`
	}
	readReady(t, path, &info)
	c := dialClient(t, info.Modbus)
	if _, err := c.do(modbus.NewReadHoldingRegisters(0, 1)); err != nil {
		t.Fatalf("read from the ready file's modbus %s: %v", info.Modbus, err)
	}
	rsp, err := http.Get("http://" + info.HTTP + "/readyz")
	if err != nil {
		t.Fatalf("GET the ready file's http %s: %v", info.HTTP, err)
	}
	rsp.Body.Close()
	if rsp.StatusCode != http.StatusOK {
		t.Errorf("GET /readyz = %d, want 200 once the ready file is written", rsp.StatusCode)
	}
	if strings.Contains(errb.String(), "plcsim ready") {
		t.Errorf("at --log-level warn the log has a ready line:\n%s", errb.String())
	}
	c.nc.Close()
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("exit %d:\n%s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("plcsim did not stop")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("ready file after exit: %v, want it removed", err)
	}
}

// TestReadyFileDevices: serving a plant's several devices, the ready
// file is written once every device listens, each device's address under
// its name, as GET /readyz has them.
func TestReadyFileDevices(t *testing.T) {
	addrs := heldAddrs(t, 2)
	path := filepath.Join(t.TempDir(), "plcsim.ready")
	startDevices(t, "--plant", twoDevices(t, addrs[0], addrs[1]), "--ready-file", path)
	var info struct {
		Modbus map[string]string `json:"modbus"`
	}
	readReady(t, path, &info)
	if info.Modbus["pumps"] != addrs[0] || info.Modbus["tanks"] != addrs[1] || len(info.Modbus) != 2 {
		t.Errorf("ready file modbus = %v, want pumps %s and tanks %s", info.Modbus, addrs[0], addrs[1])
	}
}

// TestReadyFileUsage: a --ready-file that could never be written stops the
// start (exit 2) saying why.
func TestReadyFileUsage(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ path, want string }{
		{dir, "--ready-file " + dir + ": it is a directory"},
		{filepath.Join(dir, "none", "r.json"), "cannot write it: directory " + filepath.Join(dir, "none") + " does not exist"},
	} {
		var errb syncBuf
		code := run(context.Background(), []string{"--listen", "127.0.0.1:0", "--ready-file", tc.path}, io.Discard, &errb)
		if code != exitUsage || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("--ready-file %s: exit %d, stderr %q; want exit 2 and %q", tc.path, code, errb.String(), tc.want)
		}
	}
}
