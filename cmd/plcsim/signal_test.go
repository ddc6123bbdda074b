package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/modbus"
)

// TestSignals builds the plcsim binary and stops it with a real SIGTERM and
// SIGINT while a client is connected: it stops accepting, half-closes the
// client's connection (the client reads EOF, never a reset) and exits 0.
func TestSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "plcsim")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "--listen", "127.0.0.1:0", "--log-format", "json")
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			ready, stopped, scanned := make(chan string, 1), make(chan bool, 1), make(chan struct{})
			go func() {
				defer close(scanned)
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
					var rec struct{ Message, Addr string }
					if json.Unmarshal(sc.Bytes(), &rec) != nil {
						continue
					}
					switch rec.Message {
					case "plcsim ready":
						ready <- rec.Addr
					case "plcsim stopped":
						stopped <- true
					}
				}
				io.Copy(io.Discard, stderr)
			}()
			var addr string
			select {
			case addr = <-ready:
			case <-time.After(10 * time.Second):
				t.Fatal("plcsim not ready")
			}
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Write([]byte{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1})
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.ReadFull(c, make([]byte, 11)); err != nil {
				t.Fatalf("answer: %v", err)
			}
			cmd.Process.Signal(sig)
			if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
				t.Fatalf("after %v: read %d, %v; want EOF", sig, n, err)
			}
			c.Close()
			// Read stderr to its end (the process exiting) before Wait,
			// which closes the pipe.
			select {
			case <-scanned:
			case <-time.After(10 * time.Second):
				t.Fatalf("plcsim still running after %v", sig)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			select {
			case err := <-exited:
				if err != nil {
					t.Fatalf("plcsim exit after %v: %v, want status 0", sig, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("plcsim still running after %v", sig)
			}
			select {
			case <-stopped:
			default:
				t.Fatal("no \"plcsim stopped\" line")
			}
			if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				t.Fatal("plcsim still accepts after exiting")
			}
		})
	}
}

// TestSIGHUPNothingToReload: a SIGHUP to a plcsim with nothing to reload
// (no --fault-file, --access or plant file) is logged and it goes on
// serving; SIGTERM then stops it as usual (exit 0, the summary line).
// Go's default action for SIGHUP killed it (status 129, no summary).
func TestSIGHUPNothingToReload(t *testing.T) {
	p := startProc(t, buildPlcsim(t))
	c := dialClient(t, p.addr)
	if _, err := c.do(modbus.NewReadHoldingRegisters(0, 1)); err != nil {
		t.Fatalf("read before SIGHUP: %v", err)
	}
	p.cmd.Process.Signal(syscall.SIGHUP)
	const said = `"message":"SIGHUP: nothing to reload (no --fault-file, --access or plant file); still serving"`
	testutil.WaitFor(t, 5*time.Second, "the SIGHUP logged", func() bool {
		select {
		case err := <-p.exited:
			t.Fatalf("plcsim exited at SIGHUP: %v\n%s", err, p.stderr.String())
		default:
		}
		return strings.Contains(p.stderr.String(), said)
	})
	if _, err := c.do(modbus.NewReadHoldingRegisters(0, 1)); err != nil {
		t.Fatalf("read after SIGHUP on the same connection: %v", err)
	}
	c.nc.Close()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.wait(t); err != nil {
		t.Fatalf("exit after SIGTERM: %v, want status 0\n%s", err, p.stderr.String())
	}
	if !strings.Contains(p.stderr.String(), `"message":"plcsim stopped"`) {
		t.Errorf("no \"plcsim stopped\" line:\n%s", p.stderr.String())
	}
}
