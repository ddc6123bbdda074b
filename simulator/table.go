package simulator

import (
	"fmt"
	"slices"
	"strings"
)

// Range is a run of item addresses First..Last (inclusive) that exist in a
// table.
type Range struct{ First, Last uint16 }

// Count is the number of items in the range.
func (r Range) Count() int { return int(r.Last) - int(r.First) + 1 }

// String returns "First..Last".
func (r Range) String() string { return itoa(int(r.First)) + ".." + itoa(int(r.Last)) }

// Table is the layout of one table of a unit: Size items from address 0, or
// the address Ranges that exist, so a sparse map or a table starting above 0
// can be modelled. A request naming any item outside them is answered with
// exception 02 [AP §7].
type Table struct {
	// Size is the number of items from address 0; 0 (with no Ranges) means
	// DefaultTableSize.
	Size int
	// Ranges, when not nil, replaces Size. Adjacent ranges are joined; a
	// non-nil empty slice is a table without any item.
	Ranges []Range
}

// ranges returns the table's address ranges, sorted and joined, or an error
// for a size outside 1..65536 or overlapping ranges.
func (t Table) ranges() ([]Range, error) {
	if t.Ranges == nil {
		n := t.Size
		if n == 0 {
			n = DefaultTableSize
		}
		if n < 1 || n > DefaultTableSize {
			return nil, fmt.Errorf("table size %d outside 1..65536", t.Size)
		}
		return []Range{{0, uint16(n - 1)}}, nil
	}
	rs := slices.Clone(t.Ranges)
	for _, r := range rs {
		if r.First > r.Last {
			return nil, fmt.Errorf("range %d..%d: first address above last", r.First, r.Last)
		}
	}
	slices.SortFunc(rs, func(a, b Range) int { return int(a.First) - int(b.First) })
	out := rs[:0]
	for _, r := range rs {
		if len(out) > 0 {
			p := &out[len(out)-1]
			if r.First <= p.Last {
				return nil, fmt.Errorf("ranges %s and %s overlap", p, r)
			}
			if int(r.First) == int(p.Last)+1 {
				p.Last = r.Last
				continue
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// segment is one contiguous run of items starting at address first.
type segment[T any] struct {
	first int
	v     []T
}

// table is the memory of one table: its segments in address order.
type table[T any] struct{ segs []segment[T] }

func newTable[T any](rs []Range) table[T] {
	t := table[T]{segs: make([]segment[T], len(rs))}
	for i, r := range rs {
		t.segs[i] = segment[T]{first: int(r.First), v: make([]T, r.Count())}
	}
	return t
}

// span returns items addr..addr+n-1 when they all exist (they are then in
// one segment, as adjacent ranges are joined), else nil.
func (t *table[T]) span(addr uint16, n int) []T {
	a := int(addr)
	for i := range t.segs {
		s := &t.segs[i]
		if a >= s.first && a+n <= s.first+len(s.v) && n >= 1 {
			return s.v[a-s.first : a-s.first+n]
		}
	}
	return nil
}

// clip returns up to n items from addr, stopping at the end of the segment
// holding addr; empty when addr does not exist.
func (t *table[T]) clip(addr uint16, n int) []T {
	a := int(addr)
	for i := range t.segs {
		s := &t.segs[i]
		if a >= s.first && a < s.first+len(s.v) {
			return s.v[a-s.first : min(a-s.first+n, len(s.v))]
		}
	}
	return nil
}

// describe names the table's extent for an exception's reason.
func (t *table[T]) describe() string {
	switch {
	case len(t.segs) == 0:
		return "a table without items"
	case len(t.segs) == 1 && t.segs[0].first == 0:
		return "table of " + itoa(len(t.segs[0].v))
	}
	var b strings.Builder
	b.WriteString("the table's ranges ")
	for i, s := range t.segs {
		if i == 4 {
			b.WriteString(", ... (" + itoa(len(t.segs)) + " ranges)")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(itoa(s.first) + ".." + itoa(s.first+len(s.v)-1))
	}
	return b.String()
}

// layout returns the table's ranges.
func (t *table[T]) layout() []Range {
	out := make([]Range, len(t.segs))
	for i, s := range t.segs {
		out[i] = Range{uint16(s.first), uint16(s.first + len(s.v) - 1)}
	}
	return out
}

// copyFrom copies the items of src that exist in t.
func (t *table[T]) copyFrom(src *table[T]) {
	for _, s := range src.segs {
		for i := 0; i < len(s.v); {
			d := t.clip(uint16(s.first+i), len(s.v)-i)
			if len(d) == 0 {
				i++
				continue
			}
			i += copy(d, s.v[i:])
		}
	}
}

// clear zeroes every item.
func (t *table[T]) clear() {
	for _, s := range t.segs {
		clear(s.v)
	}
}
