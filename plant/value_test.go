package plant

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/plcctl/plcctl/values"
)

func tagsOf(t *testing.T, tags string) *Plant {
	t.Helper()
	p, err := Parse([]byte(head+tags), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTagValues(t *testing.T) {
	p := tagsOf(t, `      - {name: bar, table: hr, address: 0, type: int16, scale: 0.1, eng_unit: bar}
      - {name: kwh, table: hr, address: 1, type: uint32, order: CDAB, scale: 0.001, offset: -100}
      - {name: f, table: hr, address: 3, type: float32, order: BADC}
      - {name: b3, table: hr, address: 5, bit: 3}
      - {name: s, table: hr, address: 6, type: string, chars: 5}
      - {name: c, table: coil, address: 0}
      - {name: h, table: hr, address: 9, type: hex}
`)
	tests := []struct {
		tag, text string
		regs      []uint16
		shown     string
	}{
		{"bar", "-12.5", []uint16{0xFF83}, "-12.5"},
		{"bar", "3276.7", []uint16{0x7FFF}, "3276.7"},
		{"kwh", "1234.567", []uint16{0x5C47, 0x0013}, "1234.567"}, // raw 1334567 = 0x00145C27? checked below
		{"f", "123.456", []uint16{0xF642, 0x79E9}, "123.456"},
		{"s", "AB", []uint16{0x4142, 0, 0}, "AB"},
		{"s", "PLC-1", []uint16{0x504C, 0x432D, 0x3100}, "PLC-1"},
		{"h", "0xBEEF", []uint16{0xBEEF}, "0xBEEF"},
	}
	for _, tc := range tests {
		tag := p.Tag(tc.tag)
		v, err := tag.ParseValue(tc.text)
		if err != nil {
			t.Errorf("%s.ParseValue(%q): %v", tc.tag, tc.text, err)
			continue
		}
		regs, err := tag.EncodeValue(v)
		if tc.tag == "kwh" {
			// raw = (1234.567 + 100) / 0.001 = 1334567 = 0x0014_5D27, low word first
			tc.regs = []uint16{0x5D27, 0x0014}
		}
		if err != nil || !slices.Equal(regs, tc.regs) {
			t.Errorf("%s.EncodeValue(%v) = %04X, %v, want %04X", tc.tag, v, regs, err, tc.regs)
			continue
		}
		back, err := tag.DecodeValue(regs)
		if err != nil || tag.Format(back) != tc.shown {
			t.Errorf("%s.DecodeValue(%04X) = %v (%q), %v, want %s", tc.tag, regs, back, tag.Format(back), err, tc.shown)
		}
	}
	bad := []struct{ tag, text, msg string }{
		{"bar", "3276.8", "out of range"},
		{"bar", "1.25", "not a whole step"},
		{"bar", "high", "not a finite number"},
		{"s", "TOOLONG", "7 characters, more than the tag's 5"},
		{"s", "Zählr", "6 bytes in UTF-8 (5 characters), more than the tag's 5: chars counts bytes"},
		{"c", "maybe", "want true, false"},
		{"h", "0x10000", "out of range"},
		{"f", "1e39", "out of range"},
	}
	for _, tc := range bad {
		_, err := p.Tag(tc.tag).ParseValue(tc.text)
		var te *TagError
		if !errors.As(err, &te) || te.Tag != tc.tag || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s.ParseValue(%q) = %v, want a *TagError saying %q", tc.tag, tc.text, err, tc.msg)
		}
		if tc.tag != "c" && tc.tag != "bar" && !errors.Is(err, values.ErrValue) {
			t.Errorf("%s.ParseValue(%q) = %v, want it to wrap values.ErrValue", tc.tag, tc.text, err)
		}
	}
	b3 := p.Tag("b3")
	for _, tc := range []struct {
		v       bool
		cur, to uint16
	}{{true, 0x0000, 0x0008}, {true, 0xFFF7, 0xFFFF}, {false, 0xFFFF, 0xFFF7}, {false, 0x0010, 0x0010}} {
		and, or := b3.Mask(tc.v)
		// FC 22: result = (current AND and) OR (or AND NOT and) [AP §6.16]
		if got := tc.cur&and | or&^and; got != tc.to {
			t.Errorf("Mask(%v) on %04X gives %04X, want %04X", tc.v, tc.cur, got, tc.to)
		}
		if v, _ := b3.DecodeValue([]uint16{tc.to}); v != (tc.to&8 != 0) {
			t.Errorf("DecodeValue(%04X) = %v", tc.to, v)
		}
	}
	if _, err := b3.EncodeValue(true); err == nil {
		t.Error("EncodeValue on a bit tag = nil error, want one pointing to Mask")
	}
	// living values give floats: rounded to the nearest raw step
	if regs, err := p.Tag("bar").EncodeValue(1.26); err != nil || regs[0] != 13 {
		t.Errorf("bar.EncodeValue(1.26) = %v, %v, want raw 13", regs, err)
	}
	if _, err := p.Tag("bar").DecodeValue([]uint16{1, 2}); err == nil {
		t.Error("DecodeValue with 2 registers for a 1-register tag = nil error")
	}
}

// TestDecodeValueOddChars: a string tag of 5 characters takes 3 registers;
// the sixth byte is outside the field. A device with anything there showed
// a 6-character value ("PLC-1X") that the tag's own ParseValue refused
// (found by FuzzTagValue).
func TestDecodeValueOddChars(t *testing.T) {
	p := tagsOf(t, "      - {name: s, table: hr, address: 0, type: string, chars: 5}\n"+
		"      - {name: sw, table: hr, address: 3, type: string, chars: 3, order: BADC}\n")
	for _, tc := range []struct {
		tag  string
		regs []uint16
		want string
	}{
		{"s", []uint16{0x504C, 0x432D, 0x3158}, "PLC-1"},
		{"s", []uint16{0x4142, 0, 0x0058}, "AB"},
		{"sw", []uint16{0x4241, 0x5843}, "ABC"},
	} {
		v, err := p.Tag(tc.tag).DecodeValue(tc.regs)
		if err != nil || v != tc.want {
			t.Errorf("%s.DecodeValue(%04X) = %q, %v; want %q", tc.tag, tc.regs, v, err, tc.want)
		}
		if _, err := p.Tag(tc.tag).ParseValue(v.(string)); err != nil {
			t.Errorf("%s: the value shown, %q, is refused: %v", tc.tag, v, err)
		}
	}
}
