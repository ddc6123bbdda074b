package admin

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
)

func readEvent(t *testing.T, br *bufio.Reader) map[string]json.RawMessage {
	t.Helper()
	var event string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("event stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			if event != "update" {
				t.Fatalf("event %q, want update", event)
			}
			var m map[string]json.RawMessage
			mustJSON(t, strings.TrimPrefix(line, "data: "), &m)
			return m
		}
	}
}

func TestEvents(t *testing.T) {
	r := newRig(t, Options{EventInterval: 5 * time.Millisecond}, simulator.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", r.web.URL+"/api/v1/events?unit=1&table=holding-registers&address=0&count=3", nil)
	rsp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer rsp.Body.Close()
	if ct := rsp.Header.Get("Content-Type"); rsp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("GET events = %d %s", rsp.StatusCode, ct)
	}
	br := bufio.NewReader(rsp.Body)
	first := readEvent(t, br)
	for _, k := range []string{"values", "counters", "faults", "writes"} {
		if _, ok := first[k]; !ok {
			t.Errorf("first event has no %s: %v", k, first)
		}
	}
	c := dialMB(t, r.sim.Addr)
	c.call(1, &modbus.WriteSingleRegister{Address: 1, Value: 7})
	// The next events carry the new value, the write and the counters; the
	// fault rules did not change, so they are not sent again.
	var sawValue, sawWrite bool
	for !(sawValue && sawWrite) {
		ev := readEvent(t, br)
		if _, ok := ev["faults"]; ok {
			t.Errorf("unchanged faults sent again: %s", ev["faults"])
		}
		if v, ok := ev["values"]; ok {
			sawValue = strings.Contains(string(v), `"values":[0,7,0]`)
		}
		if w, ok := ev["writes"]; ok {
			sawWrite = strings.Contains(string(w), `"values":[7]`)
		}
	}
	for _, bad := range []struct{ q, field string }{
		{"unit=1&table=x&address=0", "table"},
		{"unit=1&table=coils&address=65530&count=10", "count"},
		{"unit=1&table=coils", "address"},
	} {
		code, body := r.do(t, "GET", "/api/v1/events?"+bad.q, "")
		var e apiError
		mustJSON(t, body, &e)
		if code != 400 || e.Field != bad.field {
			t.Errorf("GET events?%s = %d %s, want 400 naming %s", bad.q, code, body, bad.field)
		}
	}
	// At most 16 streams at once (this test holds one).
	var open []*http.Response
	defer func() {
		for _, o := range open {
			o.Body.Close()
		}
	}()
	for i := 0; i < maxEventConns-1; i++ {
		req, _ := http.NewRequestWithContext(ctx, "GET", r.web.URL+"/api/v1/events", nil)
		o, err := http.DefaultClient.Do(req)
		if err != nil || o.StatusCode != 200 {
			t.Fatalf("stream %d: %v %v", i+2, err, o)
		}
		open = append(open, o)
	}
	if code, _ := r.do(t, "GET", "/api/v1/events", ""); code != 503 {
		t.Errorf("stream 17 = %d, want 503", code)
	}
}

func TestEventsOutliveServerTimeouts(t *testing.T) {
	a, _ := New(Options{EventInterval: 10 * time.Millisecond})
	a.limits.header, a.limits.body = 100*time.Millisecond, 100*time.Millisecond
	srv, _ := simulator.New(simulator.Config{Listen: "127.0.0.1:0"})
	addr := serveAdmin(t, a, srv)
	rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer rcancel()
	req, _ := http.NewRequestWithContext(rctx, "GET", "http://"+addr+"/api/v1/events?unit=1&table=coils&address=0&count=1", nil)
	rsp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer rsp.Body.Close()
	br := bufio.NewReader(rsp.Body)
	readEvent(t, br)
	// Past both timeouts several times over, changes still arrive.
	start := time.Now()
	for j := 0; time.Since(start) < 750*time.Millisecond; j++ {
		srv.SetCoils(0, j%2 == 0) // a change each time: the stream sends only changes
		readEvent(t, br)
	}
}

// serveAdmin serves a's handler of srv with Serve (its timeouts and
// connection limit, unlike httptest) on a loopback port 0 until the test
// ends, and returns the address.
func serveAdmin(t *testing.T, a *Admin, srv *simulator.Server) string {
	t.Helper()
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln, a.Handler(srv)) }()
	t.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String()
}
