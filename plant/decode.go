package plant

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/plcctl/plcctl/internal/errlist"
	"github.com/plcctl/plcctl/internal/suggest"
)

// Error is one mistake in a plant file: where it is (line and column of the
// offending key or value), which key (its path from the top of the file,
// e.g. devices[0].tags[2].type) and what is wrong.
type Error struct {
	File         string
	Line, Column int
	Key          string
	Msg          string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("plant: ")
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
		if e.Column > 0 {
			b.WriteString(":" + strconv.Itoa(e.Column))
		}
	}
	if e.Key != "" {
		b.WriteString(": " + e.Key)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// Errors is every mistake found in a file, in line order, one a line.
// Parse returns it (as error) when there is at least one.
type Errors = errlist.List[*Error]

// maxErrors bounds the list: past it a file is wrong enough.
const maxErrors = 50

// decoder walks the YAML node tree, checking every key and value itself:
// unknown keys, duplicate keys and wrong types are errors naming the line
// and the key's path.
type decoder struct {
	file      string
	errs      Errors
	visits    int  // nodes walked, bounded by maxVisits
	maxVisits int  // visitFactor times the file's nodes
	exploded  bool // maxVisits passed and reported
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	if len(d.errs) >= maxErrors {
		return
	}
	e := &Error{File: d.file, Key: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

func (d *decoder) sorted() Errors {
	sort.SliceStable(d.errs, func(i, j int) bool { return d.errs[i].Line < d.errs[j].Line })
	return d.errs
}

// Aliases are expanded where they are used, so aliases of aliases could
// make a small file walk billions of nodes ("billion laughs"). The decoder
// walks at most visitFactor times the nodes the file has (each node is
// looked at about twice; the rest is room for a few aliases).
const visitFactor = 4

// countNodes returns the nodes of the tree, aliases not followed.
func countNodes(n *yaml.Node) int {
	c := 1
	for _, k := range n.Content {
		c += countNodes(k)
	}
	return c
}

// deref follows an alias (*anchor) to its node and counts the visit. Past
// the budget it reports the file once and returns a null node, so the walk
// ends quickly.
func (d *decoder) deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if d.visits++; d.visits > d.maxVisits {
		if !d.exploded {
			d.exploded = true
			e := &Error{File: d.file, Msg: fmt.Sprintf("aliases expand the file past %d YAML nodes, %d times the %d it has: refused",
				d.maxVisits, visitFactor, d.maxVisits/visitFactor)}
			if n != nil {
				e.Line, e.Column = n.Line, n.Column
			}
			d.errs = append(d.errs, e) // even past maxErrors: it is why the walk stopped
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "nothing"
		case "!!int":
			return "the integer " + n.Value
		case "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		}
		return strconv.Quote(n.Value)
	}
	return "something else"
}

// object is a checked mapping: its keys are known and given once.
type object struct {
	path   string
	node   *yaml.Node
	values map[string]*yaml.Node
	keys   map[string]*yaml.Node
}

// get returns the value of key, or nil.
func (o *object) get(key string) *yaml.Node { return o.values[key] }

// at returns the path of key.
func (o *object) at(key string) string {
	if o.path == "" {
		return key
	}
	return o.path + "." + key
}

// object checks that n is a mapping whose keys are all in allowed and
// given once. It returns nil (after reporting) when n is not a mapping.
func (d *decoder) object(n *yaml.Node, path string, allowed []string) *object {
	n = d.deref(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping with keys %s, got %s", strings.Join(allowed, ", "), kindName(n))
		return nil
	}
	o := &object{path: path, node: n, values: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := d.deref(n.Content[i]), n.Content[i+1]
		kp := o.at(k.Value)
		switch {
		case k.Kind != yaml.ScalarNode:
			d.errorf(k, path, "a key must be a plain name, got %s", kindName(k))
			continue
		case k.Value == "<<":
			d.errorf(k, kp, "merge keys (<<) are not supported: write the keys out")
			continue
		case !contains(allowed, k.Value):
			d.errorf(k, kp, "unknown key %q (want one of %s)%s", k.Value, strings.Join(allowed, ", "), suggest.DidYouMean(k.Value, allowed))
			continue
		}
		if first, dup := o.keys[k.Value]; dup {
			d.errorf(k, kp, "key %q given twice (first at line %d)", k.Value, first.Line)
			continue
		}
		o.keys[k.Value], o.values[k.Value] = k, d.deref(v)
	}
	return o
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// entry is one key/value pair of a mapping with free keys (addresses).
type entry struct {
	key, value *yaml.Node
}

// entries checks that n is a mapping and returns its pairs; keys that are
// given twice are reported.
func (d *decoder) entries(n *yaml.Node, path string) []entry {
	n = d.deref(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping, got %s", kindName(n))
		return nil
	}
	var out []entry
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := d.deref(n.Content[i]), d.deref(n.Content[i+1])
		if line, dup := seen[k.Value]; dup {
			d.errorf(k, path+"."+k.Value, "key %q given twice (first at line %d)", k.Value, line)
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, entry{k, v})
	}
	return out
}

// list checks that n is a sequence and returns its items.
func (d *decoder) list(n *yaml.Node, path string) []*yaml.Node {
	n = d.deref(n)
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "want a list, got %s", kindName(n))
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = d.deref(c)
	}
	return out
}

// str returns a string scalar.
func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		d.errorf(n, path, "want a string, got %s", kindName(n))
		return "", false
	}
	return n.Value, true
}

// text is str for text the tools print as it is (a tag's description and
// unit of measure in plcctl's tables): a control character ("\e[2J" in a
// quoted string, which YAML takes) would be sent to the terminal of
// whoever lists the tags. lines allows line breaks and tabs (a plant's
// description, which no table shows).
func (d *decoder) text(n *yaml.Node, path string, lines bool) (string, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return "", false
	}
	bad := func(r rune) bool { return unicode.IsControl(r) && !(lines && (r == '\n' || r == '\t' || r == '\r')) }
	if i := strings.IndexFunc(s, bad); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		d.errorf(n, path, "control character U+%04X in the text: plcctl prints it as it is, so write plain text", r)
		return "", false
	}
	return s, true
}

// integer returns an integer scalar within lo..hi. YAML's 0x, 0o and 0b
// forms are integers.
func (d *decoder) integer(n *yaml.Node, path string, lo, hi int64) (int64, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		d.errorf(n, path, "want an integer %d..%d, got %s", lo, hi, kindName(n))
		return 0, false
	}
	v, err := strconv.ParseInt(n.Value, 10, 64) // the common case, without reflection
	if err != nil {
		err = n.Decode(&v) // 0x, 0o, 0b forms
	}
	if err != nil || v < lo || v > hi {
		d.errorf(n, path, "%s is out of range %d..%d", n.Value, lo, hi)
		return 0, false
	}
	return v, true
}

// uint64Value returns a non-negative integer scalar up to 2^64-1.
func (d *decoder) uint64Value(n *yaml.Node, path string) (uint64, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		d.errorf(n, path, "want a non-negative integer, got %s", kindName(n))
		return 0, false
	}
	var v uint64
	if err := n.Decode(&v); err != nil {
		d.errorf(n, path, "%s is not an integer 0..%d", n.Value, uint64(math.MaxUint64))
		return 0, false
	}
	return v, true
}

// number returns an integer or float scalar as float64.
func (d *decoder) number(n *yaml.Node, path string) (float64, bool) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		d.errorf(n, path, "want a number, got %s", kindName(n))
		return 0, false
	}
	var v float64
	if err := n.Decode(&v); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		d.errorf(n, path, "%s is not a finite number", n.Value)
		return 0, false
	}
	return v, true
}

// boolean returns a true/false scalar.
func (d *decoder) boolean(n *yaml.Node, path string) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		d.errorf(n, path, "want true or false, got %s", kindName(n))
		return false, false
	}
	var v bool
	if err := n.Decode(&v); err != nil {
		d.errorf(n, path, "%s is not true or false", n.Value)
		return false, false
	}
	return v, true
}

// duration returns a Go duration string ("500ms", "2s") within lo..hi.
func (d *decoder) duration(n *yaml.Node, path string, lo, hi time.Duration) (time.Duration, bool) {
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float") {
		// "scan: 100": a number, but of what? Not "want a string".
		d.errorf(n, path, "%s is a number without a unit: write a duration such as %sms or %ss", n.Value, n.Value, n.Value)
		return 0, false
	}
	s, ok := d.str(n, path)
	if !ok {
		return 0, false
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		d.errorf(n, path, "%q is not a duration such as 500ms or 2s", s)
		return 0, false
	}
	if v < lo || v > hi {
		d.errorf(n, path, "%s is out of range %v..%v", s, lo, hi)
		return 0, false
	}
	return v, true
}

// choice returns a string scalar that is one of names.
func (d *decoder) choice(n *yaml.Node, path string, names ...string) (string, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return "", false
	}
	if !contains(names, s) {
		d.errorf(n, path, "%q is not one of %s", s, strings.Join(names, ", "))
		return "", false
	}
	return s, true
}
