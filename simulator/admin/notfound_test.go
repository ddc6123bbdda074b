package admin

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/plcctl/plcctl/simulator"
)

// TestMuxErrorsAreJSON: a path the API does not serve, or a method a path
// does not take, is answered with the API's JSON error body, as every
// other error; before, Go's mux answered "404 page not found" in plain
// text. Under /devices/NAME/ the error names the path the client sent.
func TestMuxErrorsAreJSON(t *testing.T) {
	r := newRig(t, Options{}, simulator.Config{})
	dr, _ := devicesRig(t, Options{})
	devs := dr.web.URL
	for _, tc := range []struct {
		name, base, method, path string
		code                     int
		want                     apiError
	}{
		{"no such path", r.web.URL, "GET", "/api/v1/nope", http.StatusNotFound,
			apiError{Error: "no such path: GET /api/v1/nope", Field: "path"}},
		{"wrong method", r.web.URL, "DELETE", "/api/v1/counters", http.StatusMethodNotAllowed,
			apiError{Error: "/api/v1/counters does not take DELETE; it takes GET, HEAD", Field: "method"}},
		{"no such device", devs, "GET", "/devices/nope/api/v1/tags", http.StatusNotFound,
			apiError{Error: "no such path: GET /devices/nope/api/v1/tags", Field: "path"}},
		{"no such path on a device", devs, "GET", "/devices/pumps/api/v1/nope", http.StatusNotFound,
			apiError{Error: "no such path: GET /devices/pumps/api/v1/nope", Field: "path"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, tc.base+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			rsp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer rsp.Body.Close()
			var got apiError
			ct := rsp.Header.Get("Content-Type")
			if err := json.NewDecoder(rsp.Body).Decode(&got); err != nil || ct != "application/json" {
				t.Fatalf("%s %s: %d, Content-Type %q, body not JSON (%v)", tc.method, tc.path, rsp.StatusCode, ct, err)
			}
			if rsp.StatusCode != tc.code || got != tc.want {
				t.Errorf("%s %s = %d %+v, want %d %+v", tc.method, tc.path, rsp.StatusCode, got, tc.code, tc.want)
			}
		})
	}
}
