package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
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

// read returns the items of ref (bits as []bool, registers as []uint16),
// or an error naming count when the range runs past the table's end.
//
// Every unit id reads the one memory the simulator has today.
func (a *Admin) read(ref tableRef) (any, error) {
	s := a.srv
	var got any
	var n int
	switch ref.table {
	case tableCoils:
		v := s.Coils(ref.addr, uint16(min(ref.count, 65535)))
		got, n = v, len(v)
	case tableDiscrete:
		v := s.DiscreteInputs(ref.addr, uint16(min(ref.count, 65535)))
		got, n = v, len(v)
	case tableHolding:
		v := s.HoldingRegisters(ref.addr, uint16(min(ref.count, 65535)))
		got, n = v, len(v)
	default:
		v := s.InputRegisters(ref.addr, uint16(min(ref.count, 65535)))
		got, n = v, len(v)
	}
	if n < ref.count {
		return nil, badField("count", "items %d..%d run past the end of %s (it has %d)",
			ref.addr, int(ref.addr)+ref.count-1, ref.table, int(ref.addr)+n)
	}
	return got, nil
}

// fits checks that n items from addr exist in table.
func (a *Admin) fits(table string, addr uint16, n int) error {
	_, err := a.read(tableRef{table: table, addr: addr, count: n})
	if err != nil {
		return badField("values", "%d values from address %d run past the end of %s", n, addr, table)
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
				return nil, badField(fmt.Sprintf("values[%d]", i), "%s: want true or false", m)
			}
		}
		return out, nil
	}
	out := make([]uint16, len(raw))
	for i, m := range raw {
		if err := json.Unmarshal(m, &out[i]); err != nil {
			return nil, badField(fmt.Sprintf("values[%d]", i), "%s: want a register value 0..65535", m)
		}
	}
	return out, nil
}

func (a *Admin) write(table string, addr uint16, v any) {
	s := a.srv
	switch table {
	case tableCoils:
		s.SetCoils(addr, v.([]bool)...)
	case tableDiscrete:
		s.SetDiscreteInputs(addr, v.([]bool)...)
	case tableHolding:
		s.SetHoldingRegisters(addr, v.([]uint16)...)
	default:
		s.SetInputRegisters(addr, v.([]uint16)...)
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
		err = a.fits(ref.table, ref.addr, len(body.Values))
	}
	if err != nil {
		fail(w, err)
		return
	}
	a.write(ref.table, ref.addr, v)
	a.log.Info().Str("remote", r.RemoteAddr).Uint8("unit_id", ref.unit).Str("table", ref.table).
		Uint16("addr", ref.addr).Int("qty", len(body.Values)).Msg("admin: values set")
	writeJSON(w, http.StatusOK, map[string]any{"unit": ref.unit, "table": ref.table, "address": ref.addr, "values": v})
}

// run is a stretch of non-zero items in a state snapshot.
type run struct {
	Address uint16            `json:"address"`
	Values  []json.RawMessage `json:"values"`
}

// state is a snapshot of the four tables as runs of non-zero items (a
// fresh simulator is all zero, so a snapshot of one is four empty lists).
type state struct {
	Coils            []run `json:"coils"`
	DiscreteInputs   []run `json:"discrete_inputs"`
	HoldingRegisters []run `json:"holding_registers"`
	InputRegisters   []run `json:"input_registers"`
}

func (st *state) tables() map[string]*[]run {
	return map[string]*[]run{tableCoils: &st.Coils, tableDiscrete: &st.DiscreteInputs,
		tableHolding: &st.HoldingRegisters, tableInput: &st.InputRegisters}
}

// runsOf splits a table into runs of non-zero items.
func runsOf[T comparable](items []T) []run {
	var zero T
	out := []run{}
	for i := 0; i < len(items); {
		if items[i] == zero {
			i++
			continue
		}
		j := i
		rr := run{Address: uint16(i)}
		for ; j < len(items) && items[j] != zero; j++ {
			b, _ := json.Marshal(items[j])
			rr.Values = append(rr.Values, b)
		}
		out = append(out, rr)
		i = j
	}
	return out
}

// whole returns every item of a table: the accessors take at most 65535
// items, so the last of a full table comes separately.
func whole[T any](get func(addr, n uint16) []T) []T {
	v := get(0, 65535)
	if len(v) == 65535 {
		v = append(v, get(65535, 1)...)
	}
	return v
}

func (a *Admin) snapshot() state {
	s := a.srv
	return state{
		Coils:            runsOf(whole(s.Coils)),
		DiscreteInputs:   runsOf(whole(s.DiscreteInputs)),
		HoldingRegisters: runsOf(whole(s.HoldingRegisters)),
		InputRegisters:   runsOf(whole(s.InputRegisters)),
	}
}

func (a *Admin) getState(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, a.snapshot())
}

// putState restores a snapshot: every table is zeroed, then the runs set.
// The whole body is checked before anything changes.
func (a *Admin) putState(w http.ResponseWriter, r *http.Request) {
	var st state
	if err := decodeBody(w, r, maxStateBody, &st); err != nil {
		fail(w, err)
		return
	}
	type set struct {
		table string
		addr  uint16
		v     any
	}
	var sets []set
	jsonNames := map[string]string{tableCoils: "coils", tableDiscrete: "discrete_inputs", tableHolding: "holding_registers", tableInput: "input_registers"}
	for _, table := range tableNames {
		for i, rr := range *st.tables()[table] {
			field := fmt.Sprintf("%s[%d]", jsonNames[table], i)
			v, err := decodeValues(table, rr.Values)
			if err == nil {
				err = a.fits(table, rr.Address, len(rr.Values))
			}
			if fe, ok := err.(*fieldError); ok {
				err = badField(field+"."+fe.field, "%s", fe.msg)
			}
			if err != nil {
				fail(w, err)
				return
			}
			sets = append(sets, set{table, rr.Address, v})
		}
	}
	a.zero()
	for _, s := range sets {
		a.write(s.table, s.addr, s.v)
	}
	a.log.Info().Str("remote", r.RemoteAddr).Int("runs", len(sets)).Msg("admin: state restored")
	writeJSON(w, http.StatusOK, a.snapshot())
}

// zero clears the four tables.
func (a *Admin) zero() {
	s := a.srv
	s.SetCoils(0, make([]bool, len(whole(s.Coils)))...)
	s.SetDiscreteInputs(0, make([]bool, len(whole(s.DiscreteInputs)))...)
	s.SetHoldingRegisters(0, make([]uint16, len(whole(s.HoldingRegisters)))...)
	s.SetInputRegisters(0, make([]uint16, len(whole(s.InputRegisters)))...)
}
