package plant

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"testing"

	"go.yaml.in/yaml/v3"
)

func loadSchema(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("plant.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("plant.schema.json: %v", err)
	}
	return s
}

// TestSchemaKeys: the schema's objects have exactly the keys the decoder
// accepts.
func TestSchemaKeys(t *testing.T) {
	s := loadSchema(t)
	defs := s["$defs"].(map[string]any)
	objectOf := func(def map[string]any) map[string]any {
		for _, alt := range asList(def["oneOf"]) {
			if m := alt.(map[string]any); m["type"] == "object" {
				return m
			}
		}
		return def
	}
	for name, keys := range map[string][]string{
		"": plantKeys, "device": deviceKeys, "unit": unitKeys, "bitTable": tableKeys, "registerTable": tableKeys,
		"identification": identityKeys, "serverID": serverIDKeys, "tag": tagKeys, "sim": simKeys,
		"access": accessKeys, "grant": grantKeys,
	} {
		def := s
		if name != "" {
			def = objectOf(defs[name].(map[string]any))
		}
		var got []string
		for k := range def["properties"].(map[string]any) {
			got = append(got, k)
		}
		sort.Strings(got)
		want := slices.Clone(keys)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("schema %q keys %v, decoder accepts %v", name, got, want)
		}
		if def["additionalProperties"] != false {
			t.Errorf("schema %q allows unknown keys", name)
		}
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// TestSchemaExamples: every example plant file is valid under the schema.
func TestSchemaExamples(t *testing.T) {
	s := loadSchema(t)
	files, _ := filepath.Glob("../testdata/plants/*.yaml")
	if len(files) < 3 {
		t.Fatalf("%d example plant files, want at least 3", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		v := &validator{root: s}
		v.check(doc.Content[0], s, "")
		for _, e := range v.errs {
			t.Errorf("%s: %s", f, e)
		}
	}
	// and the validator is not blind: a wrong file fails it
	var doc yaml.Node
	yaml.Unmarshal([]byte("version: 1\ndevices:\n  - name: d\n    tags: [{name: a, table: hr, address: 0, colour: red}]\n"), &doc)
	v := &validator{root: s}
	if v.check(doc.Content[0], s, ""); len(v.errs) == 0 {
		t.Error("schema validator accepted an unknown key")
	}
}

// validator checks a YAML node against the subset of JSON Schema that
// plant.schema.json uses.
type validator struct {
	root map[string]any
	errs []string
}

func (v *validator) check(n *yaml.Node, s map[string]any, path string) {
	for _, e := range v.match(n, s, path) {
		v.errs = append(v.errs, e)
	}
}

func (v *validator) match(n *yaml.Node, s map[string]any, path string) []string {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if ref, ok := s["$ref"].(string); ok {
		s = v.root["$defs"].(map[string]any)[ref[len("#/$defs/"):]].(map[string]any)
	}
	fail := func(format string, a ...any) []string {
		return []string{fmt.Sprintf("line %d: %s: ", n.Line, path) + fmt.Sprintf(format, a...)}
	}
	if alts := asList(s["oneOf"]); alts != nil {
		matched := 0
		for _, a := range alts {
			if len(v.match(n, a.(map[string]any), path)) == 0 {
				matched++
			}
		}
		if matched != 1 {
			return fail("matches %d of the oneOf alternatives", matched)
		}
		return nil
	}
	if c, ok := s["const"]; ok && n.Value != fmt.Sprint(c) {
		return fail("want %v", c)
	}
	if e := asList(s["enum"]); e != nil {
		for _, x := range e {
			if fmt.Sprint(x) == n.Value && n.Kind == yaml.ScalarNode {
				return nil
			}
		}
		return fail("%q not in enum", n.Value)
	}
	types := asList(s["type"])
	if t, ok := s["type"].(string); ok {
		types = []any{t}
	}
	if len(types) > 0 {
		ok := false
		for _, t := range types {
			ok = ok || kindMatches(n, t.(string))
		}
		if !ok {
			return fail("want %v, got %s", types, kindName(n))
		}
	}
	if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(n.Value) {
		return fail("%q does not match %s", n.Value, p)
	}
	if lo, ok := s["minimum"].(float64); ok {
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil && f < lo {
			return fail("%s below %v", n.Value, lo)
		}
	}
	if hi, ok := s["maximum"].(float64); ok {
		if x, err := strconv.ParseInt(n.Value, 0, 64); err == nil && float64(x) > hi {
			return fail("%s above %v", n.Value, hi)
		}
	}
	var errs []string
	switch n.Kind {
	case yaml.MappingNode:
		props, _ := s["properties"].(map[string]any)
		for _, r := range asList(s["required"]) {
			found := false
			for i := 0; i < len(n.Content); i += 2 {
				found = found || n.Content[i].Value == r
			}
			if !found {
				errs = append(errs, fail("required key %v missing", r)...)
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i].Value, n.Content[i+1]
			if ps, ok := props[k].(map[string]any); ok {
				errs = append(errs, v.match(val, ps, path+"."+k)...)
			} else if ap, ok := s["additionalProperties"].(map[string]any); ok {
				errs = append(errs, v.match(val, ap, path+"."+k)...)
			} else if s["additionalProperties"] == false {
				errs = append(errs, fail("unknown key %q", k)...)
			}
		}
	case yaml.SequenceNode:
		if mx, ok := s["maxItems"].(float64); ok && len(n.Content) > int(mx) {
			errs = append(errs, fail("%d items, at most %v", len(n.Content), mx)...)
		}
		if it, ok := s["items"].(map[string]any); ok {
			for i, c := range n.Content {
				errs = append(errs, v.match(c, it, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	}
	return errs
}

func kindMatches(n *yaml.Node, t string) bool {
	switch t {
	case "object":
		return n.Kind == yaml.MappingNode
	case "array":
		return n.Kind == yaml.SequenceNode
	case "string":
		return n.Kind == yaml.ScalarNode && n.Tag == "!!str"
	case "integer":
		return n.Kind == yaml.ScalarNode && n.Tag == "!!int"
	case "number":
		return n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float")
	case "boolean":
		return n.Kind == yaml.ScalarNode && n.Tag == "!!bool"
	}
	return false
}
