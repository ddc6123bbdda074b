package modbus

import "testing"

// TestRangeEnd: address+quantity is computed past 16 bits, so a range that
// runs off the end of the address space is seen, not wrapped to a small end.
func TestRangeEnd(t *testing.T) {
	tests := []struct {
		address, quantity uint16
		want              int
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
		if got := rangeEnd(tt.address, tt.quantity); got != tt.want {
			t.Errorf("rangeEnd(%#x, %d) = %#x, want %#x", tt.address, tt.quantity, got, tt.want)
		}
	}
}
