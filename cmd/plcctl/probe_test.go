package main

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/plcctl/plcctl/plant"
)

// fakeTable answers reads as a device serving runs does: a read is answered
// when every address it names is in one of them, 02 otherwise.
func fakeTable(runs []plant.Range) func(addr uint16, n int) (bool, error) {
	var in [0x10000]bool
	for _, r := range runs {
		for a := int(r.Start); a <= int(r.End); a++ {
			in[a] = true
		}
	}
	return func(addr uint16, n int) (bool, error) {
		if n < 1 || int(addr)+n > 0x10000 {
			return false, fmt.Errorf("read %d+%d outside the address space", addr, n)
		}
		for a := int(addr); a < int(addr)+n; a++ {
			if !in[a] {
				return false, nil
			}
		}
		return true, nil
	}
}

// TestProbeRanges: the probe finds each run that holds a sampled address
// exactly, however the runs lie, in no more requests than probeBound, and
// each request stays within the protocol's quantity limit.
func TestProbeRanges(t *testing.T) {
	rg := func(a, b uint16) plant.Range { return plant.Range{Start: a, End: b} }
	tests := []struct {
		name   string
		step   int
		maxQty int
		serve  []plant.Range
		want   []plant.Range // nil: same as serve
		under  int           // at most this many requests (0: only the bound)
	}{
		{name: "nothing", step: 100, maxQty: 125, want: []plant.Range{}},
		{name: "everything", step: 100, maxQty: 125, serve: []plant.Range{rg(0, 0xFFFF)}},
		{name: "from 0 to 999", step: 100, maxQty: 125, serve: []plant.Range{rg(0, 999)}, under: 657 + 9 + 7},
		{name: "sparse.yaml holding registers", step: 100, maxQty: 125,
			serve: []plant.Range{rg(39, 39), rg(1000, 1099), rg(2000, 2009)},
			want:  []plant.Range{rg(1000, 1099), rg(2000, 2009)}}, // 39 holds no sample
		{name: "single address with step 1", step: 1, maxQty: 125, serve: []plant.Range{rg(39, 39), rg(41, 41)}},
		{name: "runs between samples", step: 100, maxQty: 125, serve: []plant.Range{rg(150, 420), rg(433, 777), rg(65530, 65535)}},
		{name: "hole of one between samples", step: 100, maxQty: 125, serve: []plant.Range{rg(0, 149), rg(151, 300)}},
		{name: "hole right after a sample", step: 100, maxQty: 125, serve: []plant.Range{rg(0, 100), rg(102, 250)}},
		{name: "hole right before a sample", step: 100, maxQty: 125, serve: []plant.Range{rg(0, 198), rg(200, 250)}},
		{name: "top of the space", step: 100, maxQty: 125, serve: []plant.Range{rg(65535, 65535)}},
		{name: "step wider than one read", step: 1000, maxQty: 125, serve: []plant.Range{rg(500, 2600), rg(2602, 9999), rg(64000, 65535)}},
		{name: "bits", step: 100, maxQty: 2000, serve: []plant.Range{rg(100, 115)}},
		{name: "step 65535", step: 65535, maxQty: 2000, serve: []plant.Range{rg(0, 10), rg(65000, 65535)}},
		{name: "every other address", step: 4, maxQty: 125, serve: every(2, 0, 400), want: every(4, 0, 400)}, // the worst case
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if want == nil {
				want = tt.serve
			}
			serve := fakeTable(tt.serve)
			p := &prober{step: tt.step, maxQty: tt.maxQty, served: func(addr uint16, n int) (bool, error) {
				if n > tt.maxQty {
					return false, fmt.Errorf("read of %d items, more than %d", n, tt.maxQty)
				}
				return serve(addr, n)
			}}
			got, err := p.ranges()
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				got = []plant.Range{}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ranges() = %v, want %v", got, want)
			}
			if b := probeBound(tt.step, tt.maxQty); p.sent > b {
				t.Errorf("%d requests, more than the bound %d", p.sent, b)
			}
			if tt.under > 0 && p.sent > tt.under {
				t.Errorf("%d requests, want at most %d", p.sent, tt.under)
			}
		})
	}
}

// every returns the one-address runs lo, lo+n, lo+2n, ... up to hi.
func every(n, lo, hi uint16) []plant.Range {
	var rs []plant.Range
	for a := lo; a <= hi; a += n {
		rs = append(rs, plant.Range{Start: a, End: a})
	}
	return rs
}

// TestProbeBound: the documented figures (657 samples, at most 10497
// requests with the default step) and an error other than 02 stops the
// probe at once.
func TestProbeBound(t *testing.T) {
	if n := len(probeSamples(defaultProbeStep)); n != 657 {
		t.Errorf("%d samples with the default step, want 657", n)
	}
	if b := probeBound(defaultProbeStep, 125); b != 10497 {
		t.Errorf("probeBound(100, 125) = %d, want 10497", b)
	}
	if b := probeBound(1, 125); b != 65536+65535 {
		t.Errorf("probeBound(1, 125) = %d, want %d", b, 65536+65535)
	}
	boom := errors.New("timeout")
	p := &prober{step: 100, maxQty: 125, served: func(addr uint16, n int) (bool, error) {
		if addr == 300 {
			return false, boom
		}
		return addr < 250, nil
	}}
	if _, err := p.ranges(); !errors.Is(err, boom) || p.sent > 20 {
		t.Errorf("ranges() = %v after %d requests, want the error at once", err, p.sent)
	}
}
