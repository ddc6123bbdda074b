package modbus_test

import (
	"bytes"
	"testing"

	"github.com/plcctl/plcctl/modbus"
)

// TestAppendADUAllocs: encoding into a reused buffer of cap MaxADULen does
// not allocate, so a client can send forever without garbage.
func TestAppendADUAllocs(t *testing.T) {
	tests := []struct {
		name string
		req  modbus.Request
	}{
		{"read holding registers", modbus.NewReadHoldingRegisters(107, 3)},
		{"read coils", modbus.NewReadCoils(0, 2000)},
		{"write multiple registers 123", modbus.NewWriteMultipleRegisters(0, make([]uint16, 123))},
		{"read/write registers", modbus.NewReadWriteRegisters(0, 125, 0, make([]uint16, 121))},
		{"write multiple coils 1968", modbus.NewWriteMultipleCoils(0, make([]bool, 1968))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := make([]byte, 0, modbus.MaxADULen)
			var err error
			allocs := testing.AllocsPerRun(100, func() {
				buf, err = modbus.AppendADU(buf[:0], 1, 1, tt.req)
			})
			if err != nil {
				t.Fatal(err)
			}
			if allocs != 0 {
				t.Errorf("AppendADU(%T) into a reused buffer: %v allocations, want 0", tt.req, allocs)
			}
		})
	}
}

// TestReadADUAllocs: reading into a reused buffer does not allocate.
func TestReadADUAllocs(t *testing.T) {
	adu := cat(hx("00 01 00 00 00 FE 01 41"), zeros(252)) // the largest ADU
	r := bytes.NewReader(adu)
	buf := make([]byte, 0, modbus.MaxADULen)
	var err error
	allocs := testing.AllocsPerRun(100, func() {
		r.Reset(adu)
		_, _, err = modbus.ReadADU(r, buf)
	})
	if err != nil {
		t.Fatal(err)
	}
	if allocs != 0 {
		t.Errorf("ReadADU into a reused buffer: %v allocations, want 0", allocs)
	}
}

func BenchmarkAppendADU(b *testing.B) {
	benches := []struct {
		name string
		req  modbus.Request
	}{
		{"ReadRegisters", modbus.NewReadHoldingRegisters(107, 3)},
		{"WriteMultipleRegisters123", modbus.NewWriteMultipleRegisters(0, make([]uint16, 123))},
	}
	for _, bb := range benches {
		b.Run(bb.name, func(b *testing.B) {
			buf := make([]byte, 0, modbus.MaxADULen)
			adu, _ := modbus.AppendADU(buf, 1, 1, bb.req)
			b.SetBytes(int64(len(adu)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := modbus.AppendADU(buf[:0], 1, 1, bb.req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkReadADU(b *testing.B) {
	adus := goldenADUs(b)
	stream := bytes.Join(adus, nil)
	r := bytes.NewReader(stream)
	buf := make([]byte, 0, modbus.MaxADULen)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(stream)
		for range adus {
			if _, _, err := modbus.ReadADU(r, buf); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkDecodeRequest(b *testing.B) {
	benches := []struct {
		name string
		pdu  []byte
	}{
		{"ReadRegisters", hx("03 00 6B 00 03")},
		{"WriteMultipleRegisters123", writeRegsPDU(123, 246)},
		{"ReadFileRecord35", readFilePDU(bytes.Repeat(fileGroup(6, 1, 0, 1), 35))},
	}
	for _, bb := range benches {
		b.Run(bb.name, func(b *testing.B) {
			b.SetBytes(int64(len(bb.pdu)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := modbus.DecodeRequest(bb.pdu); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
