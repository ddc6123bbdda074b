package admin

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/plant"
	"github.com/plcctl/plcctl/simulator"
)

// Options configures an Admin. The zero value serves without a token, keeps
// 10000 journal entries in memory and writes no journal file.
type Options struct {
	// Token, when set, must be sent as "Authorization: Bearer TOKEN" with
	// every request that changes something (PUT, POST, DELETE).
	Token string
	// JournalSize is how many client writes the in-memory journal keeps
	// (the oldest go first); default 10000.
	JournalSize int
	// Journal, when set, receives every journal entry as a JSON line. Close
	// flushes it; it is not closed. Several Admins may share one file
	// through writers that each pass on whole lines only.
	Journal io.Writer
	// Device names the device of several that this Admin controls; every
	// journal entry carries it. "" (one device) leaves it out.
	Device string
	// Tags are the plant's tags that the API and the page show by name
	// (those of the device plcsim serves); none without a plant file.
	Tags []*plant.Tag
	// EventInterval is how often the live event stream looks for changes;
	// default 200ms.
	EventInterval time.Duration
	Logger        *zerolog.Logger // nil = silent
}

// Limits of the HTTP side: every request is bounded in size and time.
const (
	maxBody       = 1 << 20 // a request body, except a state restore
	maxStateBody  = 8 << 20 // a state restore: four full tables as JSON
	maxEventConns = 16      // concurrent live event streams
	maxHTTPConns  = 128     // concurrent HTTP connections; more wait to be accepted
	maxCount      = 65535   // items per table read or write (a full table is 65536: use two)
)

// Admin is the control plane of one simulator. It is a simulator.Observer:
// install it as Config.Observer, then serve Handler(srv).
type Admin struct {
	opts    Options
	log     *zerolog.Logger
	metrics *metrics
	journal *journal

	srv  *simulator.Server
	once sync.Once
	mux  *http.ServeMux

	faultMu  sync.Mutex
	faults   []faultEntry
	faultVer uint64 // bumped on every change, for the event stream

	events chan struct{}                        // one slot per open event stream
	limits struct{ header, body time.Duration } // Serve's timeouts; tests shorten them
	conns  int                                  // Serve's connection limit, maxHTTPConns unless a test sets it
	tags   map[string]*plant.Tag
}

// New returns an Admin; it starts the journal file writer when
// Options.Journal is set, which Close stops.
func New(opts Options) (*Admin, error) {
	if opts.JournalSize < 0 {
		return nil, fmt.Errorf("admin: journal size %d: want 0 (default) or more", opts.JournalSize)
	}
	if opts.JournalSize == 0 {
		opts.JournalSize = 10000
	}
	if opts.EventInterval <= 0 {
		opts.EventInterval = 200 * time.Millisecond
	}
	if opts.Logger == nil {
		nop := zerolog.Nop()
		opts.Logger = &nop
	}
	a := &Admin{opts: opts, log: opts.Logger, metrics: newMetrics(),
		journal: newJournal(opts.JournalSize, opts.Journal, opts.Logger), events: make(chan struct{}, maxEventConns),
		tags: make(map[string]*plant.Tag, len(opts.Tags))}
	a.limits.header, a.limits.body = 5*time.Second, 10*time.Second
	for _, t := range opts.Tags {
		if _, dup := a.tags[t.Name]; dup {
			return nil, fmt.Errorf("admin: tag %q given twice", t.Name)
		}
		a.tags[t.Name] = t
	}
	return a, nil
}

// Close stops the journal file writer after writing what it holds.
func (a *Admin) Close() error { return a.journal.close() }

// route is one handler of the API; the same table builds the mux and is
// checked against openapi.json.
type route struct {
	method, path string // a ServeMux path: /api/v1/units/{unit}/{table}, /api/v1/tags/{name...}
	write        bool   // changes state: needs the token
	h            http.HandlerFunc
}

func (a *Admin) routes() []route {
	return []route{
		{"GET", "/", false, a.page},
		{"GET", "/assets/{name}", false, a.asset},
		{"GET", "/api/v1/tags", false, a.getTags},
		{"GET", "/api/v1/tags/{name...}", false, a.getTag},
		{"PUT", "/api/v1/tags/{name...}", true, a.putTag},
		{"GET", "/healthz", false, a.healthz},
		{"GET", "/readyz", false, a.readyz},
		{"GET", "/metrics", false, a.metrics.handler().ServeHTTP},
		{"GET", "/api/openapi.json", false, a.openapi},
		{"GET", "/api/v1/units/{unit}/{table}", false, a.getTable},
		{"PUT", "/api/v1/units/{unit}/{table}", true, a.putTable},
		{"GET", "/api/v1/writes", false, a.getWrites},
		{"DELETE", "/api/v1/writes", true, a.deleteWrites},
		{"GET", "/api/v1/faults", false, a.getFaults},
		{"PUT", "/api/v1/faults", true, a.putFaults},
		{"DELETE", "/api/v1/faults", true, a.deleteFaults},
		{"PUT", "/api/v1/faults/{index}", true, a.putFault},
		{"POST", "/api/v1/reboot", true, a.postReboot},
		{"GET", "/api/v1/counters", false, a.getCounters},
		{"GET", "/api/v1/connections", false, a.getConnections},
		{"GET", "/api/v1/state", false, a.getState},
		{"PUT", "/api/v1/state", true, a.putState},
		{"GET", "/api/v1/events", false, a.getEvents},
	}
}

// muxPattern turns a route into a ServeMux pattern: "/" alone must match
// only itself.
func muxPattern(method, path string) string {
	if path == "/" {
		path = "/{$}"
	}
	return method + " " + path
}

// openapiPath is a route's path as the OpenAPI document writes it: a
// wildcard taking the rest of the path ({name...}, for tag names with
// slashes) is a plain parameter there.
func openapiPath(path string) string { return strings.ReplaceAll(path, "...}", "}") }

// Handler returns the HTTP handler serving srv. Call it once: the Admin
// controls one server.
func (a *Admin) Handler(srv *simulator.Server) http.Handler {
	a.once.Do(func() {
		a.srv = srv
		a.metrics.srv.Store(srv)
		a.mux = http.NewServeMux()
		for _, r := range a.routes() {
			h := r.h
			if r.write {
				h = a.guard(h)
			}
			a.mux.HandleFunc(muxPattern(r.method, r.path), h)
		}
	})
	return jsonMux{a.mux}
}

// guard protects a handler that changes state: the bearer token when one is
// set, and a same-origin check so a web page elsewhere cannot drive the
// simulator through a browser on this machine.
func (a *Admin) guard(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" {
			u, err := url.Parse(o)
			if err != nil || u.Host != r.Host {
				writeError(w, http.StatusForbidden, "Origin", "cross-origin request refused: origin "+o+" is not "+r.Host)
				return
			}
		}
		if a.opts.Token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(a.opts.Token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="plcsim"`)
				writeError(w, http.StatusUnauthorized, "Authorization", "this request changes the simulator: send Authorization: Bearer <the --http-token>")
				return
			}
		}
		h(w, r)
	}
}

// Listen binds addr for the HTTP side. An address without a host
// (":8080") binds loopback only; say "0.0.0.0:8080" or "[::]:8080" to serve
// other machines.
func Listen(addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("admin: http address %q: want host:port, e.g. 127.0.0.1:8080", addr)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	return ln, nil
}

// IsLoopback reports whether a listener's address is loopback only.
func IsLoopback(addr net.Addr) bool {
	ta, ok := addr.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// Serve serves h on ln until ctx ends, then shuts down (open event streams
// are cut; other requests get 2s to finish). Every request is bounded in
// time: 5s for the headers, 10s for the body and for the answer, except the
// event stream, which sets its own write deadline per event. At most 128
// connections are served at a time; more wait in the listen backlog until
// one closes.
func (a *Admin) Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: a.limits.header, ReadTimeout: a.limits.body,
		WriteTimeout: a.limits.body, IdleTimeout: 60 * time.Second, MaxHeaderBytes: 64 << 10,
		ErrorLog: nil, BaseContext: func(net.Listener) context.Context { return ctx }}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(limitListen(ln, a.maxConns())) }()
	select {
	case err := <-errc:
		return fmt.Errorf("admin: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := hs.Shutdown(sctx)
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}

func (a *Admin) maxConns() int {
	if a.conns > 0 {
		return a.conns
	}
	return maxHTTPConns
}

// apiError is the body of every error answer.
type apiError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"` // the parameter or body field that was wrong
}

func writeError(w http.ResponseWriter, code int, field, msg string) {
	writeJSON(w, code, apiError{Error: msg, Field: field})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// fieldError is a bad request naming the field that was wrong.
type fieldError struct{ field, msg string }

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

func badField(field, format string, args ...any) error {
	return &fieldError{field: field, msg: fmt.Sprintf(format, args...)}
}

// fail answers err: a fieldError is a 400 naming its field, a body too large
// a 413, anything else a 400 about the body.
func fail(w http.ResponseWriter, err error) {
	var fe *fieldError
	var me *http.MaxBytesError
	switch {
	case errors.As(err, &fe):
		writeError(w, http.StatusBadRequest, fe.field, fe.Error())
	case errors.As(err, &me):
		writeError(w, http.StatusRequestEntityTooLarge, "body", fmt.Sprintf("body: larger than %d bytes", me.Limit))
	default:
		writeError(w, http.StatusBadRequest, "body", "body: "+err.Error())
	}
}

// bodyReader is r's body limited to limit bytes. A Content-Length over
// limit is refused at once (a *http.MaxBytesError, 413): the request used
// to wait for the body until the read timeout, 10 s, and only then be
// refused, a client announcing gigabytes holding the connection that long.
func bodyReader(w http.ResponseWriter, r *http.Request, limit int64) (io.Reader, error) {
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	return http.MaxBytesReader(w, r.Body, limit), nil
}

// readBody reads r's body of at most limit bytes (bodyReader).
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	br, err := bodyReader(w, r, limit)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(br)
}

// decodeBody decodes a JSON body of at most limit bytes into v, refusing
// unknown fields and trailing data.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	br, err := bodyReader(w, r, limit)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(br)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var me *http.MaxBytesError
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &me):
			return err
		case errors.As(err, &te) && te.Field != "":
			return badField(te.Field, "want %s, got JSON %s", jsonWant(te.Type), te.Value)
		case errors.As(err, &te): // the body itself: every body here is an object
			return fmt.Errorf("want a JSON object, got JSON %s", te.Value)
		case errors.As(err, &se):
			return fmt.Errorf("not valid JSON at byte %d: %w", se.Offset, err)
		case errors.Is(err, io.EOF):
			return errors.New("empty: want a JSON object")
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			if f == "" { // a key "": an error naming field "" names nothing
				return badField("body", `unknown field ""`)
			}
			return badField(f, "unknown field")
		}
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}

// jsonWant names what a Go type takes in JSON's words ("a list", "a whole
// number 0..65535"): a refusal must not say "want []json.RawMessage".
func jsonWant(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("a whole number 0..%d", uint64(1)<<t.Bits()-1)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fmt.Sprintf("a whole number %d..%d", -int64(1)<<(t.Bits()-1), int64(1)<<(t.Bits()-1)-1)
	}
	return "another JSON value"
}

// shownJSON is a JSON value of a request as an error quotes it: compacted
// to one line, and cut after 64 bytes, since a value may be a megabyte.
func shownJSON(raw []byte) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		b.Reset()
		b.WriteString(strconv.Quote(string(raw)))
	}
	if b.Len() > 64 {
		return string(b.Bytes()[:64]) + "..."
	}
	return b.String()
}

func (a *Admin) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "serving"})
}

// readyz is 200 once the Modbus side listens.
func (a *Admin) readyz(w http.ResponseWriter, r *http.Request) {
	addr := a.srv.Addr()
	if addr == nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not listening yet"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "modbus": addr.String(), "tags": len(a.opts.Tags)})
}

// counters is Stats in the API's snake_case.
type counters struct {
	Conns           int64  `json:"conns"`
	Accepted        uint64 `json:"accepted"`
	Refused         uint64 `json:"refused"`
	Requests        uint64 `json:"requests"`
	Responses       uint64 `json:"responses"`
	Exceptions      uint64 `json:"exceptions"`
	FramingFaults   uint64 `json:"framing_faults"`
	MalformedPDUs   uint64 `json:"malformed_pdus"`
	ForeignProtocol uint64 `json:"foreign_protocol"`
	Resets          uint64 `json:"resets"`
	// ResetsBy is Resets by reason, every reason present ("fault": 0), as
	// plcsim_resets_total has them.
	ResetsBy   map[string]uint64 `json:"resets_by"`
	Evicted    uint64            `json:"evicted"`     // closed to make room (max conns)
	IdleClosed uint64            `json:"idle_closed"` // closed for --idle-timeout
	PeerEOF    uint64            `json:"peer_eof"`
	PeerResets uint64            `json:"peer_resets"`
	Faults     uint64            `json:"faults"`
	Writes     uint64            `json:"writes"` // client writes journaled
}

func (a *Admin) counters() counters {
	st := a.srv.Stats()
	by := make(map[string]uint64, len(st.ResetsBy))
	for r, n := range st.ResetsBy {
		by[simulator.ResetReason(r).String()] = n
	}
	return counters{st.Conns, st.Accepted, st.Refused, st.Requests, st.Responses, st.Exceptions,
		st.FramingFaults, st.MalformedPDUs, st.ForeignProtocol, st.Resets, by, st.Evicted, st.IdleClosed,
		st.PeerEOF, st.PeerResets, st.Faults, a.journal.total()}
}

func (a *Admin) getCounters(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, a.counters())
}
