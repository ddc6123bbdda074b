package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/plcctl/plcctl/simulator"
)

// The four tables, by the names the API uses.
const (
	tableCoils    = "coils"
	tableDiscrete = "discrete-inputs"
	tableHolding  = "holding-registers"
	tableInput    = "input-registers"
)

var tableNames = []string{tableCoils, tableDiscrete, tableHolding, tableInput}

func isBits(table string) bool { return table == tableCoils || table == tableDiscrete }

// tableRef is a range of one table of one unit, from the request.
type tableRef struct {
	unit  uint8
	table string
	addr  uint16
	count int
}

// parseUint parses a decimal (or 0x hex) whole number in 0..max, naming
// field when it is not one.
func parseUint(field, s string, max uint64) (uint64, error) {
	if s == "" {
		return 0, badField(field, "missing: want a whole number 0..%d", max)
	}
	n, err := strconv.ParseUint(s, 0, 64)
	if err != nil || n > max {
		return 0, badField(field, "%q: want a whole number 0..%d", s, max)
	}
	return n, nil
}

// parseRef reads unit, table and address from the request, and count when
// wantCount (a read).
func parseRef(r *http.Request, wantCount bool) (tableRef, error) {
	var ref tableRef
	u, err := parseUint("unit", r.PathValue("unit"), 255)
	if err != nil {
		return ref, err
	}
	ref.unit = uint8(u)
	ref.table = r.PathValue("table")
	known := false
	for _, n := range tableNames {
		known = known || n == ref.table
	}
	if !known {
		return ref, badField("table", "%q: want coils, discrete-inputs, holding-registers or input-registers", ref.table)
	}
	q := r.URL.Query()
	a, err := parseUint("address", q.Get("address"), 65535)
	if err != nil {
		return ref, err
	}
	ref.addr = uint16(a)
	if wantCount {
		s := q.Get("count")
		if s == "" {
			s = "1"
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxCount {
			return ref, badField("count", "%q: want a whole number 1..%d", s, maxCount)
		}
		ref.count = n
	}
	return ref, nil
}

// memory returns the memory serving unit, or an error naming unit.
func (a *Admin) memory(unit uint8) (*simulator.Memory, error) {
	if m := a.srv.Unit(unit); m != nil {
		return m, nil
	}
	return nil, badField("unit", "%d is not served (units with a memory: %v)", unit, a.srv.UnitIDs())
}

// layout returns the address ranges of table in m.
func layout(m *simulator.Memory, table string) []simulator.Range {
	c, d, h, i := m.Layout()
	switch table {
	case tableCoils:
		return c
	case tableDiscrete:
		return d
	case tableHolding:
		return h
	}
	return i
}

// read returns the items of ref (bits as []bool, registers as []uint16),
// or an error naming count when they are not all in the table.
func (a *Admin) read(ref tableRef) (any, error) {
	m, err := a.memory(ref.unit)
	if err != nil {
		return nil, err
	}
	var got any
	var n int
	switch ref.table {
	case tableCoils:
		v := m.Coils(ref.addr, uint16(ref.count))
		got, n = v, len(v)
	case tableDiscrete:
		v := m.DiscreteInputs(ref.addr, uint16(ref.count))
		got, n = v, len(v)
	case tableHolding:
		v := m.HoldingRegisters(ref.addr, uint16(ref.count))
		got, n = v, len(v)
	default:
		v := m.InputRegisters(ref.addr, uint16(ref.count))
		got, n = v, len(v)
	}
	if n < ref.count {
		return nil, badField("count", "items %d..%d are not all in %s of unit %d (its items: %v)",
			ref.addr, int(ref.addr)+ref.count-1, ref.table, ref.unit, layout(m, ref.table))
	}
	return got, nil
}

// fits checks that n items from ref.addr exist in the table.
func (a *Admin) fits(ref tableRef, n int) error {
	ref.count = n
	if _, err := a.read(ref); err != nil {
		if fe, ok := err.(*fieldError); ok && fe.field == "count" {
			return badField("values", "%d values from address %d: %s", n, ref.addr, fe.msg)
		}
		return err
	}
	return nil
}

type valuesBody struct {
	Values []json.RawMessage `json:"values"`
}

// decodeValues turns the raw values of a body into []bool or []uint16 for
// table, naming the first wrong element.
func decodeValues(table string, raw []json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, badField("values", "missing or empty: want a list of values")
	}
	if len(raw) > maxCount {
		return nil, badField("values", "%d values: at most %d", len(raw), maxCount)
	}
	if isBits(table) {
		out := make([]bool, len(raw))
		for i, m := range raw {
			if err := json.Unmarshal(m, &out[i]); err != nil {
				return nil, badField(fmt.Sprintf("values[%d]", i), "%s: want true or false", shownJSON(m))
			}
		}
		return out, nil
	}
	out := make([]uint16, len(raw))
	for i, m := range raw {
		if err := json.Unmarshal(m, &out[i]); err != nil {
			return nil, badField(fmt.Sprintf("values[%d]", i), "%s: want a register value 0..65535", shownJSON(m))
		}
	}
	return out, nil
}

func (a *Admin) write(ref tableRef, v any) {
	m := a.srv.Unit(ref.unit)
	switch ref.table {
	case tableCoils:
		m.SetCoils(ref.addr, v.([]bool)...)
	case tableDiscrete:
		m.SetDiscreteInputs(ref.addr, v.([]bool)...)
	case tableHolding:
		m.SetHoldingRegisters(ref.addr, v.([]uint16)...)
	default:
		m.SetInputRegisters(ref.addr, v.([]uint16)...)
	}
}

func (a *Admin) getTable(w http.ResponseWriter, r *http.Request) {
	ref, err := parseRef(r, true)
	if err == nil {
		var v any
		if v, err = a.read(ref); err == nil {
			writeJSON(w, http.StatusOK, map[string]any{"unit": ref.unit, "table": ref.table, "address": ref.addr, "values": v})
			return
		}
	}
	fail(w, err)
}

func (a *Admin) putTable(w http.ResponseWriter, r *http.Request) {
	ref, err := parseRef(r, false)
	if err != nil {
		fail(w, err)
		return
	}
	var body valuesBody
	if err := decodeBody(w, r, maxBody, &body); err != nil {
		fail(w, err)
		return
	}
	v, err := decodeValues(ref.table, body.Values)
	if err == nil {
		err = a.fits(ref, len(body.Values))
	}
	if err != nil {
		fail(w, err)
		return
	}
	a.write(ref, v)
	a.log.Info().Str("remote", r.RemoteAddr).Uint8("unit_id", ref.unit).Str("table", ref.table).
		Uint16("addr", ref.addr).Int("qty", len(body.Values)).Msg("admin: values set")
	writeJSON(w, http.StatusOK, map[string]any{"unit": ref.unit, "table": ref.table, "address": ref.addr, "values": v})
}

func (a *Admin) getState(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, a.srv.Snapshot())
}

// putState restores a snapshot (Server.Restore): every memory named is set
// to its contents, items not listed become zero. The whole body is checked
// before anything changes.
func (a *Admin) putState(w http.ResponseWriter, r *http.Request) {
	var snap simulator.ServerSnapshot
	if err := decodeBody(w, r, maxStateBody, &snap); err != nil {
		fail(w, err)
		return
	}
	if snap.Units == nil {
		fail(w, badField("units", "missing: want the memories by unit id, as GET /api/v1/state answers"))
		return
	}
	if err := a.srv.Restore(snap); err != nil {
		fail(w, badField("units", "%v", err))
		return
	}
	a.log.Info().Str("remote", r.RemoteAddr).Int("memories", len(snap.Units)).Msg("admin: state restored")
	writeJSON(w, http.StatusOK, a.srv.Snapshot())
}
