package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plcctl/plcctl/plc"
)

// Register layout the benchmarks rely on. plcsim starts all zero; setup
// fills the read area so every client's answer can be checked.
const (
	readAddr  = 0      // holding registers 0..124 hold readSeed, readSeed+1, ...
	readSeed  = 0x1000 // value of register readAddr
	writeAddr = 1000   // the write benchmarks write 10 registers here
)

// plcsim is the one simulator process shared by every benchmark in the run.
var plcsim struct {
	once sync.Once
	err  error
	dir  string    // temporary directory holding built binaries
	cmd  *exec.Cmd // the running plcsim
	addr string    // its 127.0.0.1:port
	done chan error
}

func TestMain(m *testing.M) {
	code := m.Run()
	stopSim()
	os.Exit(code)
}

// simAddr builds and starts plcsim on first use and returns its address.
// A separate process keeps the server's allocations, goroutines and GC out
// of the benchmark process (see README.md, "Why a separate plcsim").
func simAddr(tb testing.TB) string {
	tb.Helper()
	plcsim.once.Do(func() { plcsim.err = startSim() })
	if plcsim.err != nil {
		tb.Fatal(plcsim.err)
	}
	return plcsim.addr
}

func startSim() error {
	dir, err := os.MkdirTemp("", "plcctl-bench-")
	if err != nil {
		return err
	}
	plcsim.dir = dir
	bin := filepath.Join(dir, "plcsim")
	// go test puts its own GOROOT/bin first in PATH, so this is the same go.
	out, err := exec.Command("go", "build", "-o", bin, "github.com/plcctl/plcctl/cmd/plcsim").CombinedOutput()
	if err != nil {
		return fmt.Errorf("bench: build plcsim: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--listen", "127.0.0.1:0", "--log-format", "json", "--log-level", "info")
	logs, err := cmd.StderrPipe()
	readLog := readSimLog
	if os.Getenv("PLCCTL_BENCH_SERVER") == "libmodbus" {
		// The clients against libmodbus's C server instead (bench/run.sh):
		// same register layout, filled the same way.
		if bin, err = buildC(dir, "libmodbus_server"); err != nil {
			return err
		}
		cmd = exec.Command(bin, "16")
		logs, err = cmd.StdoutPipe()
		readLog = readReadyLine
	}
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("bench: start %s: %w", cmd.Path, err)
	}
	plcsim.cmd = cmd
	plcsim.done = make(chan error, 1)
	ready := make(chan string, 1)
	go readLog(logs, ready)
	go func() { plcsim.done <- cmd.Wait() }()
	select {
	case plcsim.addr = <-ready:
	case err := <-plcsim.done:
		plcsim.cmd = nil
		return fmt.Errorf("bench: plcsim exited before it was ready: %v", err)
	case <-time.After(10 * time.Second):
		return errors.New("bench: plcsim not ready within 10 s")
	}
	if !strings.HasPrefix(plcsim.addr, "127.0.0.1:") {
		return fmt.Errorf("bench: plcsim listens on %q, want 127.0.0.1", plcsim.addr)
	}
	return fillReadArea(plcsim.addr)
}

// readSimLog sends the address from plcsim's "plcsim ready" line, then keeps
// draining its log so that plcsim never blocks on a full pipe.
func readSimLog(r io.Reader, ready chan<- string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var line struct {
			Message string `json:"message"`
			Addr    string `json:"addr"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "plcsim ready" {
			ready <- line.Addr
			break
		}
	}
	io.Copy(io.Discard, r)
}

// readReadyLine sends the address from a "READY 127.0.0.1:PORT" line (the
// C server's), then drains the rest.
func readReadyLine(r io.Reader, ready chan<- string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "READY "); ok {
			ready <- a
			break
		}
	}
	io.Copy(io.Discard, r)
}

// buildC compiles testdata/NAME.c against the system libmodbus into dir.
func buildC(dir, name string) (string, error) {
	flags, err := exec.Command("pkg-config", "--cflags", "--libs", "libmodbus").Output()
	if err != nil {
		return "", fmt.Errorf("bench: libmodbus not found by pkg-config (apt-get install libmodbus-dev pkg-config): %v", err)
	}
	bin := filepath.Join(dir, name)
	args := append([]string{"-Wall", "-Wextra", "-Werror", "-O2", "-o", bin, filepath.Join("testdata", name+".c")},
		strings.Fields(string(flags))...)
	if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("bench: gcc %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin, nil
}

// fillReadArea writes readSeed+i to holding register readAddr+i, 0 <= i < 125.
func fillReadArea(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := plc.Dial(ctx, addr, plc.Options{})
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer c.Close()
	if err := c.WriteRegisters(ctx, readAddr, seq(readSeed, 125)); err != nil {
		return fmt.Errorf("bench: fill read area: %w", err)
	}
	return nil
}

// stopSim stops plcsim with SIGINT (its graceful shutdown) and removes the
// built binaries.
func stopSim() {
	if plcsim.cmd != nil {
		plcsim.cmd.Process.Signal(os.Interrupt)
		select {
		case <-plcsim.done:
		case <-time.After(10 * time.Second):
			plcsim.cmd.Process.Kill()
			<-plcsim.done
		}
	}
	if plcsim.dir != "" {
		os.RemoveAll(plcsim.dir)
	}
}

// seq returns n values base, base+1, ...
func seq(base uint16, n int) []uint16 {
	v := make([]uint16, n)
	for i := range v {
		v[i] = base + uint16(i)
	}
	return v
}
