package plant

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/plcctl/plcctl/internal/limitfile"
)

// Keys each mapping of the file accepts. The JSON Schema
// (plant.schema.json) lists the same keys; a test keeps them in step.
var (
	plantKeys    = []string{"version", "name", "description", "seed", "scan", "numbering", "access", "faults", "devices"}
	deviceKeys   = []string{"name", "address", "description", "numbering", "unknown_unit", "access", "units", "tags"}
	unitKeys     = []string{"id", "ids", "coils", "discrete_inputs", "holding_registers", "input_registers", "identification", "server_id", "fifos", "files"}
	tableKeys    = []string{"size", "ranges", "values"}
	identityKeys = []string{"vendor_name", "product_code", "revision", "vendor_url", "product_name", "model_name", "user_application_name", "extended", "conformity"}
	serverIDKeys = []string{"id", "run", "additional"}
	tagKeys      = []string{"name", "unit_id", "table", "address", "type", "bit", "chars", "order", "scale", "offset", "eng_unit", "access", "initial", "description", "retentive", "alias", "sim"}
	simKeys      = []string{"kind", "min", "max", "period", "step", "every", "seed", "tag", "delay", "invert"}
)

// simKindKeys are the keys each living-value kind takes besides kind.
var simKindKeys = map[SimKind][]string{
	SimCounter:    {"min", "max", "step", "every"},
	SimRamp:       {"min", "max", "period"},
	SimSine:       {"min", "max", "period"},
	SimRandomWalk: {"min", "max", "step", "seed"},
	SimUptime:     {},
	SimClock:      {},
	SimFollow:     {"tag", "delay", "invert"},
}

// identityObjects maps the named identification keys to object ids.
var identityObjects = map[string]uint8{"vendor_name": 0, "product_code": 1, "revision": 2, "vendor_url": 3,
	"product_name": 4, "model_name": 5, "user_application_name": 6}

// nameRE is what a tag name may be (compiled when first used, not in every
// run of every program that imports plant).
var nameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.\-/]*$`) })

// Load reads and parses the plant file at path.
func Load(path string) (*Plant, error) {
	data, err := readFile(path, "a plant file")
	if err != nil {
		return nil, err
	}
	return Parse(data, path)
}

// readFile reads the plant or access (what) file at path.
func readFile(path, what string) ([]byte, error) {
	data, err := limitfile.Read(path, maxFileSize)
	if errors.As(err, new(*limitfile.TooLargeError)) {
		// Read no further: a wrong file (a disk image, /dev/zero) would fill memory.
		return nil, fmt.Errorf("plant: %w, more than %s may have", err, what)
	}
	if err != nil {
		return nil, fmt.Errorf("plant: %w", err)
	}
	return data, nil
}

// maxFileSize bounds what Parse accepts: a plant file is written by hand or
// by plcctl snapshot (65536 registers in hex are about 600 kB).
const maxFileSize = 8 << 20

var yamlLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`line (\d+)`) })

// Parse decodes and validates a plant file. filename is used in messages
// only. Every mistake found is returned, as Errors, each naming the line and
// the key.
func Parse(data []byte, filename string) (*Plant, error) {
	d := &decoder{file: filename}
	root, err := d.document(data, "version: 1 and devices:")
	if err != nil {
		return nil, err
	}
	p := d.plant(root)
	if len(d.errs) > 0 {
		return nil, d.sorted()
	}
	p.File = filename
	return p, nil
}

// document decodes the one YAML document of data and sets the walk's
// budget; needs names what an empty file lacks.
func (d *decoder) document(data []byte, needs string) (*yaml.Node, error) {
	if len(data) > maxFileSize {
		d.errorf(nil, "", "file is %d bytes, more than the %d a plant file may have", len(data), maxFileSize)
		return nil, d.sorted()
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		e := &Error{File: d.file, Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
		if m := yamlLine().FindStringSubmatchIndex(e.Msg); m != nil {
			e.Line, _ = strconv.Atoi(e.Msg[m[2]:m[3]])
			e.Msg = e.Msg[:m[0]] + strings.TrimPrefix(e.Msg[m[1]:], ": ")
		}
		if errors.Is(err, io.EOF) {
			e.Msg = "the file is empty: it needs at least " + needs
		}
		if e.Line == 0 { // the YAML decoder says what, not where: find it
			if line, col, what := badText(data); line > 0 {
				e.Line, e.Column, e.Msg = line, col, "not valid YAML: "+what
			}
		}
		if e.Line > 0 && strings.Contains(e.Msg, "cannot start any token") && tabIndent(data, e.Line) {
			e.Msg = "not valid YAML: a tab in the indentation: YAML indents with spaces"
		}
		return nil, Errors{e}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, Errors{{File: d.file, Line: extra.Line, Msg: "more than one YAML document (---): the file is one"}}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	d.maxVisits = visitFactor * countNodes(root)
	return root, nil
}

// badText finds the first byte YAML does not take, for an error the
// decoder gives without a line: a byte that is not UTF-8, or a control
// character (YAML takes tab, line feed and carriage return, and U+0085).
// It returns line 0 when there is none, or the file is UTF-16.
func badText(data []byte) (line, col int, what string) {
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return 0, 0, "" // UTF-16, which the decoder reads: its bytes are not the text
	}
	line, col = 1, 1
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			return line, col, fmt.Sprintf("byte 0x%02X is not UTF-8 (a file in another encoding, such as Latin-1? save it as UTF-8)", data[i])
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r', r == 0x7F, r >= 0x80 && r < 0xA0 && r != 0x85:
			return line, col, fmt.Sprintf("control character U+%04X: YAML does not take it, even quoted (write it as an escape, \"\\x%02X\")", r, r)
		case r == '\n':
			line, col = line+1, 0
		}
		i += n
		col++
	}
	return 0, 0, ""
}

// tabIndent reports whether line (1-based) of data is indented with a tab.
func tabIndent(data []byte, line int) bool {
	lines := bytes.SplitN(data, []byte("\n"), line+1)
	if line > len(lines) {
		return false
	}
	l := lines[line-1]
	return len(l) > len(bytes.TrimLeft(l, " \t")) && bytes.ContainsRune(l[:len(l)-len(bytes.TrimLeft(l, " \t"))], '\t')
}

// parseCtx carries what later checks need about the node each value came
// from.
type parseCtx struct {
	*decoder
	p        *Plant
	tagNodes map[*Tag]*object
	simNodes map[*Sim]*object
	// unitRefs are the units: items of the access grants read so far
	// (each access: section keeps its own, for checkGrantUnits), and
	// rangeRefs their table ranges (for checkGrantRanges).
	unitRefs  []unitRef
	rangeRefs []rangeRef
}

func (d *decoder) plant(root *yaml.Node) *Plant {
	c := &parseCtx{decoder: d, p: &Plant{Seed: 1, Scan: DefaultScan, byName: map[string]*Tag{}},
		tagNodes: map[*Tag]*object{}, simNodes: map[*Sim]*object{}}
	o := d.object(root, "", plantKeys)
	if o == nil {
		return c.p
	}
	p := c.p
	if n := o.get("version"); n == nil {
		d.errorf(root, "version", "version is required (write version: %d at the top)", Version)
	} else if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && n.Value == strconv.Itoa(Version) {
		d.errorf(n, "version", "version is the integer %d, not the string %q: leave out the quotes", Version, n.Value)
	} else if v, ok := d.integer(n, "version", 0, 1<<31); ok && v != Version {
		d.errorf(n, "version", "version %d is not supported: plcctl and plcsim read version %d", v, Version)
	} else {
		p.Version = Version
	}
	if n := o.get("name"); n != nil {
		p.Name, _ = d.text(n, "name", false)
	}
	if n := o.get("description"); n != nil {
		p.Description, _ = d.text(n, "description", true)
	}
	if n := o.get("seed"); n != nil {
		p.Seed, _ = d.uint64Value(n, "seed")
	}
	if n := o.get("scan"); n != nil {
		p.Scan, _ = d.duration(n, "scan", time.Millisecond, time.Hour)
	}
	oneBased := false
	if n := o.get("numbering"); n != nil {
		s, _ := d.choice(n, "numbering", "zero-based", "one-based")
		oneBased = s == "one-based"
	}
	if n := o.get("access"); n != nil {
		p.Access = c.access(n, "access", addressing{oneBased: oneBased})
	}
	if n := o.get("faults"); n != nil {
		for i, f := range d.list(n, "faults") {
			if s, ok := d.str(f, fmt.Sprintf("faults[%d]", i)); ok {
				p.Faults = append(p.Faults, Fault{Rule: s, Line: f.Line})
			}
		}
	}
	n := o.get("devices")
	if n == nil {
		d.errorf(root, "devices", "devices is required: a list with at least one device")
		return p
	}
	items := d.list(n, "devices")
	if n.Kind == yaml.SequenceNode && len(items) == 0 {
		d.errorf(n, "devices", "devices is empty: give at least one device")
	}
	names := map[string]int{}
	for i, dn := range items {
		dev := c.device(dn, fmt.Sprintf("devices[%d]", i), oneBased)
		if dev == nil {
			continue
		}
		if line, dup := names[dev.Name]; dup && dev.Name != "" {
			d.errorf(dn, fmt.Sprintf("devices[%d].name", i), "device %q is defined twice (first at line %d)", dev.Name, line)
		}
		names[dev.Name] = dev.Line
		p.Devices = append(p.Devices, dev)
	}
	c.resolveSims()
	c.checkOverlaps()
	c.checkGrantUnits()
	c.checkGrantRanges()
	return p
}

func (c *parseCtx) device(n *yaml.Node, path string, oneBased bool) *Device {
	o := c.object(n, path, deviceKeys)
	if o == nil {
		return nil
	}
	dev := &Device{Line: o.node.Line}
	if v := o.get("name"); v == nil {
		c.errorf(o.node, o.at("name"), "name is required")
	} else if s, ok := c.str(v, o.at("name")); ok {
		if !nameRE().MatchString(s) {
			c.errorf(v, o.at("name"), "%q is not a name: letters, digits and _ . - / only, not starting with a digit", s)
		}
		dev.Name = s
	}
	if v := o.get("address"); v != nil {
		dev.Address, _ = c.deviceAddress(v, o.at("address"))
	}
	if v := o.get("description"); v != nil {
		dev.Description, _ = c.text(v, o.at("description"), true)
	}
	if v := o.get("numbering"); v != nil {
		s, _ := c.choice(v, o.at("numbering"), "zero-based", "one-based")
		oneBased = s == "one-based"
	}
	if v := o.get("unknown_unit"); v != nil {
		if s, _ := c.choice(v, o.at("unknown_unit"), "exception", "silence"); s == "silence" {
			dev.UnknownUnit = UnknownSilence
		}
	}
	a := addressing{oneBased: oneBased}
	if v := o.get("access"); v != nil {
		dev.Access = c.access(v, o.at("access"), a)
	}
	if v := o.get("units"); v != nil {
		ids := map[uint8]int{}
		for i, un := range c.list(v, o.at("units")) {
			for _, u := range c.unit(un, fmt.Sprintf("%s[%d]", o.at("units"), i), a) {
				if line, dup := ids[u.ID]; dup {
					c.errorf(un, fmt.Sprintf("%s[%d].id", o.at("units"), i), "unit %d is defined twice (first at line %d)", u.ID, line)
					continue
				}
				ids[u.ID] = u.Line
				u.Device = dev
				dev.Units = append(dev.Units, u)
			}
		}
		if v.Kind == yaml.SequenceNode && len(v.Content) == 0 {
			c.errorf(v, o.at("units"), "units is empty: give at least one unit, or leave units out for unit 1 with every table full")
		}
	} else {
		dev.Units = []*Unit{{ID: 1, Device: dev, Tables: fullTables(), Line: dev.Line}}
	}
	if v := o.get("tags"); v != nil {
		for i, tn := range c.list(v, o.at("tags")) {
			if t := c.tag(tn, fmt.Sprintf("%s[%d]", o.at("tags"), i), dev, a); t != nil {
				dev.Tags = append(dev.Tags, t)
			}
		}
	}
	return dev
}

// deviceAddress reads a device's address: host:port, or a port alone
// (5020, "5020" or ":5020"), which is loopback, 127.0.0.1:PORT, as for
// plcsim --listen: Go would take an empty host for every interface, and a
// simulator anyone on the network can write to takes 0.0.0.0:PORT spelled
// out. The address is returned as net.JoinHostPort writes it.
func (c *parseCtx) deviceAddress(n *yaml.Node, path string) (string, bool) {
	s := n.Value
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		var ok bool
		if s, ok = c.str(n, path); !ok {
			return "", false
		}
	}
	if p := strings.TrimPrefix(s, ":"); p != "" && strings.Trim(p, "0123456789") == "" {
		s = "127.0.0.1:" + p
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		c.errorf(n, path, "%q is not host:port (e.g. 127.0.0.1:5020; a port alone is 127.0.0.1, every interface is 0.0.0.0:PORT)", n.Value)
		return "", false
	}
	v, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		c.errorf(n, path, "%q: port %q is not a number 0..65535", n.Value, port)
		return "", false
	}
	return net.JoinHostPort(host, strconv.FormatUint(v, 10)), true
}

// addressing converts the file's addresses to 0-based PDU addresses.
type addressing struct{ oneBased bool }

func (a addressing) lo() int64 {
	if a.oneBased {
		return 1
	}
	return 0
}

// address reads one address and returns it 0-based.
func (a addressing) address(d *decoder, n *yaml.Node, path string) (uint16, bool) {
	v, ok := d.integer(n, path, a.lo(), a.lo()+65535)
	return uint16(v - a.lo()), ok
}

// parseAddress converts one address in text.
func (a addressing) parseText(s string) (uint16, error) {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 0, 64)
	if err != nil || v < a.lo() || v > a.lo()+65535 {
		return 0, fmt.Errorf("%q is not an address %d..%d", s, a.lo(), a.lo()+65535)
	}
	return uint16(v - a.lo()), nil
}

func fullTables() [4]Table {
	var ts [4]Table
	for k := range ts {
		ts[k] = Table{Kind: TableKind(k), Ranges: []Range{{0, 65535}}}
	}
	return ts
}

func (c *parseCtx) unit(n *yaml.Node, path string, a addressing) []*Unit {
	o := c.object(n, path, unitKeys)
	if o == nil {
		return nil
	}
	var ids []uint8
	idN, idsN := o.get("id"), o.get("ids")
	switch {
	case idN != nil && idsN != nil:
		c.errorf(o.keys["ids"], o.at("ids"), "give id or ids, not both")
	case idN != nil:
		if v, ok := c.unitID(idN, o.at("id")); ok {
			ids = append(ids, v)
		}
	case idsN != nil:
		for i, in := range c.list(idsN, o.at("ids")) {
			if v, ok := c.unitID(in, fmt.Sprintf("%s[%d]", o.at("ids"), i)); ok {
				ids = append(ids, v)
			}
		}
	default:
		c.errorf(o.node, o.at("id"), "id is required (the unit id 1..255)")
	}
	u := &Unit{Tables: fullTables(), Line: o.node.Line}
	for k := Coils; k <= InputRegisters; k++ {
		if v := o.get(k.String()); v != nil {
			u.Tables[k] = c.table(v, o.at(k.String()), k, a)
		}
	}
	if v := o.get("identification"); v != nil {
		u.Identity = c.identity(v, o.at("identification"))
	}
	if v := o.get("server_id"); v != nil {
		u.ServerID = c.serverID(v, o.at("server_id"))
	}
	if v := o.get("fifos"); v != nil {
		u.FIFOs = c.fifos(v, o.at("fifos"), a, &u.Tables[HoldingRegisters])
	}
	if v := o.get("files"); v != nil {
		u.Records = c.files(v, o.at("files"))
	}
	out := make([]*Unit, len(ids))
	for i, id := range ids {
		cp := *u
		cp.ID = id
		out[i] = &cp
	}
	return out
}

// unitID reads the id of a unit with a memory of its own: 1..255. Unit 0
// is refused with the reason: on a serial line behind a gateway it is the
// broadcast address, which no one device answers, and for a device
// directly on TCP it only says "this device" [IG §4.4.1.2]. 255 is
// accepted: it is the id the guide recommends for a device directly on
// TCP (MODBUS-NOTES "Unit identifier usage on TCP").
func (c *parseCtx) unitID(n *yaml.Node, path string) (uint8, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" && n.Value == "0" {
		c.errorf(n, path, "unit 0 cannot be a unit of its own: behind a gateway it is the serial broadcast address, and directly on TCP it only means \"this device\"; use 255 (the id recommended for a device directly on TCP) or a serial address 1..247")
		return 0, false
	}
	v, ok := c.integer(n, path, 1, 255)
	return uint8(v), ok
}

// table reads a table given as a size, a list of ranges, or a mapping with
// size or ranges and values.
func (c *parseCtx) table(n *yaml.Node, path string, k TableKind, a addressing) Table {
	t := Table{Kind: k}
	switch n.Kind {
	case yaml.ScalarNode:
		t.Ranges = c.size(n, path)
		return t
	case yaml.SequenceNode:
		t.Ranges = c.ranges(n, path, a)
		return t
	}
	o := c.object(n, path, tableKeys)
	if o == nil {
		return t
	}
	sz, rg := o.get("size"), o.get("ranges")
	switch {
	case sz != nil && rg != nil:
		c.errorf(o.keys["ranges"], o.at("ranges"), "give size or ranges, not both")
	case sz != nil:
		t.Ranges = c.size(sz, o.at("size"))
	case rg != nil:
		t.Ranges = c.ranges(rg, o.at("ranges"), a)
	default:
		t.Ranges = []Range{{0, 65535}}
	}
	if v := o.get("values"); v != nil {
		t.Blocks = c.blocks(v, o.at("values"), &t, a)
	}
	return t
}

func (c *parseCtx) size(n *yaml.Node, path string) []Range {
	v, ok := c.integer(n, path, 0, 65536)
	if !ok || v == 0 {
		return nil
	}
	return []Range{{0, uint16(v - 1)}}
}

// ranges reads a list of "A-B" strings or single addresses; they may not
// overlap, and touching ranges are merged.
func (c *parseCtx) ranges(n *yaml.Node, path string, a addressing) []Range {
	return mergeRanges(c.rangeItems(n, path, a))
}

// rangeItem is one item of a list of ranges, where it is in the file.
type rangeItem struct {
	node *yaml.Node
	path string
	r    Range
}

// rangeItems reads a list of ranges as ranges does, item by item.
func (c *parseCtx) rangeItems(n *yaml.Node, path string, a addressing) []rangeItem {
	var items []rangeItem
	for i, item := range c.list(n, path) {
		ip := fmt.Sprintf("%s[%d]", path, i)
		var r Range
		switch {
		case item.Kind == yaml.ScalarNode && item.Tag == "!!int":
			v, ok := a.address(c.decoder, item, ip)
			if !ok {
				continue
			}
			r = Range{v, v}
		case item.Kind == yaml.ScalarNode && item.Tag == "!!str":
			lo, hi, found := strings.Cut(item.Value, "-")
			s, err1 := a.parseText(lo)
			e, err2 := s, error(nil)
			if found {
				e, err2 = a.parseText(hi)
			}
			if err := errors.Join(err1, err2); err != nil {
				c.errorf(item, ip, "%q is not a range such as 0-99: %v", item.Value, err)
				continue
			}
			if e < s {
				c.errorf(item, ip, "range %q ends before it starts", item.Value)
				continue
			}
			r = Range{s, e}
		default:
			c.errorf(item, ip, "want a range such as \"0-99\" or one address, got %s", kindName(item))
			continue
		}
		items = append(items, rangeItem{item, ip, r})
	}
	overlaps(len(items), func(i int) (int, int) { return int(items[i].r.Start), int(items[i].r.End) }, func(i, j int) {
		c.errorf(items[i].node, items[i].path, "range %q overlaps the range at line %d", items[i].node.Value, items[j].node.Line)
	})
	return items
}

// overlaps finds the overlapping spans among n (span(i) is first and last
// address, inclusive) in n log n steps, not by comparing each with each
// (65536 one-address values took 17 s so): in address order, a span that
// starts before the furthest end of those before it overlaps that one;
// report(later, earlier) gets the two by index, later the higher. Each
// span is reported at most once against the span reaching furthest.
func overlaps(n int, span func(i int) (first, last int), report func(later, earlier int)) {
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		fa, _ := span(order[a])
		fb, _ := span(order[b])
		return fa < fb
	})
	reach, far := -1, -1 // furthest last address so far, and whose
	for _, i := range order {
		first, last := span(i)
		if far >= 0 && first <= reach {
			report(max(i, far), min(i, far))
		}
		if last > reach {
			reach, far = last, i
		}
	}
}

// mergeRanges is the ranges of items sorted, touching ones merged.
func mergeRanges(items []rangeItem) []Range {
	rs := make([]Range, len(items))
	for i, it := range items {
		rs[i] = it.r
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].Start < rs[j].Start })
	var merged []Range
	for _, r := range rs {
		if m := len(merged) - 1; m >= 0 && int(r.Start) <= int(merged[m].End)+1 {
			merged[m].End = max(merged[m].End, r.End)
			continue
		}
		merged = append(merged, r)
	}
	return merged
}

// blocks reads a table's values: start address -> list of raw values.
func (c *parseCtx) blocks(n *yaml.Node, path string, t *Table, a addressing) []Block {
	var bs []Block
	var keys []*yaml.Node // of bs, for overlap errors
	var paths []string
	for _, e := range c.entries(n, path) {
		kp := path + "." + e.key.Value
		start, ok := a.address(c.decoder, e.key, kp)
		if !ok {
			continue
		}
		b := Block{Start: start}
		items := c.list(e.value, kp)
		for i, item := range items {
			ip := fmt.Sprintf("%s[%d]", kp, i)
			if t.Kind.IsBits() {
				b.Bits = append(b.Bits, c.bit(item, ip))
			} else if v, ok := c.integer(item, ip, 0, 65535); ok {
				b.Regs = append(b.Regs, uint16(v))
			}
		}
		if b.Len() == 0 {
			if len(items) == 0 { // else each wrong value was said
				c.errorf(e.value, kp, "no values")
			}
			continue
		}
		if !t.Contains(b.Start, b.Len()) {
			c.errorf(e.key, kp, "%d values from address %s reach outside the table's ranges", b.Len(), e.key.Value)
			continue
		}
		bs = append(bs, b)
		keys = append(keys, e.key)
		paths = append(paths, kp)
	}
	overlaps(len(bs), func(i int) (int, int) { return int(bs[i].Start), int(bs[i].Start) + bs[i].Len() - 1 }, func(i, j int) {
		c.errorf(keys[i], paths[i], "values from address %s overlap the values from address %s (line %d)", keys[i].Value, keys[j].Value, keys[j].Line)
	})
	sort.Slice(bs, func(i, j int) bool { return bs[i].Start < bs[j].Start })
	return bs
}

// bit reads true/false or 0/1.
func (c *parseCtx) bit(n *yaml.Node, path string) bool {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		v, _ := c.integer(n, path, 0, 1)
		return v == 1
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		v, _ := c.boolean(n, path)
		return v
	}
	c.errorf(n, path, "want a bit: 0, 1, true or false, got %s", kindName(n))
	return false
}
