package admin

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
)

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

func TestFaultsReplacedOutside(t *testing.T) {
	r := newRig(t, Options{}, simulator.Config{})
	r.do(t, "PUT", "/api/v1/faults", `{"rules":[{"rule":"action=drop","enabled":false}]}`)
	r.sim.SetFaults(simulator.FaultRule{Action: simulator.FaultDuplicate, Count: 2})
	_, body := r.do(t, "GET", "/api/v1/faults", "")
	if !strings.Contains(body, `"rule":"action=duplicate,count=2","enabled":true`) || strings.Contains(body, "drop") {
		t.Errorf("rules after an outside replace = %s", body)
	}
}

// TestFaultsFormBody: rule lines sent as curl -d sends them (a form's
// content type) are refused saying that lines go with text/plain; the
// answer said only "not valid JSON at byte 1".
func TestFaultsFormBody(t *testing.T) {
	r := newRig(t, Options{}, simulator.Config{})
	code, body := r.do(t, "PUT", "/api/v1/faults", "action=drop,fc=6", "Content-Type", "application/x-www-form-urlencoded")
	const want = `(rules one a line, as --fault-file has them, go with Content-Type: text/plain, not \"application/x-www-form-urlencoded\")`
	if code != http.StatusBadRequest || !strings.Contains(body, want) || !strings.Contains(body, "not valid JSON at byte 1") {
		t.Errorf("PUT rule lines as a form = %d %s, want 400 saying %s", code, body, want)
	}
}
