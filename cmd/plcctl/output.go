package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/plcctl/plcctl/plc"
)

// values is the result of reading or writing items: the JSON object of
// every read and write command, one per line. Keys are stable snake_case;
// address is always the 0-based protocol address.
type values struct {
	Function  string `json:"function"`
	Unit      uint8  `json:"unit"`
	Address   uint16 `json:"address"`
	Count     int    `json:"count"`
	Type      string `json:"type,omitempty"`       // registers only
	WordOrder string `json:"word_order,omitempty"` // when not ABCD
	Values    []any  `json:"values"`               // bool for bits, numbers, strings for hex/bits/string

	typ     plc.Type
	isBits  bool // coils or discrete inputs: Values holds bool
	step    int  // registers (or items) per value, for the address column
	indexed bool // FIFO: the key column is the position in the queue
	raw     []any
}

// newRegisterValues builds the result for typed register values.
func newRegisterValues(fn string, unit uint8, addr uint16, t plc.Type, o plc.WordOrder, vals []any) *values {
	v := &values{Function: fn, Unit: unit, Address: addr, Count: len(vals), Type: t.String(), Values: []any{},
		typ: t, step: t.Registers(), raw: vals}
	if orderApplies(t, o) {
		v.WordOrder = o.String()
	}
	for _, x := range vals {
		v.Values = append(v.Values, jsonValue(t, x))
	}
	return v
}

// orderApplies reports whether word order o changed how values of t were
// decoded or encoded, so that JSON names it only then: hex and bits show
// the registers as sent, and 16-bit values and strings see only the byte
// swap (BADC, DCBA). "word_order":"BADC" on hex values claimed a swap that
// was not made, which a program would then undo.
func orderApplies(t plc.Type, o plc.WordOrder) bool {
	switch {
	case t == plc.Hex || t == plc.Bits:
		return false
	case t == plc.String || t.Registers() == 1:
		return o.ByteSwap()
	}
	return o != plc.ABCD
}

// newBitValues builds the result for coils or discrete inputs.
func newBitValues(fn string, unit uint8, addr uint16, bits []bool) *values {
	v := &values{Function: fn, Unit: unit, Address: addr, Count: len(bits), isBits: true, step: 1, Values: []any{}}
	for _, b := range bits {
		v.Values = append(v.Values, b)
		v.raw = append(v.raw, b)
	}
	return v
}

// jsonValue is x as JSON carries it: numbers stay numbers, except NaN and
// infinities (strings "NaN", "+Inf", "-Inf"); hex and bits are strings.
func jsonValue(t plc.Type, x any) any {
	switch f := x.(type) {
	case float32:
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return strconv.FormatFloat(float64(f), 'g', -1, 32)
		}
	case float64:
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
	case uint16:
		if t == plc.Hex || t == plc.Bits {
			return plc.FormatValue(t, x)
		}
	}
	return x
}

// text returns value i as text output shows it.
func (v *values) text(i int) string {
	if v.isBits {
		if v.raw[i].(bool) {
			return "1"
		}
		return "0"
	}
	s := plc.FormatValue(v.typ, v.raw[i])
	if v.typ == plc.String {
		s = textString(s)
	}
	return s
}

// textString is a string value as text output shows it: quoted when it is
// empty, starts or ends with a space, or holds an unprintable rune, so that
// what the registers hold can be seen ("" was a blank after the address,
// and trailing blanks were lost in the column).
func textString(s string) string {
	if s == "" || strings.TrimSpace(s) != s || strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return strconv.Quote(s)
	}
	return s
}

// key returns the first column of row i: the address as the user numbers it,
// or the queue position.
func (a *app) key(v *values, i int) string {
	if v.indexed {
		return strconv.Itoa(i)
	}
	return strconv.Itoa(a.display(int(v.Address) + i*v.step))
}

// printValues writes a read result in the --output format.
func (a *app) printValues(v *values) error {
	switch a.opts.output {
	case "json":
		return writeJSON(a.stdout, v)
	case "csv":
		rows := [][]string{{"address", "value"}}
		if v.indexed {
			rows[0][0] = "index"
		}
		for i := range v.raw {
			k := strconv.Itoa(int(v.Address) + i*v.step)
			if v.indexed {
				k = strconv.Itoa(i)
			}
			rows = append(rows, []string{k, v.csv(i)})
		}
		return writeCSV(a.stdout, rows)
	}
	rows := make([][2]string, len(v.raw))
	for i := range v.raw {
		rows[i] = [2]string{a.key(v, i), v.text(i)}
	}
	return writeTable(a.stdout, rows)
}

// csv returns value i as a CSV field: as text, but strings unquoted.
func (v *values) csv(i int) string {
	if v.typ == plc.String && !v.isBits {
		return plc.FormatValue(v.typ, v.raw[i])
	}
	return v.text(i)
}

// writeTable writes "KEY  VALUE" lines, keys right-aligned.
func writeTable(w io.Writer, rows [][2]string) error {
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	var sb strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&sb, "%*s  %s\n", width, r[0], r[1])
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// writeColumns writes rows as a table: cells two spaces apart, each column
// as wide as its widest cell (in runes), aligned left or, for the columns
// listed in right (numbers), right; no trailing blanks. A left-aligned last
// cell does not widen its column, so a note that ends one row (scan's
// "(device identification unsupported)") does not push apart a column of
// names in the others.
func writeColumns(w io.Writer, rows [][]string, right ...int) error {
	var width []int
	for _, r := range rows {
		for i, c := range r {
			if i == len(width) {
				width = append(width, 0)
			}
			if i < len(r)-1 || slices.Contains(right, i) {
				width[i] = max(width[i], utf8.RuneCountInString(c))
			}
		}
	}
	var sb, line strings.Builder
	for _, r := range rows {
		line.Reset()
		for i, c := range r {
			pad := strings.Repeat(" ", max(width[i]-utf8.RuneCountInString(c), 0))
			switch {
			case slices.Contains(right, i):
				line.WriteString(pad + c)
			case i < len(r)-1:
				line.WriteString(c + pad)
			default:
				line.WriteString(c)
			}
			if i < len(r)-1 {
				line.WriteString("  ")
			}
		}
		sb.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// writeJSON writes v as one line of JSON.
func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// writeCSV writes rows, the first being the header.
func writeCSV(w io.Writer, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

// spacedHex formats b as "00 01 FF", as the golden frames do.
func spacedHex(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%02X", c)
	}
	return sb.String()
}
