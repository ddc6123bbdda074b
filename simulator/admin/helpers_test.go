package admin

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// rig is a simulator on 127.0.0.1:0 with its admin API on an httptest server.
type rig struct {
	a   *Admin
	sim *simtest.Server
	web *httptest.Server
}

func newRig(t *testing.T, opts Options, cfg simulator.Config) *rig {
	t.Helper()
	a, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Observer = a
	sim := simtest.Start(t, cfg)
	web := httptest.NewServer(a.Handler(sim.Server))
	t.Cleanup(web.Close)
	t.Cleanup(func() { a.Close() })
	return &rig{a: a, sim: sim, web: web}
}

// do sends one API request and returns the status and body.
func (r *rig) do(t *testing.T, method, path, body string, hdr ...string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, r.web.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rsp, err := r.web.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer rsp.Body.Close()
	b, _ := io.ReadAll(rsp.Body)
	return rsp.StatusCode, string(b)
}

// mustJSON decodes an answer that must be JSON.
func mustJSON(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("answer %q is not JSON: %v", body, err)
	}
}

// mb is a scripted Modbus client that writes exactly the requests given.
type mb struct {
	t   testing.TB
	nc  net.Conn
	tid uint16
}

func dialMB(t testing.TB, addr string) *mb {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &mb{t: t, nc: nc}
}

// call sends p to unit and returns the answer PDU.
func (c *mb) call(unit uint8, p modbus.PDU) []byte {
	c.t.Helper()
	c.tid++
	req, err := modbus.AppendADU(nil, c.tid, unit, p)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.raw(req)
}

// raw sends an ADU and returns the answer PDU.
func (c *mb) raw(adu []byte) []byte {
	c.t.Helper()
	if _, err := c.nc.Write(adu); err != nil {
		c.t.Fatalf("write % X: %v", adu, err)
	}
	c.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, rsp, err := modbus.ReadADU(c.nc, make([]byte, modbus.MaxADULen))
	if err != nil {
		c.t.Fatalf("answer to % X: %v", adu, err)
	}
	return append([]byte(nil), rsp[modbus.MBAPHeaderLen:]...)
}

var waitFor = testutil.WaitFor

// scrape reads /metrics into series name{labels} -> value.
func scrape(t *testing.T, r *rig) map[string]float64 {
	t.Helper()
	code, body := r.do(t, "GET", "/metrics", "")
	if code != 200 {
		t.Fatalf("GET /metrics = %d %s", code, body)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}
