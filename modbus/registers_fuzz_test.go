package modbus_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/plcctl/plcctl/internal/golden"
	"github.com/plcctl/plcctl/modbus"
)

// FuzzDecodeRegistersInto: the client's allocation-free decoder of FC 3/4
// answers (transport's read path) agrees with DecodeResponse on every
// answer: the same registers, or the same error, and dst untouched then.
func FuzzDecodeRegistersInto(f *testing.F) {
	for _, fr := range golden.MustLoad(f) {
		if req, err := modbus.DecodeRequest(pduOf(fr.Request)); err == nil && !fr.NoResponse() {
			if _, ok := req.(*modbus.ReadRegisters); ok {
				f.Add(pduOf(fr.Request), pduOf(fr.Response))
			}
		}
	}
	f.Add([]byte{3, 0, 0, 0, 2}, []byte{3, 4, 0, 1, 0, 2, 0})
	f.Add([]byte{4, 0, 0, 0, 1}, []byte{3, 2, 0, 1})
	f.Fuzz(func(t *testing.T, reqPDU, rspPDU []byte) {
		r, err := modbus.DecodeRequest(reqPDU)
		if err != nil {
			return
		}
		req, ok := r.(*modbus.ReadRegisters)
		if !ok {
			return
		}
		dst := make([]uint16, 1, 130)
		dst[0] = 0xBEEF
		got, err := modbus.DecodeRegistersInto(req, rspPDU, dst)
		rsp, werr := modbus.DecodeResponse(req, rspPDU)
		call := fmt.Sprintf("DecodeRegistersInto(% x, % x)", reqPDU, rspPDU)
		if fmt.Sprint(err) != fmt.Sprint(werr) {
			t.Fatalf("%s = %v; DecodeResponse says %v", call, err, werr)
		}
		if err != nil {
			if len(got) != 1 || got[0] != 0xBEEF {
				t.Fatalf("%s = %04X with error %v: want dst unchanged", call, got, err)
			}
			return
		}
		want := append([]uint16{0xBEEF}, rsp.(*modbus.RegistersResponse).Registers()...)
		if !slices.Equal(got, want) {
			t.Fatalf("%s = %04X; DecodeResponse says %04X", call, got, want)
		}
	})
}
