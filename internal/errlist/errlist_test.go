package errlist

import (
	"errors"
	"testing"
)

type mistake struct{ line int }

func (m *mistake) Error() string { return "f.yaml:" + string(rune('0'+m.line)) + ": wrong" }

// TestList: one line per mistake, and errors.As finds each.
func TestList(t *testing.T) {
	for _, tc := range []struct {
		name string
		l    List[*mistake]
		want string
	}{
		{"none", nil, ""},
		{"one", List[*mistake]{{1}}, "f.yaml:1: wrong"},
		{"three", List[*mistake]{{1}, {2}, {3}}, "f.yaml:1: wrong\nf.yaml:2: wrong\nf.yaml:3: wrong"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.l.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
			var m *mistake
			if err := error(tc.l); errors.As(err, &m) != (len(tc.l) > 0) || len(tc.l) > 0 && m != tc.l[0] {
				t.Errorf("errors.As = %v (%v), want the first mistake", m, err)
			}
		})
	}
}
