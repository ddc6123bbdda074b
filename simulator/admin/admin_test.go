package admin

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
)

// TestOpenAPIMatchesRoutes checks the committed document against the mux:
// every documented operation reaches the handler registered for it, and
// every handler is documented.
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
	mux := a.Handler(srv).(*http.ServeMux)
	served := map[string]bool{}
	param := regexp.MustCompile(`\{[a-z]+\}`)
	patterns := map[string]string{}
	for _, r := range a.routes() {
		op := r.method + " " + openapiPath(r.path)
		served[op] = true
		patterns[op] = muxPattern(r.method, r.path)
	}
	for op := range documented {
		method, path, _ := strings.Cut(op, " ")
		if !served[op] {
			t.Errorf("%s is documented but has no route", op)
			continue
		}
		req := httptest.NewRequest(method, param.ReplaceAllString(path, "1"), nil)
		if _, pattern := mux.Handler(req); pattern != patterns[op] {
			t.Errorf("%s %s reaches mux pattern %q, want %q", method, req.URL.Path, pattern, patterns[op])
		}
	}
	for op := range served {
		if !documented[op] {
			t.Errorf("route %s is not in openapi.json", op)
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

func TestJournal(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := newRig(t, Options{Journal: f, JournalSize: 4}, simulator.Config{})
	c := dialMB(t, r.sim.Addr)
	c.call(1, &modbus.WriteSingleRegister{Address: 100, Value: 42})
	c.call(1, modbus.NewReadHoldingRegisters(100, 1)) // a read: not journaled
	c.call(2, modbus.NewWriteMultipleRegisters(99, []uint16{7, 8, 9}))
	c.call(1, modbus.NewWriteSingleCoil(3, true))
	c.call(1, &modbus.WriteSingleRegister{Address: 60000 % 65536, Value: 1})

	var got struct {
		Writes  []Entry `json:"writes"`
		LastSeq uint64  `json:"last_seq"`
		Gap     bool    `json:"gap"`
	}
	code, body := r.do(t, "GET", "/api/v1/writes?address=100&fc=6", "")
	if code != 200 {
		t.Fatalf("GET writes = %d %s", code, body)
	}
	mustJSON(t, body, &got)
	if len(got.Writes) != 1 || got.Writes[0].Unit != 1 || got.Writes[0].Address != 100 || got.Writes[0].Remote != c.nc.LocalAddr().String() ||
		!reflect.DeepEqual(got.Writes[0].Values, []any{42.0}) || got.Writes[0].Time.IsZero() {
		t.Fatalf("writes to 100 by FC 6 = %s, want one entry of 42 from %s", body, c.nc.LocalAddr())
	}
	// Address 100 was also written by the FC 16 of unit 2 (99..101).
	_, body = r.do(t, "GET", "/api/v1/writes?address=100", "")
	mustJSON(t, body, &got)
	if len(got.Writes) != 2 || got.Writes[1].FC != 16 || got.Writes[1].Unit != 2 {
		t.Errorf("writes covering 100 = %s, want the FC 6 and the FC 16", body)
	}
	_, body = r.do(t, "GET", "/api/v1/writes?fc=5", "")
	mustJSON(t, body, &got)
	if len(got.Writes) != 1 || !reflect.DeepEqual(got.Writes[0].Values, []any{true}) {
		t.Errorf("FC 5 writes = %s, want one of true", body)
	}
	// Five writes, four kept: the first has left the ring.
	for i := 0; i < 2; i++ {
		c.call(1, &modbus.WriteSingleRegister{Address: 1, Value: uint16(i)})
	}
	_, body = r.do(t, "GET", "/api/v1/writes", "")
	mustJSON(t, body, &got)
	if len(got.Writes) != 4 || got.Writes[0].Seq != 3 || got.LastSeq != 6 || !got.Gap {
		t.Errorf("ring of 4 after 6 writes = %s, want seq 3..6 and a gap", body)
	}
	_, body = r.do(t, "GET", "/api/v1/writes?since=4", "")
	mustJSON(t, body, &got)
	if len(got.Writes) != 2 || got.Writes[0].Seq != 5 || got.Gap {
		t.Errorf("since=4 = %s, want seq 5 and 6, no gap", body)
	}
	for _, bad := range []string{"?unit=300", "?fc=x", "?address=-1", "?since=abc", "?limit=1e9"} {
		code, body := r.do(t, "GET", "/api/v1/writes"+bad, "")
		var e apiError
		mustJSON(t, body, &e)
		if code != 400 || e.Field == "" || !strings.Contains(bad, e.Field) {
			t.Errorf("GET writes%s = %d %s, want 400 naming the field", bad, code, body)
		}
	}
	if code, _ := r.do(t, "DELETE", "/api/v1/writes", ""); code != 204 {
		t.Errorf("DELETE writes = %d", code)
	}
	_, body = r.do(t, "GET", "/api/v1/writes", "")
	mustJSON(t, body, &got)
	if len(got.Writes) != 0 || got.Gap {
		t.Errorf("after DELETE = %s, want empty", body)
	}
	c.call(1, &modbus.WriteSingleRegister{Address: 2, Value: 9})
	_, body = r.do(t, "GET", "/api/v1/writes", "")
	mustJSON(t, body, &got)
	if len(got.Writes) != 1 || got.Writes[0].Seq != 7 {
		t.Errorf("after DELETE and a write = %s, want seq 7", body)
	}

	// The file has every entry, one JSON object a line.
	r.a.Close()
	f.Seek(0, 0)
	sc := bufio.NewScanner(f)
	var seqs []uint64
	for sc.Scan() {
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("journal line %q: %v", sc.Text(), err)
		}
		seqs = append(seqs, e.Seq)
	}
	if !reflect.DeepEqual(seqs, []uint64{1, 2, 3, 4, 5, 6, 7}) {
		t.Errorf("journal file seqs = %v, want 1..7", seqs)
	}
}

func TestFaultsAPI(t *testing.T) {
	r := newRig(t, Options{}, simulator.Config{Faults: []simulator.FaultRule{{Action: simulator.FaultDelay, Delay: time.Millisecond, Function: 4}}})
	var got struct{ Rules []faultJSON }
	_, body := r.do(t, "GET", "/api/v1/faults", "")
	mustJSON(t, body, &got)
	if len(got.Rules) != 1 || got.Rules[0].Rule != "action=delay,fc=4,delay=1ms" || !got.Rules[0].Enabled {
		t.Fatalf("initial rules = %s", body)
	}
	// Text: one --fault rule a line.
	code, body := r.do(t, "PUT", "/api/v1/faults", "", "Content-Type", "text/plain")
	_ = body
	req, _ := http.NewRequest("PUT", r.web.URL+"/api/v1/faults", strings.NewReader("# exceptions for reads\naction=exception,exception=4,fc=3\n\naction=drop,fc=6,count=1\n"))
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	rsp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rsp.Body.Close()
	if rsp.StatusCode != 200 || code != 200 {
		t.Fatalf("PUT text rules = %d (empty text %d)", rsp.StatusCode, code)
	}
	c := dialMB(t, r.sim.Addr)
	if p := c.call(1, modbus.NewReadHoldingRegisters(0, 1)); string(p) != "\x83\x04" {
		t.Errorf("FC 3 under the exception rule = % X, want 83 04", p)
	}
	// Switch rule 0 off: normal service on the wire.
	if code, body := r.do(t, "PUT", "/api/v1/faults/0", `{"enabled":false}`); code != 200 || !strings.Contains(body, `"enabled":false`) {
		t.Fatalf("PUT faults/0 = %d %s", code, body)
	}
	if p := c.call(1, modbus.NewReadHoldingRegisters(0, 1)); p[0] != 3 {
		t.Errorf("FC 3 with the rule off = % X, want a normal answer", p)
	}
	_, body = r.do(t, "GET", "/api/v1/faults", "")
	mustJSON(t, body, &got)
	want := []faultJSON{{0, "action=exception,fc=3,exception=4", false}, {1, "action=drop,fc=6,count=1", true}}
	if !reflect.DeepEqual(got.Rules, want) {
		t.Errorf("rules = %+v, want %+v", got.Rules, want)
	}
	// JSON, with a switch.
	if code, body := r.do(t, "PUT", "/api/v1/faults", `{"rules":[{"rule":"action=exception,exception=6"},{"rule":"action=drop","enabled":false}]}`); code != 200 {
		t.Fatalf("PUT JSON rules = %d %s", code, body)
	}
	if p := c.call(1, modbus.NewReadHoldingRegisters(0, 1)); string(p) != "\x83\x06" {
		t.Errorf("FC 3 under exception=6 = % X", p)
	}
	bad := []struct{ name, method, path, body, field string }{
		{"bad rule", "PUT", "/api/v1/faults", `{"rules":[{"rule":"action=drop"},{"rule":"action=explode"}]}`, "rules[1].rule"},
		{"no rules", "PUT", "/api/v1/faults", `{}`, "rules"},
		{"enabled missing", "PUT", "/api/v1/faults/0", `{}`, "enabled"},
		{"enabled not bool", "PUT", "/api/v1/faults/0", `{"enabled":"no"}`, "enabled"},
		{"no such rule", "PUT", "/api/v1/faults/7", `{"enabled":true}`, "index"},
	}
	for _, b := range bad {
		code, body := r.do(t, b.method, b.path, b.body)
		var e apiError
		mustJSON(t, body, &e)
		if code/100 != 4 || e.Field != b.field {
			t.Errorf("%s: %s %s = %d %s, want 4xx naming %q", b.name, b.method, b.path, code, body, b.field)
		}
	}
	req, _ = http.NewRequest("PUT", r.web.URL+"/api/v1/faults", strings.NewReader("action=drop\naction=delay\n"))
	req.Header.Set("Content-Type", "text/plain")
	rsp, _ = http.DefaultClient.Do(req)
	var e apiError
	json.NewDecoder(rsp.Body).Decode(&e)
	rsp.Body.Close()
	if rsp.StatusCode != 400 || e.Field != "line 2" {
		t.Errorf("text rule without delay = %d %+v, want 400 naming line 2", rsp.StatusCode, e)
	}
	if code, _ := r.do(t, "DELETE", "/api/v1/faults", ""); code != 204 {
		t.Errorf("DELETE faults = %d", code)
	}
	if p := c.call(1, modbus.NewReadHoldingRegisters(0, 1)); p[0] != 3 {
		t.Errorf("FC 3 after DELETE = % X, want a normal answer", p)
	}
}

func TestState(t *testing.T) {
	r := newRig(t, Options{}, simulator.Config{})
	r.sim.SetHoldingRegisters(10, 1, 2, 0, 3)
	r.sim.SetHoldingRegisters(65535, 9)
	r.sim.SetCoils(0, true, true)
	r.sim.SetInputRegisters(5, 77)
	_, snap := r.do(t, "GET", "/api/v1/state", "")
	var got simulator.ServerSnapshot
	mustJSON(t, snap, &got)
	if want := r.sim.Snapshot(); !reflect.DeepEqual(got, want) {
		t.Fatalf("state = %s, want %+v", snap, want)
	}
	r.sim.SetHoldingRegisters(10, 5, 5, 5, 5, 5)
	r.sim.SetDiscreteInputs(9, true)
	if code, body := r.do(t, "PUT", "/api/v1/state", snap); code != 200 || body != snap {
		t.Fatalf("PUT state = %d %s, want the snapshot back", code, body)
	}
	if v := r.sim.HoldingRegisters(10, 5); !reflect.DeepEqual(v, []uint16{1, 2, 0, 3, 0}) {
		t.Errorf("registers after restore = %v", v)
	}
	if v := r.sim.DiscreteInputs(9, 1); v[0] {
		t.Error("discrete input 9 still set after restore")
	}
	for _, bad := range []struct{ body, field string }{
		{`{"units":{"default":{"holding_registers":[{"address":65535,"values":[1,2]}]}}}`, "units"},
		{`{"units":{"7":{}}}`, "units"},
		{`{"units":{"default":{"coils":[{"address":0,"values":[2]}]}}}`, "units.coils.values"},
		{`{}`, "units"},
	} {
		code, body := r.do(t, "PUT", "/api/v1/state", bad.body)
		var e apiError
		mustJSON(t, body, &e)
		if code != 400 || e.Field != bad.field {
			t.Errorf("restore %s = %d %s, want 400 naming %s", bad.body, code, body, bad.field)
		}
	}
	if v := r.sim.HoldingRegisters(10, 2); !reflect.DeepEqual(v, []uint16{1, 2}) {
		t.Errorf("a refused restore changed the registers: %v", v)
	}
}

// TestUnits: with a memory per unit, each unit reads and writes its own,
// and a unit that is not served is named.
func TestUnits(t *testing.T) {
	r := newRig(t, Options{}, simulator.Config{UnitIDs: []uint8{1, 2}})
	r.do(t, "PUT", "/api/v1/units/2/holding-registers?address=0", `{"values":[22]}`)
	if _, body := r.do(t, "GET", "/api/v1/units/1/holding-registers?address=0", ""); !strings.Contains(body, `"values":[0]`) {
		t.Errorf("unit 1 = %s, want its own 0", body)
	}
	c := dialMB(t, r.sim.Addr)
	if p := c.call(2, modbus.NewReadHoldingRegisters(0, 1)); string(p) != "\x03\x02\x00\x16" {
		t.Errorf("unit 2 over Modbus = % X, want 22", p)
	}
	code, body := r.do(t, "GET", "/api/v1/units/3/holding-registers?address=0", "")
	var e apiError
	mustJSON(t, body, &e)
	if code != 400 || e.Field != "unit" || !strings.Contains(e.Error, "not served") {
		t.Errorf("unit 3 = %d %s, want 400 naming unit", code, body)
	}
}

func TestCounters(t *testing.T) {
	r := newRig(t, Options{}, simulator.Config{})
	c := dialMB(t, r.sim.Addr)
	c.call(1, modbus.NewReadHoldingRegisters(0, 1))
	c.call(1, &modbus.WriteSingleRegister{Address: 0, Value: 1})
	var got counters
	_, body := r.do(t, "GET", "/api/v1/counters", "")
	mustJSON(t, body, &got)
	if got.Requests != 2 || got.Writes != 1 || got.Conns != 1 || got.Accepted != 1 {
		t.Errorf("counters = %s, want 2 requests, 1 write, 1 connection", body)
	}
}

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
		{"/", "text/html", `src="/assets/app.js"`},
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

func TestReboot(t *testing.T) {
	r := newRig(t, Options{}, simulator.Config{})
	c := dialMB(t, r.sim.Addr)
	c.call(1, modbus.NewReadHoldingRegisters(0, 1))
	for _, bad := range []string{`{}`, `{"for":"soon"}`, `{"for":"-1s"}`, `{"for":"2h"}`, `{"for":2}`} {
		code, body := r.do(t, "POST", "/api/v1/reboot", bad)
		var e apiError
		mustJSON(t, body, &e)
		if code != 400 || e.Field != "for" {
			t.Errorf("POST reboot %s = %d %s, want 400 naming for", bad, code, body)
		}
	}
	if code, body := r.do(t, "POST", "/api/v1/reboot", `{"for":"50ms"}`); code != 202 {
		t.Fatalf("POST reboot = %d %s", code, body)
	}
	c.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.nc.Read(make([]byte, 1)); err == nil {
		t.Fatal("connection still open after a reboot")
	}
	waitFor(t, 2*time.Second, "the reset in the metrics", func() bool {
		return scrape(t, r)[`plcsim_resets_total{reason="reboot"}`] == 1
	})
}

// TestFaultsReplacedOutside: rules set on the server directly (a SIGHUP
// reload) are what the API lists.
func TestFaultsReplacedOutside(t *testing.T) {
	r := newRig(t, Options{}, simulator.Config{})
	r.do(t, "PUT", "/api/v1/faults", `{"rules":[{"rule":"action=drop","enabled":false}]}`)
	r.sim.SetFaults(simulator.FaultRule{Action: simulator.FaultDuplicate, Count: 2})
	_, body := r.do(t, "GET", "/api/v1/faults", "")
	if !strings.Contains(body, `"rule":"action=duplicate,count=2","enabled":true`) || strings.Contains(body, "drop") {
		t.Errorf("rules after an outside replace = %s", body)
	}
}

// readEvent reads one server-sent event's data from a stream.
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

// TestEventsOutliveServerTimeouts: Serve's read and write timeouts bound
// ordinary requests but not a live event stream.
func TestEventsOutliveServerTimeouts(t *testing.T) {
	a, _ := New(Options{EventInterval: 10 * time.Millisecond})
	a.limits.header, a.limits.body = 100*time.Millisecond, 100*time.Millisecond
	srv, _ := simulator.New(simulator.Config{Listen: "127.0.0.1:0"})
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln, a.Handler(srv)) }()
	defer func() { cancel(); <-done }()
	rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer rcancel()
	req, _ := http.NewRequestWithContext(rctx, "GET", "http://"+ln.Addr().String()+"/api/v1/events?unit=1&table=coils&address=0&count=1", nil)
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
