package interop_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plc"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// capture is a running tshark capture of one TCP port on lo.
type capture struct {
	t     *testing.T
	cmd   *exec.Cmd
	file  string
	addr  string
	port  string
	lines chan string // packet summary lines, as tshark writes them
	done  chan error
}

// startCapture starts tshark on lo for the port of addr and returns once a
// probe connection to addr shows up in the capture, so no packet of the test
// is missed. Capturing needs root (or dumpcap capabilities).
func startCapture(t *testing.T, addr string) *capture {
	t.Helper()
	tshark := needPeer(t, "tshark", "tshark")
	if os.Geteuid() != 0 {
		if inCI() {
			t.Fatal("capturing on lo needs root")
		}
		t.Skip("capturing on lo needs root")
	}
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	c := &capture{t: t, addr: addr, port: port, file: filepath.Join(t.TempDir(), "session.pcapng"),
		lines: make(chan string, 1<<16), done: make(chan error, 1)}
	// -P -l: print each packet's summary line as it is written to the file.
	c.cmd = exec.Command(tshark, "-i", "lo", "-f", "tcp port "+port, "-w", c.file, "-P", "-l")
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	c.cmd.Stderr = &stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case c.lines <- sc.Text():
			default:
			}
		}
		io.Copy(io.Discard, stdout)
		c.done <- c.cmd.Wait()
	}()
	t.Cleanup(func() { c.cmd.Process.Kill() })
	if !c.probe(30 * time.Second) {
		t.Fatalf("tshark captured no probe packet\n%s", stderr.String())
	}
	return c
}

// probe opens and closes a connection to the server until tshark reports a
// packet, and reports whether it did within d. Probe connections close
// gracefully, so they add no RST.
func (c *capture) probe(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		nc, err := net.Dial("tcp", c.addr)
		if err != nil {
			c.t.Fatalf("probe: %v", err)
		}
		local := nc.LocalAddr().(*net.TCPAddr).Port
		nc.Close()
		// tshark prints "PORT → PORT [SYN]" (the arrow depends on the
		// locale); wait for a packet of this probe's own connection.
		mark := " " + strconv.Itoa(local) + " "
		timeout := time.After(500 * time.Millisecond)
		for waiting := true; waiting; {
			select {
			case line := <-c.lines:
				if strings.Contains(line, mark) {
					return true
				}
			case <-timeout:
				waiting = false
			}
		}
	}
	return false
}

// stop ends the capture once a final probe has been seen (so every earlier
// packet is in the file) and returns the file.
func (c *capture) stop() string {
	c.t.Helper()
	if !c.probe(10 * time.Second) {
		c.t.Fatal("tshark stopped reporting packets")
	}
	c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		c.t.Fatal("tshark did not stop")
	}
	return c.file
}

// count returns how many packets of the capture match a display filter.
func (c *capture) count(filter string) int {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "tshark", "-r", c.file, "-o", "mbtcp.tcp.port:"+c.port,
		"-Y", filter, "-T", "fields", "-e", "frame.number").Output()
	if err != nil {
		c.t.Fatalf("tshark -r -Y %q: %v", filter, err)
	}
	return len(strings.Fields(string(out)))
}

// values returns every value of field (all occurrences) over the packets
// matching filter.
func (c *capture) values(filter, field string) []string {
	c.t.Helper()
	out, err := exec.Command("tshark", "-r", c.file, "-o", "mbtcp.tcp.port:"+c.port,
		"-Y", filter, "-T", "fields", "-E", "occurrence=a", "-E", "separator=,", "-e", field).Output()
	if err != nil {
		c.t.Fatalf("tshark -r -Y %q -e %s: %v", filter, field, err)
	}
	return strings.FieldsFunc(string(out), func(r rune) bool { return r == ',' || r == '\n' || r == ' ' })
}

// distinct returns the distinct values of field over the packets matching
// filter.
func (c *capture) distinct(filter, field string) []string {
	c.t.Helper()
	out, err := exec.Command("tshark", "-r", c.file, "-o", "mbtcp.tcp.port:"+c.port,
		"-Y", filter, "-T", "fields", "-e", field).Output()
	if err != nil {
		c.t.Fatalf("tshark -r -Y %q -e %s: %v", filter, field, err)
	}
	seen := map[string]bool{}
	var vals []string
	for _, v := range strings.Fields(string(out)) {
		if !seen[v] {
			seen[v] = true
			vals = append(vals, v)
		}
	}
	return vals
}

// dump returns the capture's summary lines, for failure messages.
func (c *capture) dump() string {
	out, _ := exec.Command("tshark", "-r", c.file, "-o", "mbtcp.tcp.port:"+c.port).CombinedOutput()
	return string(out)
}

const (
	filterRST       = "tcp.flags.reset == 1"
	filterMalformed = "_ws.malformed"
	filterExpertErr = "_ws.expert.severity == error"
)

// TestWirePaddedRequestReset captures the ECONNRESET story on the wire: a
// valid FC 6 request in a 256-byte buffer. Wireshark calls the segment
// malformed, and plcsim answers the exact 12-byte request inside it, then
// resets: exactly one RST, sent by plcsim.
func TestWirePaddedRequestReset(t *testing.T) {
	s := simtest.Start(t, simulator.Config{})
	port := s.Addr[strings.LastIndexByte(s.Addr, ':')+1:]
	c := startCapture(t, s.Addr)

	nc, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	frame := make([]byte, 256)
	copy(frame, []byte{0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x06, 0x00, 0x01, 0x00, 0x03})
	nc.Write(frame)
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 512)
	for {
		if _, err = nc.Read(buf); err != nil {
			break
		}
	}
	if !isReset(err) {
		t.Fatalf("client read error %v, want ECONNRESET", err)
	}
	c.stop()
	if n := c.count(filterRST); n != 1 {
		t.Fatalf("%d RST packets, want exactly 1\n%s", n, c.dump())
	}
	if n := c.count(filterRST + " && tcp.srcport == " + port); n != 1 {
		t.Fatalf("the RST did not come from plcsim\n%s", c.dump())
	}
	if n := c.count(filterMalformed); n != 1 {
		t.Fatalf("%d packets Wireshark calls malformed, want 1 (the padded request)\n%s", n, c.dump())
	}
}

// TestWireExactSession: exactly framed requests of several kinds on one
// connection plus a graceful close: no RST, nothing malformed, no expert
// errors, and every request answered.
func TestWireExactSession(t *testing.T) {
	s := simtest.Start(t, simulator.Config{})
	port := s.Addr[strings.LastIndexByte(s.Addr, ':')+1:]
	c := startCapture(t, s.Addr)
	nc, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	tc := nc.(*net.TCPConn)
	tc.SetDeadline(time.Now().Add(30 * time.Second))
	reqs := []modbus.Request{
		modbus.NewReadHoldingRegisters(0, 10),
		&modbus.WriteSingleRegister{Address: 1, Value: 2},
		modbus.NewWriteMultipleRegisters(10, []uint16{1, 2, 3}),
		modbus.NewReadCoils(0, 16),
		modbus.NewWriteSingleCoil(3, true),
		modbus.NewWriteMultipleCoils(8, []bool{true, false, true}),
		modbus.NewReadDiscreteInputs(0, 8),
		modbus.NewReadInputRegisters(0, 2),
		&modbus.MaskWriteRegister{Address: 1, AndMask: 0xF2, OrMask: 0x25},
		modbus.NewReadWriteRegisters(0, 2, 20, []uint16{9}),
		&modbus.ReadDeviceID{Code: modbus.DeviceIDBasic},
	}
	buf := make([]byte, modbus.MaxADULen)
	const rounds = 20
	for i := 0; i < rounds; i++ {
		for j, r := range reqs {
			adu, err := modbus.AppendADU(nil, uint16(i*len(reqs)+j), 1, r)
			if err != nil {
				t.Fatal(err)
			}
			tc.Write(adu)
			if _, _, err := modbus.ReadADU(tc, buf); err != nil {
				t.Fatalf("round %d %v: %v", i, r.Function(), err)
			}
		}
	}
	tc.CloseWrite()
	if _, err := tc.Read(buf); err != io.EOF {
		t.Fatalf("after half-close: %v, want EOF", err)
	}
	tc.Close()
	c.stop()
	for _, f := range []string{filterRST, filterMalformed, filterExpertErr} {
		if n := c.count(f); n != 0 {
			t.Fatalf("%d packets match %q, want 0\n%s", n, f, c.dump())
		}
	}
	want := rounds * len(reqs)
	if n := c.count("mbtcp && tcp.srcport == " + port); n < want {
		t.Fatalf("Wireshark decoded %d Modbus responses, want %d", n, want)
	}
}

// plcctlSession is one plcctl shell session over one connection: writes of
// every kind, reads, then a watch of 1,000 reads, then a graceful exit.
const plcctlSession = `write-register 10 1234
write-registers 20 1 2 3 4
write-registers --type float32 --word-order CDAB 30 123.456
write-coil 5 on
write-coils 8 1 0 1 1 0
mask-write-register 10 0x00F2 0x0025
read-write-registers 0 4 40 7 8 9
write-file-record 4 1 0x0DFE 0x0020
read-file-record 4 1 2
read-coils 0 16
read-discrete-inputs 0 16
read-input-registers 0 4
read-fifo 0
read-device-id
watch --count 1000 --interval 1ms read-holding-registers 0 10
`

// TestWirePlcctlSession captures a whole plcctl session against plcsim and
// checks it with Wireshark's dissector: zero TCP resets, zero malformed
// packets, zero expert errors, one connection, every request answered.
func TestWirePlcctlSession(t *testing.T) {
	plcctl := filepath.Join(binaries(t), "plcctl")
	s := simtest.Start(t, simulator.Config{Logger: nopLogger()})
	port := s.Addr[strings.LastIndexByte(s.Addr, ':')+1:]
	c := startCapture(t, s.Addr)

	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, plcctl, "-a", s.Addr, "-o", "json", "shell", "--stop-on-error")
	cmd.Stdin = strings.NewReader(plcctlSession)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("plcctl shell: %v\nstderr: %s", err, stderr.String())
	}
	if n := strings.Count(stdout.String(), `"round":`); n != 1000 {
		t.Fatalf("watch printed %d rounds, want 1000", n)
	}
	c.stop()
	st := s.Stats()
	// Probe connections carry no Modbus; count the TCP streams that do.
	if streams := c.distinct("mbtcp", "tcp.stream"); len(streams) != 1 {
		t.Fatalf("Modbus traffic on %d TCP connections %v, want 1", len(streams), streams)
	}
	if st.PeerEOF < 1 || st.PeerResets != 0 || st.Resets != 0 || st.Exceptions != 0 {
		t.Fatalf("plcsim stats %+v: want a graceful close, no resets, no exceptions", st)
	}
	for _, f := range []string{filterRST, filterMalformed, filterExpertErr} {
		if n := c.count(f); n != 0 {
			t.Fatalf("%d packets match %q, want 0\n%s", n, f, c.dump())
		}
	}
	requests := c.count("mbtcp && tcp.dstport == " + port)
	responses := c.count("mbtcp && tcp.srcport == " + port)
	if requests < 1014 || responses != requests {
		t.Fatalf("Wireshark saw %d Modbus requests and %d responses, want >= 1014 each and equal", requests, responses)
	}
}

// TestWireClient10000 captures a 10,000-request session of the plc client
// (one connection, pipelined, then Close) against plcsim: not one RST, and
// plcsim saw our FIN.
func TestWireClient10000(t *testing.T) {
	s := simtest.Start(t, simulator.Config{Logger: nopLogger()})
	port := s.Addr[strings.LastIndexByte(s.Addr, ':')+1:]
	c := startCapture(t, s.Addr)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	opts := plc.Options{}
	opts.MaxInFlight = 4
	cl, err := plc.Dial(ctx, s.Addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	const n = 10000
	errs := make(chan error, 4)
	for w := 0; w < 4; w++ {
		go func(w int) {
			for i := w; i < n; i += 4 {
				if i%2 == 0 {
					if _, err := cl.ReadHoldingRegisters(ctx, uint16(i%100), 10); err != nil {
						errs <- err
						return
					}
				} else if err := cl.WriteRegister(ctx, uint16(i%100), uint16(i)); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}(w)
	}
	for w := 0; w < 4; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	c.stop()
	for _, f := range []string{filterRST, filterMalformed, filterExpertErr} {
		if k := c.count(f); k != 0 {
			t.Fatalf("%d packets match %q, want 0", k, f)
		}
	}
	// Count ADUs, not packets: a segment may carry several.
	if got := len(c.values("mbtcp && tcp.srcport == "+port, "mbtcp.trans_id")); got != n {
		t.Fatalf("Wireshark decoded %d responses, want %d", got, n)
	}
	if streams := c.distinct("mbtcp", "tcp.stream"); len(streams) != 1 {
		t.Fatalf("Modbus traffic on %d connections, want 1", len(streams))
	}
	if st := s.Stats(); st.Requests != n || st.PeerResets != 0 || st.Resets != 0 || st.PeerEOF < 1 {
		t.Fatalf("plcsim stats %+v", st)
	}
}
