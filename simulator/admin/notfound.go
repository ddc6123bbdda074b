package admin

import (
	"net/http"
	"strings"
)

// jsonMux answers what the mux itself answers (no such path: 404; a path
// served for other methods: 405 with Allow) in the API's JSON error body,
// not Go's plain-text "404 page not found": a client of a JSON API reads
// every error the same way. The mux's own redirects (a path with "." or
// "..", a missing slash) pass unchanged.
type jsonMux struct{ mux *http.ServeMux }

func (m jsonMux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := m.mux.Handler(r); pattern != "" {
		m.mux.ServeHTTP(w, r)
		return
	}
	m.mux.ServeHTTP(&muxErrorWriter{ResponseWriter: w, r: r}, r)
}

// muxErrorWriter turns the mux's plain-text 404 or 405 into a JSON error
// and drops the text that follows.
type muxErrorWriter struct {
	http.ResponseWriter
	r        *http.Request
	replaced bool
}

func (w *muxErrorWriter) WriteHeader(code int) {
	plain := strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain")
	switch {
	case plain && code == http.StatusNotFound:
		w.replaced = true
		w.Header().Del("X-Content-Type-Options")
		writeError(w.ResponseWriter, code, "path", "no such path: "+w.r.Method+" "+w.path())
	case plain && code == http.StatusMethodNotAllowed:
		w.replaced = true
		w.Header().Del("X-Content-Type-Options")
		writeError(w.ResponseWriter, code, "method", w.path()+" does not take "+w.r.Method+"; it takes "+
			w.Header().Get("Allow"))
	default:
		w.ResponseWriter.WriteHeader(code)
	}
}

// path is the path as the client sent it: under /devices/NAME/ the
// device's handler sees the rest only.
func (w *muxErrorWriter) path() string {
	p, _, _ := strings.Cut(w.r.RequestURI, "?")
	if p == "" {
		p = w.r.URL.Path
	}
	return p
}

func (w *muxErrorWriter) Write(b []byte) (int, error) {
	if w.replaced {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}
