package admin

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
)

// TestOpenAPIMatchesRoutes checks the committed document against the muxes
// of Handler (one device) and DevicesHandler (the routes at its root):
// every documented operation reaches the handler registered for it in each
// mux that has it, and every handler is documented.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openapiJSON, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for m := range ops {
			documented[strings.ToUpper(m)+" "+path] = true
		}
	}
	a, _ := New(Options{})
	srv, err := simulator.New(simulator.Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := New(Options{})
	devs := []Device{{Name: "pumps", Admin: b, Server: srv}}
	top, err := DevicesHandler(devs)
	if err != nil {
		t.Fatal(err)
	}
	muxes := []struct {
		name   string
		routes []route
		mux    *http.ServeMux
	}{
		{"Handler", a.routes(), a.Handler(srv).(jsonMux).mux},
		{"DevicesHandler", topRoutes(devs, prometheus.NewRegistry()), top.(jsonMux).mux},
	}
	served := map[string]bool{}
	param := regexp.MustCompile(`\{[a-z]+\}`)
	for _, m := range muxes {
		patterns := map[string]string{}
		for _, r := range m.routes {
			op := r.method + " " + openapiPath(r.path)
			served[op] = true
			patterns[op] = muxPattern(r.method, r.path)
			if !documented[op] {
				t.Errorf("%s route %s is not in openapi.json", m.name, op)
			}
		}
		for op := range documented {
			if patterns[op] == "" {
				continue
			}
			method, path, _ := strings.Cut(op, " ")
			req := httptest.NewRequest(method, param.ReplaceAllString(path, "1"), nil)
			if _, pattern := m.mux.Handler(req); pattern != patterns[op] {
				t.Errorf("%s: %s %s reaches mux pattern %q, want %q", m.name, method, req.URL.Path, pattern, patterns[op])
			}
		}
	}
	for op := range documented {
		if !served[op] {
			t.Errorf("%s is documented but has no route", op)
		}
	}
	// Served as committed.
	r := newRig(t, Options{}, simulator.Config{})
	if code, body := r.do(t, "GET", "/api/openapi.json", ""); code != 200 || body != string(openapiJSON) {
		t.Errorf("GET /api/openapi.json = %d, %d bytes; want 200 and the committed document", code, len(body))
	}
}

func TestHealthReady(t *testing.T) {
	r := newRig(t, Options{}, simulator.Config{})
	if code, body := r.do(t, "GET", "/healthz", ""); code != 200 || !strings.Contains(body, "serving") {
		t.Errorf("GET /healthz = %d %s", code, body)
	}
	code, body := r.do(t, "GET", "/readyz", "")
	if code != 200 || !strings.Contains(body, r.sim.Addr) {
		t.Errorf("GET /readyz = %d %s, want 200 naming %s", code, body, r.sim.Addr)
	}
	// A server that does not listen yet is not ready.
	a, _ := New(Options{})
	srv, _ := simulator.New(simulator.Config{})
	rec := httptest.NewRecorder()
	a.Handler(srv).ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz before listening = %d, want 503", rec.Code)
	}
}

func TestTables(t *testing.T) {
	r := newRig(t, Options{}, simulator.Config{Coils: 100, DiscreteInputs: 100, HoldingRegisters: 100, InputRegisters: 100})
	cases := []struct {
		table, put, want string
	}{
		{"coils", `{"values":[true,false,true]}`, `[true,false,true]`},
		{"discrete-inputs", `{"values":[false,true]}`, `[false,true]`},
		{"holding-registers", `{"values":[42,65535,0]}`, `[42,65535,0]`},
		{"input-registers", `{"values":[7]}`, `[7]`},
	}
	for _, c := range cases {
		t.Run(c.table, func(t *testing.T) {
			if code, body := r.do(t, "PUT", "/api/v1/units/1/"+c.table+"?address=10", c.put); code != 200 {
				t.Fatalf("PUT = %d %s", code, body)
			}
			var got struct{ Values json.RawMessage }
			n := strings.Count(c.want, ",") + 1
			code, body := r.do(t, "GET", "/api/v1/units/1/"+c.table+"?address=10&count="+strconv.Itoa(n), "")
			if code != 200 {
				t.Fatalf("GET = %d %s", code, body)
			}
			mustJSON(t, body, &got)
			if string(got.Values) != c.want {
				t.Errorf("GET values = %s, want %s", got.Values, c.want)
			}
		})
	}
	// Seen by a Modbus client too.
	c := dialMB(t, r.sim.Addr)
	if rsp := c.call(1, modbus.NewReadHoldingRegisters(10, 2)); string(rsp) != "\x03\x04\x00\x2a\xff\xff" {
		t.Errorf("FC 3 after PUT = % X", rsp)
	}
	// Writes through the API are not client writes.
	if n := r.a.journal.total(); n != 0 {
		t.Errorf("journal has %d entries after API writes, want 0", n)
	}
}

func TestTablesBadInput(t *testing.T) {
	r := newRig(t, Options{}, simulator.Config{HoldingRegisters: 100, Coils: 100})
	huge := `{"values":[` + strings.Repeat("1,", maxBody/2) + `1]}`
	cases := []struct {
		name, method, path, body string
		code                     int
		field                    string
	}{
		{"unit too big", "GET", "/api/v1/units/256/coils?address=0", "", 400, "unit"},
		{"unit not a number", "GET", "/api/v1/units/x/coils?address=0", "", 400, "unit"},
		{"unknown table", "GET", "/api/v1/units/1/registers?address=0", "", 400, "table"},
		{"address missing", "GET", "/api/v1/units/1/coils", "", 400, "address"},
		{"address too big", "GET", "/api/v1/units/1/coils?address=65536", "", 400, "address"},
		{"count zero", "GET", "/api/v1/units/1/coils?address=0&count=0", "", 400, "count"},
		{"count past the end", "GET", "/api/v1/units/1/holding-registers?address=90&count=11", "", 400, "count"},
		{"count not a number", "GET", "/api/v1/units/1/coils?address=0&count=ten", "", 400, "count"},
		{"register too big", "PUT", "/api/v1/units/1/holding-registers?address=0", `{"values":[1,2,70000]}`, 400, "values[2]"},
		{"register negative", "PUT", "/api/v1/units/1/holding-registers?address=0", `{"values":[-1]}`, 400, "values[0]"},
		{"register fraction", "PUT", "/api/v1/units/1/holding-registers?address=0", `{"values":[1.5]}`, 400, "values[0]"},
		{"bit as number", "PUT", "/api/v1/units/1/coils?address=0", `{"values":[true,1]}`, 400, "values[1]"},
		{"values past the end", "PUT", "/api/v1/units/1/holding-registers?address=99", `{"values":[1,2]}`, 400, "values"},
		{"values empty", "PUT", "/api/v1/units/1/holding-registers?address=0", `{"values":[]}`, 400, "values"},
		{"values not a list", "PUT", "/api/v1/units/1/holding-registers?address=0", `{"values":5}`, 400, "values"},
		{"unknown field", "PUT", "/api/v1/units/1/holding-registers?address=0", `{"values":[1],"unit":2}`, 400, "unit"},
		{"not JSON", "PUT", "/api/v1/units/1/holding-registers?address=0", `{"values":[1`, 400, "body"},
		{"two values", "PUT", "/api/v1/units/1/holding-registers?address=0", `{"values":[1]}{}`, 400, "body"},
		{"empty body", "PUT", "/api/v1/units/1/holding-registers?address=0", ``, 400, "body"},
		{"body a list", "PUT", "/api/v1/units/1/holding-registers?address=0", `[1,2]`, 400, "body"},
		{"body a number", "PUT", "/api/v1/units/1/holding-registers?address=0", `5`, 400, "body"},
		{"huge body", "PUT", "/api/v1/units/1/holding-registers?address=0", huge, 413, "body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := r.do(t, c.method, c.path, c.body)
			var e apiError
			mustJSON(t, body, &e)
			if code != c.code || e.Field != c.field || e.Error == "" {
				t.Errorf("%s %s = %d %s, want %d naming field %q", c.method, c.path, code, body, c.code, c.field)
			}
			if strings.Contains(e.Error, "admin.") || strings.Contains(e.Error, "Go value") {
				t.Errorf("%s %s: error %q names Go's types, not the API's", c.method, c.path, e.Error)
			}
		})
	}
	if v := r.sim.HoldingRegisters(0, 3); !reflect.DeepEqual(v, []uint16{0, 0, 0}) {
		t.Errorf("registers after refused writes = %v, want untouched", v)
	}
}

func TestTokenAndOrigin(t *testing.T) {
	r := newRig(t, Options{Token: "s3cret"}, simulator.Config{})
	put := func(hdr ...string) int {
		code, _ := r.do(t, "PUT", "/api/v1/units/1/holding-registers?address=0", `{"values":[5]}`, hdr...)
		return code
	}
	if c := put(); c != 401 {
		t.Errorf("PUT without token = %d, want 401", c)
	}
	if c := put("Authorization", "Bearer wrong"); c != 401 {
		t.Errorf("PUT with a wrong token = %d, want 401", c)
	}
	if c := put("Authorization", "s3cret"); c != 401 {
		t.Errorf("PUT with the token but not as Bearer = %d, want 401", c)
	}
	if c := put("Authorization", "Bearer s3cret", "Origin", "http://evil.example"); c != 403 {
		t.Errorf("PUT from another origin = %d, want 403", c)
	}
	if c := put("Authorization", "Bearer s3cret", "Origin", r.web.URL); c != 200 {
		t.Errorf("PUT with the token from the same origin = %d, want 200", c)
	}
	if v := r.sim.HoldingRegisters(0, 1); v[0] != 5 {
		t.Errorf("register 0 = %d after the authorised PUT, want 5", v[0])
	}
	for _, p := range []string{"/api/v1/units/1/holding-registers?address=0", "/api/v1/faults", "/api/v1/writes", "/api/v1/counters", "/metrics"} {
		if code, _ := r.do(t, "GET", p, ""); code != 200 {
			t.Errorf("GET %s without token = %d, want 200 (reads are open)", p, code)
		}
	}
	for _, op := range [][2]string{{"DELETE", "/api/v1/faults"}, {"DELETE", "/api/v1/writes"}, {"PUT", "/api/v1/faults"}, {"PUT", "/api/v1/state"}, {"PUT", "/api/v1/faults/0"}} {
		if code, _ := r.do(t, op[0], op[1], `{}`); code != 401 {
			t.Errorf("%s %s without token = %d, want 401", op[0], op[1], code)
		}
	}
}

// TestUnits: with a memory per unit, each unit reads and writes its own,
// and a unit that is not served is named.
func TestListenLoopbackDefault(t *testing.T) {
	ln, err := Listen(":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if !IsLoopback(ln.Addr()) {
		t.Errorf("Listen(\":0\") bound %v, want loopback", ln.Addr())
	}
	if _, err := Listen("8080"); err == nil || !strings.Contains(err.Error(), "host:port") {
		t.Errorf("Listen(\"8080\") = %v, want an error asking for host:port", err)
	}
	// Serve stops when its context ends.
	a, _ := New(Options{})
	srv, _ := simulator.New(simulator.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln, a.Handler(srv)) }()
	rsp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	rsp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
}

func TestPageAndAssets(t *testing.T) {
	r := newRig(t, Options{}, simulator.Config{})
	for _, c := range []struct{ path, ctype, has string }{
		{"/", "text/html", `src="assets/app.js"`}, // relative: the same page under /devices/NAME/
		{"/assets/app.js", "text/javascript", "EventSource"},
		{"/assets/style.css", "text/css", "@media"},
	} {
		rsp, err := http.Get(r.web.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		bufio.NewReader(rsp.Body).WriteTo(&b)
		rsp.Body.Close()
		if rsp.StatusCode != 200 || !strings.HasPrefix(rsp.Header.Get("Content-Type"), c.ctype) || !strings.Contains(b.String(), c.has) {
			t.Errorf("GET %s = %d %s, want %s containing %q", c.path, rsp.StatusCode, rsp.Header.Get("Content-Type"), c.ctype, c.has)
		}
		// No external assets: nothing loads from another host.
		if regexp.MustCompile(`(src|href)="(https?:)?//`).MatchString(b.String()) {
			t.Errorf("%s loads an external asset", c.path)
		}
	}
	for _, p := range []string{"/assets/nope.js", "/assets/index.html", "/nope"} {
		if code, _ := r.do(t, "GET", p, ""); code != 404 {
			t.Errorf("GET %s = %d, want 404", p, code)
		}
	}
	var names []string
	entries, _ := pageFS.ReadDir("page")
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if !reflect.DeepEqual(names, []string{"app.js", "index.html", "style.css"}) {
		t.Errorf("embedded page files = %v", names)
	}
}

// TestFaultsReplacedOutside: rules set on the server directly (a SIGHUP
// reload) are what the API lists.
// readEvent reads one server-sent event's data from a stream.
// TestEventsOutliveServerTimeouts: Serve's read and write timeouts bound
// ordinary requests but not a live event stream.
