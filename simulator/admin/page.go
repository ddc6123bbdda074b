package admin

import (
	"embed"
	"net/http"
	"path"
)

// The live page: plain HTML, CSS and JavaScript, no build step and no
// external assets (plcsim runs on machines without internet).
//
//go:embed page
var pageFS embed.FS

//go:embed openapi.json
var openapiJSON []byte

var assetTypes = map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

func (a *Admin) page(w http.ResponseWriter, r *http.Request) {
	b, err := pageFS.ReadFile("page/index.html")
	if err != nil {
		writeError(w, http.StatusInternalServerError, "", err.Error())
		return
	}
	pageHeaders(w, "text/html; charset=utf-8")
	w.Write(b)
}

func (a *Admin) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	ct, ok := assetTypes[path.Ext(name)]
	b, err := pageFS.ReadFile("page/" + name)
	if !ok || err != nil {
		writeError(w, http.StatusNotFound, "name", "no asset "+name)
		return
	}
	pageHeaders(w, ct)
	w.Write(b)
}

// pageHeaders forbid framing and anything not from this server.
func pageHeaders(w http.ResponseWriter, ct string) {
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
}

func (a *Admin) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openapiJSON)
}
