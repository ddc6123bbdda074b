package simulator

import (
	"testing"

	"github.com/plcctl/plcctl/internal/golden"
	"github.com/plcctl/plcctl/modbus"
)

// FuzzHandle feeds arbitrary PDUs to the request handler: it must never
// panic, and every answer must encode within the 253-byte PDU limit.
func FuzzHandle(f *testing.F) {
	frames, err := golden.Load(golden.Path())
	if err != nil {
		f.Fatal(err)
	}
	for _, fr := range frames {
		if len(fr.Request) > modbus.MBAPHeaderLen {
			f.Add(fr.Request[modbus.MBAPHeaderLen:])
		}
	}
	s, err := New(Config{Coils: 1000, DiscreteInputs: 1000, HoldingRegisters: 1000, InputRegisters: 1000})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, pdu []byte) {
		if len(pdu) == 0 || len(pdu) > modbus.MaxPDULen {
			return
		}
		oc := s.handle(pdu)
		if oc.malformed != nil {
			return
		}
		if oc.rsp == nil {
			t.Fatalf("handle(% X): no response and not malformed", pdu)
		}
		if _, err := modbus.AppendADU(nil, 1, 1, oc.rsp); err != nil {
			t.Fatalf("handle(% X): response does not encode: %v", pdu, err)
		}
	})
}
