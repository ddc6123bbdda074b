package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/plcctl/plcctl/plant"
	"github.com/plcctl/plcctl/values"
)

// tagJSON is a tag and its engineering value on the wire.
type tagJSON struct {
	Name    string `json:"name"`
	Unit    uint8  `json:"unit"`
	Table   string `json:"table"`
	Address uint16 `json:"address"`
	Type    string `json:"type"`
	EngUnit string `json:"eng_unit,omitempty"`
	Access  string `json:"access"`
	Value   any    `json:"value"`          // bool, number or string; null when it cannot be read
	Text    string `json:"text,omitempty"` // the value formatted as plcctl shows it
	Error   string `json:"error,omitempty"`
}

// tableOf maps a plant table to the API's name.
func tableOf(k plant.TableKind) string {
	return [...]string{plant.Coils: tableCoils, plant.DiscreteInputs: tableDiscrete,
		plant.HoldingRegisters: tableHolding, plant.InputRegisters: tableInput}[k]
}

func (a *Admin) tag(name string) (*plant.Tag, bool) {
	t, ok := a.tags[name]
	return t, ok
}

// readTag returns the tag's engineering value from its unit's memory.
func (a *Admin) readTag(t *plant.Tag) (any, error) {
	m := a.srv.Unit(t.UnitID)
	if m == nil {
		return nil, fmt.Errorf("unit %d is not served", t.UnitID)
	}
	switch t.Table {
	case plant.Coils, plant.DiscreteInputs:
		var v []bool
		if t.Table == plant.Coils {
			v = m.Coils(t.Address, 1)
		} else {
			v = m.DiscreteInputs(t.Address, 1)
		}
		if len(v) != 1 {
			return nil, fmt.Errorf("%s %d is not in unit %d's memory", tableOf(t.Table), t.Address, t.UnitID)
		}
		return v[0], nil
	}
	n := uint16(t.Registers())
	var regs []uint16
	if t.Table == plant.HoldingRegisters {
		regs = m.HoldingRegisters(t.Address, n)
	} else {
		regs = m.InputRegisters(t.Address, n)
	}
	if len(regs) != int(n) {
		return nil, fmt.Errorf("%s %d..%d are not in unit %d's memory", tableOf(t.Table), t.Address, t.End(), t.UnitID)
	}
	return t.DecodeValue(regs)
}

// writeTag sets the tag to engineering value v (already checked by
// ParseValue), as the device's own logic would: any table, whatever the
// tag's access for Modbus clients.
func (a *Admin) writeTag(t *plant.Tag, v any) error {
	m := a.srv.Unit(t.UnitID)
	if m == nil {
		return fmt.Errorf("unit %d is not served", t.UnitID)
	}
	switch {
	case t.Table == plant.Coils:
		m.SetCoils(t.Address, v.(bool))
		return nil
	case t.Table == plant.DiscreteInputs:
		m.SetDiscreteInputs(t.Address, v.(bool))
		return nil
	}
	get, set := m.HoldingRegisters, m.SetHoldingRegisters
	if t.Table == plant.InputRegisters {
		get, set = m.InputRegisters, m.SetInputRegisters
	}
	if t.Bool { // one bit of a register: the others stay
		cur := get(t.Address, 1)
		if len(cur) != 1 {
			return fmt.Errorf("%s %d is not in unit %d's memory", tableOf(t.Table), t.Address, t.UnitID)
		}
		and, or := t.Mask(v.(bool))
		set(t.Address, cur[0]&and|or&^and)
		return nil
	}
	regs, err := t.EncodeValue(v)
	if err != nil {
		return err
	}
	set(t.Address, regs...)
	return nil
}

func (a *Admin) tagJSON(t *plant.Tag) tagJSON {
	j := tagJSON{Name: t.Name, Unit: t.UnitID, Table: tableOf(t.Table), Address: t.Address, Type: t.TypeName(),
		EngUnit: t.EngUnit, Access: t.Access.String()}
	v, err := a.readTag(t)
	if err != nil {
		j.Error = err.Error()
		return j
	}
	j.Value, j.Text = v, t.Format(v)
	return j
}

func (a *Admin) tagList() []tagJSON {
	out := make([]tagJSON, len(a.opts.Tags))
	for i, t := range a.opts.Tags {
		out[i] = a.tagJSON(t)
	}
	return out
}

func (a *Admin) getTags(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"tags": a.tagList()})
}

func (a *Admin) lookupTag(w http.ResponseWriter, r *http.Request) (*plant.Tag, bool) {
	name := r.PathValue("name")
	t, ok := a.tag(name)
	if !ok {
		msg := fmt.Sprintf("name: no tag %q", name)
		if len(a.opts.Tags) == 0 {
			msg += " (plcsim serves no plant file)"
		}
		writeError(w, http.StatusNotFound, "name", msg)
	}
	return t, ok
}

func (a *Admin) getTag(w http.ResponseWriter, r *http.Request) {
	if t, ok := a.lookupTag(w, r); ok {
		writeJSON(w, http.StatusOK, a.tagJSON(t))
	}
}

// putTag sets a tag: {"value": 12.5}, {"value": true}, {"value": "text"}.
// A number or string is checked by the tag's own rules (type, range, a
// scaled tag's raw steps), as plcctl set does.
func (a *Admin) putTag(w http.ResponseWriter, r *http.Request) {
	t, ok := a.lookupTag(w, r)
	if !ok {
		return
	}
	var body struct {
		Value json.RawMessage `json:"value"`
	}
	if err := decodeBody(w, r, maxBody, &body); err != nil {
		fail(w, err)
		return
	}
	raw := bytes.TrimSpace(body.Value)
	if len(raw) == 0 || string(raw) == "null" {
		fail(w, badField("value", "missing: want the tag's value (%s)", t.TypeName()))
		return
	}
	text := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			fail(w, badField("value", "%s: not a JSON string", shownJSON(raw)))
			return
		}
	} else if raw[0] == '[' || raw[0] == '{' {
		fail(w, badField("value", "%s: want one value (%s), not a list or object", shownJSON(raw), t.TypeName()))
		return
	} else if !t.Bool && !t.Scaled && (t.Type == values.Hex || t.Type == values.Bits) {
		// A JSON number is the register's value, as GET gives it, not
		// digits in the tag's base: 4660 is 0x1234. Strings keep plcctl
		// set's meaning ("1234" is hex digits for a hex tag).
		n, err := strconv.ParseUint(text, 10, 16)
		if err != nil {
			fail(w, badField("value", "%s: want a register value 0..65535, or a string of %s digits", raw, t.TypeName()))
			return
		}
		if t.Type == values.Hex {
			text = "0x" + strconv.FormatUint(n, 16)
		} else {
			text = "0b" + strconv.FormatUint(n, 2)
		}
	}
	v, err := t.ParseValue(text)
	if err == nil {
		err = a.writeTag(t, v)
	}
	if err != nil {
		var te *plant.TagError
		if errors.As(err, &te) {
			err = te.Err
		}
		fail(w, badField("value", "%s: %v", strconv.Quote(text), err))
		return
	}
	a.log.Info().Str("remote", r.RemoteAddr).Str("tag", t.Name).Str("value", t.Format(v)).Msg("admin: tag set")
	writeJSON(w, http.StatusOK, a.tagJSON(t))
}
