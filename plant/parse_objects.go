package plant

// Parsing what a unit serves besides its four tables: identification
// objects (FC 43/14), an FC 17 server id, FIFOs (FC 24) and file records
// (FC 20/21).

import (
	"fmt"
	"sort"

	"go.yaml.in/yaml/v3"

	"github.com/plcctl/plcctl/modbus"
)

func (c *parseCtx) identity(n *yaml.Node, path string) *Identity {
	o := c.object(n, path, identityKeys)
	if o == nil {
		return nil
	}
	id := &Identity{Objects: map[uint8]string{}}
	for key, obj := range identityObjects {
		if v := o.get(key); v != nil {
			if s, ok := c.objectText(v, o.at(key)); ok {
				id.Objects[obj] = s
			}
		}
	}
	for _, key := range []string{"vendor_name", "product_code", "revision"} {
		if o.get(key) == nil {
			c.errorf(o.node, o.at(key), "%s is required: vendor_name, product_code and revision are the basic objects every device has [AP §6.21]", key)
		}
	}
	if v := o.get("extended"); v != nil {
		for _, e := range c.entries(v, o.at("extended")) {
			kp := o.at("extended") + "." + e.key.Value
			if k, ok := c.integer(e.key, kp, 0x80, 0xFF); ok {
				if s, ok := c.objectText(e.value, kp); ok {
					id.Objects[uint8(k)] = s
				}
			}
		}
	}
	if v := o.get("conformity"); v != nil {
		if k, ok := c.integer(v, o.at("conformity"), 0, 255); ok {
			if lv := k & 0x7F; lv < 1 || lv > 3 || k&0x80 == 0 && k > 3 {
				c.errorf(v, o.at("conformity"), "0x%02X is not a conformity level (0x01..0x03 or 0x81..0x83)", k)
			}
			id.Conformity = uint8(k)
		}
	}
	return id
}

// objectText reads an identification object: a string short enough for one
// response.
func (c *parseCtx) objectText(n *yaml.Node, path string) (string, bool) {
	s, ok := c.str(n, path)
	if ok && len(s) > 200 {
		c.errorf(n, path, "object is %d bytes, more than the 200 plcsim sends in one object", len(s))
		return "", false
	}
	return s, ok
}

func (c *parseCtx) serverID(n *yaml.Node, path string) *ServerID {
	o := c.object(n, path, serverIDKeys)
	if o == nil {
		return nil
	}
	s := &ServerID{Run: true}
	if v := o.get("id"); v == nil {
		c.errorf(o.node, o.at("id"), "id is required: a string or a list of bytes")
	} else {
		s.ID = c.byteString(v, o.at("id"))
		if len(s.ID) == 0 && v.Kind != yaml.MappingNode {
			c.errorf(v, o.at("id"), "id is empty: give at least one byte")
		}
	}
	if v := o.get("run"); v != nil {
		s.Run, _ = c.boolean(v, o.at("run"))
	}
	if v := o.get("additional"); v != nil {
		s.Additional = c.byteString(v, o.at("additional"))
	}
	if n := len(s.ID) + 1 + len(s.Additional); n > 251 {
		c.errorf(o.node, path, "id, run indicator and additional data are %d bytes, more than the 251 one FC 17 response holds", n)
	}
	return s
}

// byteString reads a string (its bytes) or a list of bytes 0..255.
func (c *parseCtx) byteString(n *yaml.Node, path string) []byte {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		return []byte(n.Value)
	}
	if n.Kind != yaml.SequenceNode {
		c.errorf(n, path, "want a string or a list of bytes, got %s", kindName(n))
		return nil
	}
	var b []byte
	for i, item := range c.list(n, path) {
		if v, ok := c.integer(item, fmt.Sprintf("%s[%d]", path, i), 0, 255); ok {
			b = append(b, byte(v))
		}
	}
	return b
}

func (c *parseCtx) fifos(n *yaml.Node, path string, a addressing, holding *Table) []FIFO {
	var fs []FIFO
	for _, e := range c.entries(n, path) {
		kp := path + "." + e.key.Value
		addr, ok := a.address(c.decoder, e.key, kp)
		if !ok {
			continue
		}
		if !holding.Contains(addr, 1) {
			c.errorf(e.key, kp, "FIFO pointer address %s is not a holding register of this unit", e.key.Value)
		}
		f := FIFO{Address: addr}
		items := c.list(e.value, kp)
		if len(items) > 31 {
			c.errorf(e.value, kp, "%d values: a FIFO holds at most 31 [AP §6.18]", len(items))
			continue
		}
		for i, item := range items {
			if v, ok := c.integer(item, fmt.Sprintf("%s[%d]", kp, i), 0, 65535); ok {
				f.Values = append(f.Values, uint16(v))
			}
		}
		fs = append(fs, f)
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].Address < fs[j].Address })
	return fs
}

func (c *parseCtx) files(n *yaml.Node, path string) []Record {
	var rs []Record
	for _, fe := range c.entries(n, path) {
		fp := path + "." + fe.key.Value
		file, ok := c.integer(fe.key, fp, 1, 65535)
		if !ok {
			continue
		}
		var inFile []Record
		for _, re := range c.entries(fe.value, fp) {
			rp := fp + "." + re.key.Value
			rec, ok := c.integer(re.key, rp, 0, modbus.MaxFileRecord)
			if !ok {
				continue
			}
			r := Record{File: uint16(file), Record: uint16(rec)}
			for i, item := range c.list(re.value, rp) {
				if v, ok := c.integer(item, fmt.Sprintf("%s[%d]", rp, i), 0, 65535); ok {
					r.Values = append(r.Values, uint16(v))
				}
			}
			last := int(r.Record) + len(r.Values) - 1
			switch {
			case len(r.Values) == 0:
				c.errorf(re.value, rp, "no values")
				continue
			case last > modbus.MaxFileRecord:
				c.errorf(re.key, rp, "%d values from record %d pass the last record %d", len(r.Values), r.Record, modbus.MaxFileRecord)
				continue
			}
			for _, q := range inFile {
				if int(r.Record) <= int(q.Record)+len(q.Values)-1 && int(q.Record) <= last {
					c.errorf(re.key, rp, "records from %d overlap the records from %d", r.Record, q.Record)
				}
			}
			inFile = append(inFile, r)
		}
		rs = append(rs, inFile...)
	}
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].File != rs[j].File {
			return rs[i].File < rs[j].File
		}
		return rs[i].Record < rs[j].Record
	})
	return rs
}
