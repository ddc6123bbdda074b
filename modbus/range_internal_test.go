package modbus

import "testing"

// TestInRange: address+quantity is computed past 16 bits, so a range that
// runs off the end of the address space is seen, not wrapped to a small end.
func TestInRange(t *testing.T) {
	tests := []struct {
		address, quantity uint16
		end               int // address+quantity, as it must be computed
	}{
		{0, 0, 0},
		{0, 125, 125},
		{96, 4, 100},
		{0xFFFF, 1, 0x10000},
		{0xFFFF, 2, 0x10001},
		{0xFFFF, 0xFFFF, 0x1FFFE},
		{0xFF84, 125, 0x10001},
	}
	for _, tt := range tests {
		for _, size := range []int{100, AddressSpace} {
			want := tt.quantity >= 1 && tt.end <= size
			if got := InRange(size, tt.address, int(tt.quantity)); got != want {
				t.Errorf("InRange(%d, %#x, %d) = %v, want %v (end %#x)", size, tt.address, tt.quantity, got, want, tt.end)
			}
		}
	}
}
