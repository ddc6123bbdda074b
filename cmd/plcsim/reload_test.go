package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/simulator"
)

// TestFaultFileReload: plcsim --fault-file loads its rules, a real SIGHUP
// reloads them, and a file that does not parse keeps the old rules and
// logs the line at fault.
func TestFaultFileReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "faults.txt")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("# busy on every read\naction=exception,exception=6,fc=3\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errb := newReadyBuf()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--log-format", "json", "--fault-file", path}, io.Discard, errb)
	}()
	addr := waitReady(t, errb)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// answer returns the function code byte and the next byte of an FC 3 answer.
	answer := func() string {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write([]byte{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1})
		hdr := make([]byte, 9)
		if _, err := io.ReadFull(c, hdr); err != nil {
			t.Fatalf("answer: %v", err)
		}
		if hdr[7] == 3 {
			io.ReadFull(c, make([]byte, 2))
		}
		return fmt.Sprintf("%02X %02X", hdr[7], hdr[8])
	}
	if got := answer(); got != "83 06" {
		t.Fatalf("with the file's rule: %s, want 83 06", got)
	}
	hup := func() { sighup(t) }
	write("action=exception,exception=4,fc=3\n")
	hup()
	testutil.WaitFor(t, 5*time.Second, "the reloaded rule", func() bool { return answer() == "83 04" })

	write("action=drop\naction=explode\n")
	hup()
	testutil.WaitFor(t, 5*time.Second, "the reload error", func() bool {
		return strings.Contains(errb.String(), "line 2") && strings.Contains(errb.String(), "the old rules stay")
	})
	if got := answer(); got != "83 04" {
		t.Fatalf("after a bad file: %s, want the old rule's 83 04", got)
	}
	write("# no faults\n")
	hup()
	testutil.WaitFor(t, 5*time.Second, "normal service", func() bool { return answer() == "03 02" })
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
}

func TestFaultFileErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.txt")
	os.WriteFile(bad, []byte("action=drop\n\naction=delay\n"), 0o600)
	for _, tc := range []struct{ name, file, want string }{
		{"missing", filepath.Join(t.TempDir(), "none.txt"), "no such file"},
		{"bad line", bad, "line 3: simulator: fault \"action=delay\": action=delay needs delay=DURATION"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var errb syncBuf
			if code := run(context.Background(), []string{"--listen", "127.0.0.1:0", "--fault-file", tc.file}, io.Discard, &errb); code != exitUsage {
				t.Fatalf("exit %d, want %d", code, exitUsage)
			}
			if !strings.Contains(errb.String(), tc.want) {
				t.Fatalf("stderr %q, want %q", errb.String(), tc.want)
			}
		})
	}
}

// TestHelpNamesEveryFault: --help documents every fault action and rule key.
func TestHelpNamesEveryFault(t *testing.T) {
	var out strings.Builder
	run(context.Background(), []string{"--help"}, &out, io.Discard)
	help := out.String()
	for a := simulator.FaultAction(1); !strings.HasPrefix(a.String(), "fault("); a++ {
		if !strings.Contains(help, a.String()) {
			t.Errorf("--help does not name action %s", a)
		}
	}
	for _, k := range simulator.FaultKeys {
		if !regexp.MustCompile(`\b` + k + `\b`).MatchString(help) {
			t.Errorf("--help does not name rule key %s", k)
		}
	}
}

// TestFaultFileTooLarge: a --fault-file larger than 1 MiB is refused after
// reading that much (a file of valid rules was read whole, every rule
// kept); one of rules up to it loads.
func TestFaultFileTooLarge(t *testing.T) {
	dir := t.TempDir()
	rule := "action=delay,delay=1ms,fc=3\n"
	for _, tc := range []struct {
		name  string
		size  int
		err   string
		rules int
	}{
		{"just fits", maxFaultFile / len(rule) * len(rule), "", maxFaultFile / len(rule)},
		{"too large", maxFaultFile + len(rule), "is larger than 1 MiB, more than a fault file may have", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			if err := os.WriteFile(path, []byte(strings.Repeat(rule, tc.size/len(rule))), 0o644); err != nil {
				t.Fatal(err)
			}
			rules, err := loadFaultFile(path)
			if tc.err == "" && (err != nil || len(rules) != tc.rules) || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("loadFaultFile(%d bytes) = %d rules, %v; want %d rules, error %q", tc.size, len(rules), err, tc.rules, tc.err)
			}
		})
	}
}
