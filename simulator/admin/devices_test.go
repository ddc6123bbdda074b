package admin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plant"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// devicesRig is two simulators, "pumps" and "tank/farm", with their
// control planes on one DevicesHandler.
func devicesRig(t *testing.T, opts Options) (*rig, []*simtest.Server) {
	t.Helper()
	p, err := plant.Parse([]byte(`
version: 1
devices:
  - name: pumps
    tags: [{name: level, table: holding_register, address: 0}]
  - name: tank/farm
    tags: [{name: level2, table: holding_register, address: 0}, {name: run, table: coil, address: 1}]
`), "two.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var devs []Device
	var sims []*simtest.Server
	for _, d := range p.Devices {
		o := opts
		o.Tags = d.Tags
		a, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		sim := simtest.Start(t, simulator.Config{HoldingRegisters: 100, Coils: 10, Observer: a})
		devs = append(devs, Device{Name: d.Name, Admin: a, Server: sim.Server})
		sims = append(sims, sim)
	}
	h, err := DevicesHandler(devs)
	if err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(h)
	t.Cleanup(web.Close)
	return &rig{web: web}, sims
}

// TestDevicesHandler: each device's API is under /devices/NAME/ and reaches
// that device only; the token guards changes there too; /metrics labels
// each device's series; the index, the device list and /readyz name both.
func TestDevicesHandler(t *testing.T) {
	r, sims := devicesRig(t, Options{Token: "s3cret"})
	sims[0].SetHoldingRegisters(0, 11)
	sims[1].SetHoldingRegisters(0, 22)
	for _, tc := range []struct{ path, want string }{
		{"/devices/pumps/api/v1/units/1/holding-registers?address=0&count=1", `"values":[11]`},
		{"/devices/tank/farm/api/v1/units/1/holding-registers?address=0&count=1", `"values":[22]`},
		{"/devices/pumps/api/v1/tags", `"name":"level"`},
		{"/devices/tank/farm/api/v1/tags/level2", `"value":22`},
		{"/api/v1/devices", `{"name":"tank/farm","modbus":"` + sims[1].Addr + `","tags":2,"page":"/devices/tank/farm/","api":"/devices/tank/farm/api/v1/"}`},
		{"/readyz", `"tank/farm":"` + sims[1].Addr + `"`},
		{"/", `<a href="/devices/tank/farm/">tank/farm</a>`},
		{"/devices/tank/farm/", `src="assets/app.js"`},
		{"/devices/tank/farm/assets/app.js", "EventSource"},
	} {
		if code, body := r.do(t, "GET", tc.path, ""); code != 200 || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s = %d %s, want 200 with %s", tc.path, code, body, tc.want)
		}
	}
	if code, body := r.do(t, "GET", "/devices/tank/farm/api/v1/tags", ""); strings.Contains(body, `"name":"level"`) || code != 200 {
		t.Errorf("tank/farm's tags = %d %s: has pumps' tag", code, body)
	}
	put := "/devices/tank/farm/api/v1/units/1/holding-registers?address=0"
	if code, _ := r.do(t, "PUT", put, `{"values":[33]}`); code != http.StatusUnauthorized {
		t.Errorf("PUT without the token = %d, want 401", code)
	}
	if code, body := r.do(t, "PUT", put, `{"values":[33]}`, "Authorization", "Bearer s3cret"); code != 200 {
		t.Fatalf("PUT = %d %s", code, body)
	}
	if a, b := sims[0].HoldingRegisters(0, 1)[0], sims[1].HoldingRegisters(0, 1)[0]; a != 11 || b != 33 {
		t.Errorf("after PUT on tank/farm: pumps %d, tank/farm %d; want 11 and 33", a, b)
	}
	for _, p := range []string{"/devices/nope/api/v1/tags", "/devices/", "/api/v1/tags"} {
		if code, _ := r.do(t, "GET", p, ""); code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, code)
		}
	}
	c := dialMB(t, sims[0].Addr)
	for range 3 {
		c.call(1, modbus.NewReadHoldingRegisters(0, 1))
	}
	m := scrape(t, r)
	if got := m[`plcsim_requests_total{device="pumps",fc="3",unit="1"}`]; got != 3 {
		t.Errorf(`plcsim_requests_total{device="pumps",fc="3",unit="1"} = %v, want 3`, got)
	}
	if _, ok := m[`plcsim_requests_total{device="tank/farm",fc="3",unit="1"}`]; ok {
		t.Error("tank/farm counts pumps' requests")
	}
	if _, ok := m[`plcsim_connections{device="tank/farm"}`]; !ok {
		t.Errorf("no plcsim_connections series for tank/farm in %v", m)
	}
}

func TestDevicesHandlerNames(t *testing.T) {
	a, _ := New(Options{})
	defer a.Close()
	sim := simtest.Start(t, simulator.Config{Observer: a})
	for _, tc := range []struct {
		names []string
		want  string
	}{
		{nil, "no device"},
		{[]string{"a", "a"}, `device "a" given twice`},
		{[]string{"a//b"}, `"a//b" cannot be a URL path`},
		{[]string{"a/.."}, `"a/.." cannot be a URL path`},
		{[]string{"a/"}, `"a/" cannot be a URL path`},
		{[]string{"1a"}, `"1a" cannot be a URL path`},
		{[]string{"a b"}, `"a b" cannot be a URL path`},
	} {
		var devs []Device
		for _, n := range tc.names {
			devs = append(devs, Device{Name: n, Admin: a, Server: sim.Server})
		}
		if _, err := DevicesHandler(devs); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("DevicesHandler(%q) = %v, want %q", tc.names, err, tc.want)
		}
	}
}

// TestDevicesHandlerNotServing: a device whose server does not serve yet
// is listed with the address given (its bound listener's) and /readyz is
// 503 until every device serves.
func TestDevicesHandlerNotServing(t *testing.T) {
	a, _ := New(Options{})
	defer a.Close()
	b, _ := New(Options{})
	defer b.Close()
	serving := simtest.Start(t, simulator.Config{Observer: a})
	idle, err := simulator.New(simulator.Config{Observer: b})
	if err != nil {
		t.Fatal(err)
	}
	h, err := DevicesHandler([]Device{{Name: "a", Admin: a, Server: serving.Server}, {Name: "b", Admin: b, Server: idle, Addr: "127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(h)
	defer web.Close()
	r := &rig{web: web}
	if code, body := r.do(t, "GET", "/api/v1/devices", ""); code != 200 || !strings.Contains(body, `"name":"b","modbus":"127.0.0.1:1"`) {
		t.Errorf("GET /api/v1/devices = %d %s, want b at 127.0.0.1:1", code, body)
	}
	if code, body := r.do(t, "GET", "/readyz", ""); code != http.StatusServiceUnavailable || !strings.Contains(body, "device b not listening yet") {
		t.Errorf("GET /readyz = %d %s, want 503 naming b", code, body)
	}
}

// TestDevicesSchema: every device GET /api/v1/devices lists has exactly
// the keys of openapi.json's Device schema, its required ones included.
func TestDevicesSchema(t *testing.T) {
	r, _ := devicesRig(t, Options{})
	code, body := r.do(t, "GET", "/api/v1/devices", "")
	var got []map[string]any
	mustJSON(t, body, &got)
	if code != 200 || len(got) != 2 {
		t.Fatalf("GET /api/v1/devices = %d %s, want 200 and two devices", code, body)
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Required   []string                   `json:"required"`
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openapiJSON, &doc); err != nil {
		t.Fatal(err)
	}
	schema, ok := doc.Components.Schemas["Device"]
	if !ok {
		t.Fatal("openapi.json has no Device schema")
	}
	for _, d := range got {
		for k := range d {
			if _, ok := schema.Properties[k]; !ok {
				t.Errorf("GET /api/v1/devices sends key %q, which the Device schema does not name", k)
			}
		}
		for _, k := range schema.Required {
			if _, ok := d[k]; !ok {
				t.Errorf("GET /api/v1/devices: device %v has no %q, which the Device schema requires", d, k)
			}
		}
	}
}
