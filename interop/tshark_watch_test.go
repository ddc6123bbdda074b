package interop_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plcctl/plcctl/internal/testutil"
)

// plcsimProc is a running plcsim binary.
type plcsimProc struct {
	cmd   *exec.Cmd
	addr  string
	ready chan string
	done  chan error
	log   testutil.SyncBuffer // its log lines (JSON)
}

// startPlcsim runs plcsim on listen with args and waits for its readiness
// line.
func startPlcsim(t *testing.T, bin, listen string, args ...string) *plcsimProc {
	t.Helper()
	p := &plcsimProc{cmd: exec.Command(bin, append([]string{"--listen", listen, "--log-format", "json"}, args...)...),
		ready: make(chan string, 1), done: make(chan error, 1)}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Kill() })
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.log.Write(append(sc.Bytes(), '\n'))
			var rec struct{ Message, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Message == "plcsim ready" {
				select {
				case p.ready <- rec.Addr:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
		p.done <- p.cmd.Wait()
	}()
	select {
	case p.addr = <-p.ready:
	case <-time.After(10 * time.Second):
		t.Fatalf("plcsim not ready:\n%s", p.log.String())
	}
	return p
}

// stop sends SIGTERM and waits for plcsim to exit.
func (p *plcsimProc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatal("plcsim did not stop on SIGTERM")
	}
}

// watchRound is the part of a plcctl watch JSON line this test reads.
type watchRound struct {
	Round       int    `json:"round"`
	Error       string `json:"error"`
	Reconnected bool   `json:"reconnected"`
}

// TestWireWatchAcrossRestart captures plcctl watch --interval 5ms across a
// plcsim SIGTERM and a restart on the same port (defect 2 of issue 8): the
// client must notice the server's FIN between two polls and write nothing
// more into that connection, and never send a reset; the watch goes on over
// a new connection once plcsim is back.
func TestWireWatchAcrossRestart(t *testing.T) {
	bins := binaries(t)
	plcsim, plcctl := filepath.Join(bins, "plcsim"), filepath.Join(bins, "plcctl")
	sim := startPlcsim(t, plcsim, "127.0.0.1:0")
	addr := sim.addr
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	c := startCapture(t, addr)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	watch := exec.CommandContext(ctx, plcctl, "watch", "--interval", "5ms", "-o", "json", "-t", "500ms",
		"read-holding-registers", "0", "2", "-a", addr)
	stdout, err := watch.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	watch.Stderr = &stderr
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	defer watch.Process.Kill()
	rounds := make(chan watchRound, 1<<16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var r watchRound
			if json.Unmarshal(sc.Bytes(), &r) == nil {
				rounds <- r
			}
		}
		close(rounds)
	}()
	// waitRounds reads rounds until want says stop.
	waitRounds := func(what string, want func(watchRound) bool) {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for {
			select {
			case r, ok := <-rounds:
				if !ok {
					t.Fatalf("watch ended waiting for %s\nstderr: %s", what, stderr.String())
				}
				if want(r) {
					return
				}
			case <-timeout:
				t.Fatalf("no %s within 30s", what)
			}
		}
	}
	good := 0
	waitRounds("20 good rounds", func(r watchRound) bool {
		if r.Error == "" {
			good++
		}
		return good >= 20
	})
	sim.stop(t)
	sim = startPlcsim(t, plcsim, addr) // the same port
	waitRounds("a reconnected round", func(r watchRound) bool { return r.Error == "" && r.Reconnected })
	good = 0
	waitRounds("20 good rounds after it", func(r watchRound) bool {
		if r.Error == "" {
			good++
		}
		return good >= 20
	})
	watch.Process.Signal(syscall.SIGINT) // a normal end: close gracefully
	if err := watch.Wait(); err != nil {
		t.Fatalf("plcctl watch: %v\nstderr: %s", err, stderr.String())
	}
	c.stop()

	if n := c.count(filterRST + " && tcp.dstport == " + port); n != 0 {
		t.Errorf("the client sent %d resets\n%s", n, c.dump())
	}
	if streams := c.distinct("mbtcp", "tcp.stream"); len(streams) < 2 {
		t.Errorf("Modbus traffic on %d connections %v, want one before and one after the restart", len(streams), streams)
	}
	// Every packet in order: once the server's FIN is on the wire, the
	// client sends no more payload on that connection.
	out, err := exec.Command("tshark", "-r", c.file, "-T", "fields", "-E", "separator=,",
		"-e", "tcp.stream", "-e", "frame.number", "-e", "tcp.srcport", "-e", "tcp.flags.fin", "-e", "tcp.len").Output()
	if err != nil {
		t.Fatalf("tshark -r: %v", err)
	}
	finAt := map[string]string{} // stream -> frame of the server's FIN
	fins, late := 0, 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, ",")
		if len(f) != 5 {
			continue
		}
		stream, frame, src, fin, payload := f[0], f[1], f[2], f[3], f[4]
		fromServer := src == port
		switch {
		case fromServer && (fin == "1" || fin == "True") && finAt[stream] == "":
			finAt[stream] = frame
			fins++
		case !fromServer && finAt[stream] != "" && payload != "0" && payload != "":
			late++
			t.Errorf("stream %s: the client sent %s bytes in frame %s, after the server's FIN in frame %s",
				stream, payload, frame, finAt[stream])
		}
	}
	if fins == 0 {
		t.Errorf("no FIN from plcsim in the capture: the SIGTERM was not seen on the wire\n%s", c.dump())
	}
	t.Logf("%d server FINs; %d client payloads after one", fins, late)
}
