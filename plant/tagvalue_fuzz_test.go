package plant

import (
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/plcctl/plcctl/values"
)

// fuzzTags are the tags of the repository's plants (every type, order,
// scaling, bit and string form).
func fuzzTags(f *testing.F) []*Tag {
	files, _ := filepath.Glob("../testdata/plants/*.yaml")
	var tags []*Tag
	for _, name := range files {
		p, err := Load(name)
		if err != nil {
			f.Fatal(err)
		}
		tags = append(tags, p.Tags...)
	}
	if len(tags) == 0 {
		f.Fatal("no tags in ../testdata/plants")
	}
	return tags
}

// FuzzTagValue: for every tag (picked by sel), a value typed for plcctl set
// or the control API is accepted or refused with one printable *TagError
// naming the tag; and registers read from a device (raw) decode to a
// value whose text, as plcctl get shows it, sets the same value again.
func FuzzTagValue(f *testing.F) {
	tags := fuzzTags(f)
	for _, s := range []string{"0", "1", "-1", "on", "2.57", "-12.5", "1234.567", "21", "1e300", "NaN", "PLC-01",
		"toolongstring", "0xBEEF", "0b101", "65535.001", "\x1b[2J", "1\n2", "Zähler-01"} {
		f.Add(s, uint8(len(s)), []byte{0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0})
	}
	f.Add("", uint8(0), []byte{0x7F, 0xC0, 0, 1, 0, 0, 0, 0})
	for i := range min(len(tags), 256) { // every tag once, with registers of odd digits
		f.Add("", uint8(i), []byte{0x12, 0x35, 0x56, 0x79, 0x9A, 0xBD, 0xDE, 0xF1})
	}
	f.Fuzz(func(t *testing.T, s string, sel uint8, raw []byte) {
		tag := tags[int(sel)%len(tags)]
		if v, err := tag.ParseValue(s); err != nil {
			var te *TagError
			if !errors.As(err, &te) || te.Tag != tag.Name || !printableLine(err.Error()) {
				t.Fatalf("tag %s: ParseValue(%q) = %q (%T): want one printable *TagError", tag.Name, s, err, err)
			}
		} else if !tag.Bool {
			if _, err := tag.EncodeValue(v); err != nil {
				t.Fatalf("tag %s: ParseValue(%q) = %v, which EncodeValue refuses: %v", tag.Name, s, v, err)
			}
		}
		regs := make([]uint16, tag.Registers())
		for i := range regs {
			if 2*i+1 < len(raw) {
				regs[i] = uint16(raw[2*i])<<8 | uint16(raw[2*i+1])
			}
		}
		checkShownValue(t, tag, regs)
	})
}

// checkShownValue: what regs show as sets the same value.
func checkShownValue(t *testing.T, tag *Tag, regs []uint16) {
	t.Helper()
	v, err := tag.DecodeValue(regs)
	if err != nil {
		t.Fatalf("tag %s: DecodeValue(%04X): %v", tag.Name, regs, err)
	}
	if f, ok := toFloat(v); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return // shown, but no set can write it to a scaled tag (and NaN has many forms)
	}
	text := tag.Format(v)
	back, err := tag.ParseValue(text)
	if err != nil {
		if tag.Type == values.String && strings.ContainsRune(text, 0) {
			return // a NUL inside a string field
		}
		t.Fatalf("tag %s: registers %04X show as %q, which ParseValue refuses: %v", tag.Name, regs, text, err)
	}
	if tag.Bool {
		if back != v {
			t.Fatalf("tag %s: %v shows as %q, which sets %v", tag.Name, v, text, back)
		}
		return
	}
	again, err := tag.EncodeValue(back)
	if err != nil {
		t.Fatalf("tag %s: registers %04X show as %q, which EncodeValue refuses: %v", tag.Name, regs, text, err)
	}
	if tag.Type == values.String {
		if got, _ := tag.DecodeValue(again); got != v {
			t.Fatalf("tag %s: %q shows as %q, which writes %q", tag.Name, v, text, got)
		}
		return
	}
	if tag.Scaled && !tag.isInt() {
		// A float's offset absorbs what is below its precision (raw
		// 4.4e-41 times 2 plus 1 is 1): what set writes must show the
		// same, not be the same bits.
		if shown, _ := tag.DecodeValue(again); tag.Format(shown) != text {
			t.Fatalf("tag %s: registers %04X show as %q, which writes %04X, shown as %q", tag.Name, regs, text, again, tag.Format(shown))
		}
		return
	}
	if !slices.Equal(again, regs) {
		t.Fatalf("tag %s: registers %04X show as %q, which writes %04X", tag.Name, regs, text, again)
	}
}
