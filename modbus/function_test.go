package modbus

import "testing"

// TestReadWriteFunctions: IsRead and IsWrite name exactly the public
// functions that read or write data; no code is both, and FC 43 (its MEI
// type decides), diagnostics and the rest are neither.
func TestReadWriteFunctions(t *testing.T) {
	reads := map[FunctionCode]bool{1: true, 2: true, 3: true, 4: true, 20: true, 24: true}
	writes := map[FunctionCode]bool{5: true, 6: true, 15: true, 16: true, 21: true, 22: true, 23: true}
	for i := range 256 {
		f := FunctionCode(i)
		if f.IsRead() != reads[f] || f.IsWrite() != writes[f] {
			t.Errorf("%v: IsRead %v, IsWrite %v; want %v, %v", f, f.IsRead(), f.IsWrite(), reads[f], writes[f])
		}
	}
}
