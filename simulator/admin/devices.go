package admin

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/plcctl/plcctl/simulator"
)

// Device is one device of a plant, served with the others on one HTTP
// listener by DevicesHandler: its name, its Admin (installed as the
// server's Observer) and its server.
type Device struct {
	Name   string
	Admin  *Admin
	Server *simulator.Server
	// Addr is the Modbus address listed for the device when its server
	// does not serve yet (a listener bound before Serve); "" waits for
	// Server.Addr.
	Addr string
}

// validDeviceName reports whether name can be a path under /devices/: a
// plant file's name (letters, digits, _ . - /, not starting with a digit)
// whose /-separated parts are neither empty nor . or .., so that the path
// needs no escaping and no cleaning.
func validDeviceName(name string) bool {
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		return false
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" || part == "." || part == ".." {
			return false
		}
		for _, c := range part {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
				return false
			}
		}
	}
	return true
}

// DevicesHandler serves the control planes of several devices on one
// listener. Each device's whole API, live page and metrics are under
// /devices/NAME/ (/devices/NAME/api/v1/..., as Handler serves one device
// at /). At the top: a page linking every device's page (/), the devices
// as JSON (GET /api/v1/devices), every device's series with a device
// label (/metrics), /healthz, and /readyz (200 once every device listens).
// Call it once; it calls each Admin's Handler.
func DevicesHandler(devs []Device) (http.Handler, error) {
	if len(devs) == 0 {
		return nil, fmt.Errorf("admin: no device to serve")
	}
	mux := http.NewServeMux()
	reg := prometheus.NewRegistry()
	seen := map[string]bool{}
	for _, d := range devs {
		if !validDeviceName(d.Name) {
			return nil, fmt.Errorf("admin: device name %q cannot be a URL path: want letters, digits and _ . - / with no empty, . or .. part", d.Name)
		}
		if seen[d.Name] {
			return nil, fmt.Errorf("admin: device %q given twice", d.Name)
		}
		seen[d.Name] = true
		prefix := "/devices/" + d.Name
		mux.Handle(prefix+"/", http.StripPrefix(prefix, d.Admin.Handler(d.Server)))
		if err := prometheus.WrapRegistererWith(prometheus.Labels{"device": d.Name}, reg).Register(collectorList(d.Admin.metrics.collectors())); err != nil {
			return nil, fmt.Errorf("admin: metrics of device %q: %w", d.Name, err)
		}
	}
	for _, r := range topRoutes(devs, reg) {
		mux.HandleFunc(muxPattern(r.method, r.path), r.h)
	}
	return jsonMux{mux}, nil
}

// topRoutes are the routes at the root of DevicesHandler, beside each
// device's under /devices/NAME/; like routes, the table builds the mux and
// is checked against openapi.json. None changes state.
func topRoutes(devs []Device, reg *prometheus.Registry) []route {
	return []route{
		{"GET", "/", false, func(w http.ResponseWriter, r *http.Request) {
			pageHeaders(w, "text/html; charset=utf-8")
			if err := indexPage.Execute(w, deviceList(devs)); err != nil {
				writeError(w, http.StatusInternalServerError, "", err.Error())
			}
		}},
		{"GET", "/api/v1/devices", false, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, deviceList(devs))
		}},
		{"GET", "/metrics", false, promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}).ServeHTTP},
		{"GET", "/healthz", false, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]string{"status": "serving"})
		}},
		{"GET", "/readyz", false, func(w http.ResponseWriter, r *http.Request) {
			addrs := map[string]string{}
			for _, d := range devs {
				a := d.Server.Addr()
				if a == nil {
					writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "device " + d.Name + " not listening yet"})
					return
				}
				addrs[d.Name] = a.String()
			}
			writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "modbus": addrs})
		}},
	}
}

// collectorList registers several collectors as one (a wrapped
// registerer takes one at a time).
type collectorList []prometheus.Collector

func (l collectorList) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range l {
		c.Describe(ch)
	}
}

func (l collectorList) Collect(ch chan<- prometheus.Metric) {
	for _, c := range l {
		c.Collect(ch)
	}
}

// deviceInfo is one device in GET /api/v1/devices and on the index page.
type deviceInfo struct {
	Name   string `json:"name"`
	Modbus string `json:"modbus"` // the listening address; "" before it listens
	Tags   int    `json:"tags"`
	Page   string `json:"page"` // the device's live page
	API    string `json:"api"`  // the device's API root
}

func deviceList(devs []Device) []deviceInfo {
	out := make([]deviceInfo, len(devs))
	for i, d := range devs {
		out[i] = deviceInfo{Name: d.Name, Tags: len(d.Admin.opts.Tags), Page: "/devices/" + d.Name + "/", API: "/devices/" + d.Name + "/api/v1/"}
		if a := d.Server.Addr(); a != nil {
			out[i].Modbus = a.String()
		} else {
			out[i].Modbus = d.Addr
		}
	}
	return out
}

var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>plcsim: devices</title>
<link rel="stylesheet" href="/devices/{{(index . 0).Name}}/assets/style.css">
</head>
<body>
<h1>plcsim: {{len .}} devices</h1>
<table>
<thead><tr><th>device</th><th>Modbus address</th><th>tags</th><th>API</th></tr></thead>
<tbody>
{{range .}}<tr><td><a href="{{.Page}}">{{.Name}}</a></td><td>{{.Modbus}}</td><td>{{.Tags}}</td><td><a href="{{.API}}counters">{{.API}}</a></td></tr>
{{end}}</tbody>
</table>
<p><a href="/metrics">/metrics</a> (every device's series, labelled device="NAME") · <a href="/api/v1/devices">/api/v1/devices</a></p>
</body>
</html>
`))
