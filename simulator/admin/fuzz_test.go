package admin

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/plcctl/plcctl/plant"
	"github.com/plcctl/plcctl/simulator"
)

// fuzzRoutes are the requests FuzzAPI sends a body to: method, path
// (with %s for the fuzzed path segment) and content type.
var fuzzRoutes = []struct{ method, path, ctype string }{
	{"PUT", "/api/v1/units/1/%s", "application/json"},
	{"PUT", "/api/v1/faults", "application/json"},
	{"PUT", "/api/v1/faults", "text/plain"},
	{"PUT", "/api/v1/faults/%s", "application/json"},
	{"PUT", "/api/v1/state", "application/json"},
	{"PUT", "/api/v1/tags/%s", "application/json"},
	{"GET", "/api/v1/units/1/%s", ""},
	{"GET", "/api/v1/tags/%s", ""},
}

// FuzzAPI sends any body, path segment and query to the control API's
// handlers (in process, no socket): every answer is JSON with a status
// below 500; a refusal is 4xx with an error that names a field and no Go
// type; and the API still answers afterwards.
func FuzzAPI(f *testing.F) {
	p, err := plant.Parse([]byte(testPlant), "test.yaml")
	if err != nil {
		f.Fatal(err)
	}
	srv, err := simulator.New(simulator.Config{Coils: 16, DiscreteInputs: 16, HoldingRegisters: 100, InputRegisters: 100})
	if err != nil {
		f.Fatal(err)
	}
	a, err := New(Options{Tags: p.Tags})
	if err != nil {
		f.Fatal(err)
	}
	defer a.Close()
	h := a.Handler(srv)
	seeds := []struct {
		route      uint8
		seg, query string
		body       string
	}{
		{0, "holding-registers", "address=0", `{"values":[1,2,65535]}`},
		{0, "coils", "address=15", `{"values":[true]}`},
		{0, "input-registers", "address=0x10", `{"values":[1.0,2e0]}`},
		{0, "discrete-inputs", "address=0", `{"values":[true,1]}`},
		{1, "", "", `{"rules":[{"rule":"action=delay,delay=1s","enabled":false},{"rule":"action=drop"}]}`},
		{1, "", "", `{"rules":[{"rule":"unit=1,delay=1s"}]}`},
		{2, "", "", "# rules\naction=drop,fc=3\n\naction=exception,exception=6\n"},
		{3, "0", "", `{"enabled":true}`},
		{4, "", "", `{"units":{"1":{"holding_registers":[{"address":0,"values":[1,2]}]}}}`},
		{4, "", "", `{"units":{}}`},
		{5, "setpoint", "", `{"value":-70000}`},
		{5, "label", "", `{"value":"pump"}`},
		{5, "mode/auto", "", `{"value":true}`},
		{5, "flow", "", `{"value":[1]}`},
		{6, "holding-registers", "address=90&count=10", ``},
		{7, "tank1.level", "", ``},
		{0, "holding-registers", "address=0", `[1,2]`},
		{0, "holding-registers", "address=0", `{"values":[1],"unit":2}`},
		{0, "holding-registers", "address=0", "{\"values\":[1,\n\x1b[2J]}"},
		{0, "holding-registers", "address=0", "{\"values\":[1, [2,\n3]]}"},
		{5, "setpoint", "", "{\"value\": {\n}}"},
		{0, "holding-registers", "address=0", `{"values":5}`},
		{1, "", "", `{"rules":[{"rule":5,"enabled":"yes"}]}`},
		{3, "0", "", `{"enabled":1}`},
		{4, "", "", `{"units":{"1":{"coils":[{"address":-1}]}}}`},
	}
	for _, s := range seeds {
		f.Add(s.route, s.seg, s.query, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, route uint8, seg, query string, body []byte) {
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		path := rt.path
		if strings.Contains(path, "%s") {
			path = strings.Replace(path, "%s", url.PathEscape(seg), 1)
		}
		if q, err := url.ParseQuery(query); err == nil && len(q) > 0 {
			path += "?" + q.Encode()
		}
		req := httptest.NewRequest(rt.method, path, bytes.NewReader(body))
		if rt.ctype != "" {
			req.Header.Set("Content-Type", rt.ctype)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		checkAPIAnswer(t, rt.method+" "+path, body, w)
		w = httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/counters", nil))
		if w.Code != http.StatusOK {
			t.Fatalf("GET /api/v1/counters after %s %s = %d %s", rt.method, path, w.Code, w.Body)
		}
	})
}

// goTypeWanted is an error that asks for a Go type ("want []json.RawMessage",
// "want uint16") instead of saying what JSON the API takes.
var goTypeWanted = regexp.MustCompile(`want (\[\]|\*|map\[|u?int\d*\b|float\d+|bool\b|string\b|struct)`)

func checkAPIAnswer(t *testing.T, call string, body []byte, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code >= 500 {
		t.Fatalf("%s %q = %d %s", call, body, w.Code, w.Body)
	}
	if w.Code == http.StatusNoContent || w.Body.String() == "404 page not found\n" { // no such route: the mux's own answer
		return
	}
	if (w.Code == http.StatusTemporaryRedirect || w.Code == http.StatusMovedPermanently) && w.Header().Get("Location") != "" {
		return // the mux cleaning a path with "." or "..": its own answer too
	}
	var e apiError
	if ct := w.Header().Get("Content-Type"); ct != "application/json" || !json.Valid(w.Body.Bytes()) {
		t.Fatalf("%s %q = %d, %s %q: want JSON", call, body, w.Code, ct, w.Body)
	}
	if w.Code < 400 {
		return
	}
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" || e.Field == "" {
		t.Fatalf("%s %q = %d %s: want an error naming a field", call, body, w.Code, w.Body)
	}
	if strings.Contains(e.Error, "admin.") || strings.Contains(e.Error, "Go value") || strings.Contains(e.Error, "json.") ||
		goTypeWanted.MatchString(e.Error) ||
		strings.Contains(e.Error, "\n") {
		t.Fatalf("%s %q: error %q names Go's types or spans lines", call, body, e.Error)
	}
}
