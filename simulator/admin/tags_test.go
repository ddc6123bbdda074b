package admin

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plant"
	"github.com/plcctl/plcctl/simulator"
)

const testPlant = `
version: 1
devices:
  - name: station
    address: 127.0.0.1:5020
    units:
      - id: 1
        coils: 16
        discrete_inputs: 16
        holding_registers: 100
        input_registers: 100
    tags:
      - {name: pump1.cmd, table: coil, address: 0}
      - {name: pump1.run, table: discrete_input, address: 0}
      - {name: tank1.level, table: input_register, address: 0, type: uint16, scale: 0.01, eng_unit: m}
      - {name: flow, table: input_register, address: 2, type: float32, order: CDAB}
      - {name: setpoint, table: holding_register, address: 10, type: int32}
      - {name: mode/auto, table: holding_register, address: 20, bit: 3}
      - {name: label, table: holding_register, address: 30, type: string, chars: 6}
`

func TestTags(t *testing.T) {
	p, err := plant.Parse([]byte(testPlant), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, Options{Tags: p.Tags}, simulator.Config{})
	cases := []struct{ name, put, want string }{
		{"pump1.cmd", `true`, `"value":true`},
		{"pump1.run", `"on"`, `"value":true`},
		{"tank1.level", `2.57`, `"value":2.57`},
		{"flow", `12.5`, `"value":12.5`},
		{"setpoint", `-70000`, `"value":-70000`},
		{"mode/auto", `true`, `"value":true`},
		{"label", `"pump"`, `"value":"pump"`},
	}
	for _, c := range cases {
		code, body := r.do(t, "PUT", "/api/v1/tags/"+c.name, `{"value":`+c.put+`}`)
		if code != 200 || !strings.Contains(body, c.want) {
			t.Errorf("PUT tag %s %s = %d %s, want %s", c.name, c.put, code, body, c.want)
		}
		if _, body := r.do(t, "GET", "/api/v1/tags/"+c.name, ""); !strings.Contains(body, c.want) {
			t.Errorf("GET tag %s = %s, want %s", c.name, body, c.want)
		}
	}
	// The raw memory a Modbus client sees.
	c := dialMB(t, r.sim.Addr)
	if p := c.call(1, modbus.NewReadInputRegisters(0, 1)); string(p) != "\x04\x02\x01\x01" { // 257 = 2.57 m
		t.Errorf("tank1.level raw = % X, want 257", p)
	}
	r.sim.SetHoldingRegisters(20, 0x0F00)
	r.do(t, "PUT", "/api/v1/tags/mode/auto", `{"value":true}`)
	if v := r.sim.HoldingRegisters(20, 1)[0]; v != 0x0F08 {
		t.Errorf("register 20 after setting bit 3 = %#04x, want 0x0f08 (other bits kept)", v)
	}
	_, body := r.do(t, "GET", "/api/v1/tags", "")
	if strings.Count(body, `"name":`) != len(p.Tags) || !strings.Contains(body, `"eng_unit":"m"`) {
		t.Errorf("GET tags = %s", body)
	}
	bad := []struct{ name, body string }{
		{"tank1.level", `{"value":2.575}`}, // between two raw steps
		{"tank1.level", `{"value":1000}`},  // raw 100000 does not fit uint16
		{"pump1.cmd", `{"value":2}`},       // not a bool
		{"label", `{"value":"too long!"}`}, // more than 6 chars
		{"setpoint", `{"value":[1]}`},      // a list
		{"setpoint", `{}`},                 // missing
		{"setpoint", `{"value":"twelve"}`}, // not a number
	}
	for _, b := range bad {
		code, body := r.do(t, "PUT", "/api/v1/tags/"+b.name, b.body)
		var e apiError
		mustJSON(t, body, &e)
		if code != 400 || e.Field != "value" {
			t.Errorf("PUT tag %s %s = %d %s, want 400 naming value", b.name, b.body, code, body)
		}
	}
	if code, body := r.do(t, "GET", "/api/v1/tags/nope", ""); code != 404 || !strings.Contains(body, `"field":"name"`) {
		t.Errorf("GET unknown tag = %d %s", code, body)
	}
}

func TestNoTags(t *testing.T) {
	r := newRig(t, Options{}, simulator.Config{})
	if _, body := r.do(t, "GET", "/api/v1/tags", ""); strings.TrimSpace(body) != `{"tags":[]}` {
		t.Errorf("GET tags without a plant = %s", body)
	}
	if code, body := r.do(t, "GET", "/api/v1/tags/x", ""); code != 404 || !strings.Contains(body, "no plant") {
		t.Errorf("GET tag without a plant = %d %s", code, body)
	}
}

// TestTagsHexBitsNumber: GET gives a hex or bits tag's value as a JSON
// number (its text form in "text"); PUT of that number must write that
// number. It was read as digits of the tag's base: {"value":4660} wrote
// 0x4660 to a hex tag, {"value":5} refused for a bits tag, so a value read
// and put back changed the register. A string keeps plcctl set's meaning
// ("1234" is hex digits for a hex tag).
func TestTagsHexBitsNumber(t *testing.T) {
	p, err := plant.Parse([]byte(`
version: 1
devices:
  - name: station
    address: 127.0.0.1:5020
    units: [{id: 1, holding_registers: 10}]
    tags:
      - {name: word, table: holding_register, address: 0, type: hex}
      - {name: flags, table: holding_register, address: 1, type: bits}
`), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, Options{Tags: p.Tags}, simulator.Config{})
	cases := []struct {
		name, put string
		addr      uint16
		want      uint16
	}{
		{"word", `4660`, 0, 0x1234},
		{"word", `"0x00FF"`, 0, 0x00FF},
		{"word", `"1234"`, 0, 0x1234}, // a string: hex digits, as plcctl set takes them
		{"flags", `5`, 1, 5},
		{"flags", `"101"`, 1, 5},
		{"flags", `65535`, 1, 0xFFFF},
	}
	for _, c := range cases {
		code, body := r.do(t, "PUT", "/api/v1/tags/"+c.name, `{"value":`+c.put+`}`)
		if got := r.sim.HoldingRegisters(c.addr, 1)[0]; code != 200 || got != c.want {
			t.Errorf("PUT tag %s %s = %d %s; register %d = %#04x, want %#04x", c.name, c.put, code, body, c.addr, got, c.want)
		}
	}
	// What GET says, PUT back, leaves the register as it was.
	r.sim.SetHoldingRegisters(0, 0xBEEF)
	var got struct{ Value any }
	_, body := r.do(t, "GET", "/api/v1/tags/word", "")
	mustJSON(t, body, &got)
	back, _ := json.Marshal(got.Value)
	if code, body := r.do(t, "PUT", "/api/v1/tags/word", `{"value":`+string(back)+`}`); code != 200 {
		t.Fatalf("PUT back %s = %d %s", back, code, body)
	}
	if v := r.sim.HoldingRegisters(0, 1)[0]; v != 0xBEEF {
		t.Errorf("register 0 after putting back GET's value %v = %#04x, want 0xbeef", got.Value, v)
	}
	for _, bad := range []string{`-1`, `1.5`, `65536`} {
		code, body := r.do(t, "PUT", "/api/v1/tags/word", `{"value":`+bad+`}`)
		if code != 400 || !strings.Contains(body, `"field":"value"`) {
			t.Errorf("PUT tag word %s = %d %s, want 400 naming value", bad, code, body)
		}
	}
}
