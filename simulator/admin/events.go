package admin

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"
)

// eventWriteTimeout bounds each event written to a stream: a reader that
// stops reading is cut off.
const eventWriteTimeout = 10 * time.Second

// getEvents is the live page's server-sent event stream. Every
// EventInterval it looks at the table range asked for (unit, table,
// address, count; optional), the counters, the fault rules and the journal,
// and sends one "update" event with the parts that changed (all of them
// first). A comment line every 15s keeps proxies from closing it.
func (a *Admin) getEvents(w http.ResponseWriter, r *http.Request) {
	var ref *tableRef
	if r.URL.Query().Get("table") != "" || r.URL.Query().Get("unit") != "" {
		rf, err := parseViewRef(r)
		if err == nil {
			_, err = a.read(rf)
		}
		if err != nil {
			fail(w, err)
			return
		}
		ref = &rf
	}
	select {
	case a.events <- struct{}{}:
		defer func() { <-a.events }()
	default:
		writeError(w, http.StatusServiceUnavailable, "", "too many open event streams (at most 16)")
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	last := map[string][]byte{}
	seq := a.journal.total()
	seq -= min(seq, 50) // the page starts with the last 50 writes
	tick := time.NewTicker(a.opts.EventInterval)
	defer tick.Stop()
	lastSent := time.Now()
	for first := true; ; first = false {
		if !first {
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
			}
		}
		upd := map[string]json.RawMessage{}
		put := func(name string, v any) {
			b, err := json.Marshal(v)
			if err == nil && !bytes.Equal(b, last[name]) {
				upd[name], last[name] = b, b
			}
		}
		if ref != nil {
			if v, err := a.read(*ref); err == nil {
				put("values", map[string]any{"unit": ref.unit, "table": ref.table, "address": ref.addr, "values": v})
			}
		}
		put("counters", a.counters())
		put("connections", a.connList(false))
		put("faults", a.faultList())
		if len(a.opts.Tags) > 0 {
			put("tags", a.tagList())
		}
		if writes, gap := a.journal.since(seq, 200, func(*Entry) bool { return true }); len(writes) > 0 || first {
			if len(writes) > 0 {
				seq = writes[len(writes)-1].Seq
			}
			b, _ := json.Marshal(map[string]any{"writes": writes, "gap": gap})
			upd["writes"] = b
		}
		var msg []byte
		switch {
		case len(upd) > 0:
			b, _ := json.Marshal(upd)
			msg = append(append([]byte("event: update\ndata: "), b...), "\n\n"...)
		case time.Since(lastSent) > 15*time.Second:
			msg = []byte(": keep-alive\n\n")
		default:
			continue
		}
		rc.SetWriteDeadline(time.Now().Add(eventWriteTimeout))
		if _, err := w.Write(msg); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		lastSent = time.Now()
	}
}

// parseViewRef is parseRef for the event stream, where the range comes in
// the query: unit, table, address, count.
func parseViewRef(r *http.Request) (tableRef, error) {
	q := r.URL.Query()
	r2 := r.Clone(r.Context())
	r2.SetPathValue("unit", q.Get("unit"))
	r2.SetPathValue("table", q.Get("table"))
	return parseRef(r2, true)
}
