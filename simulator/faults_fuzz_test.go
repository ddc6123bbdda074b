package simulator

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/plcctl/plcctl/modbus"
)

// FuzzParseFaultRule: any text given to --fault, --fault-file or a plant's
// faults: gives a rule or one error on one line that starts with the
// package and the rule; a rule it accepts validates, writes back (String)
// as text that parses to the same rule, and is the same rule when read as
// a one-line rules file; and deciding on any request PDU under it does not
// panic and fires only on requests the rule's conditions match.
func FuzzParseFaultRule(f *testing.F) {
	for _, s := range []string{
		"action=delay,delay=2s,fc=3,after=10,count=1",
		"action=exception,exception=6,unit=2,addr=100-199",
		"action=close-rst,every=50,prob=0.5,seed=7",
		"action=reboot,for=3s,from=10s,count=1",
		"action=exception,unit=3,fc=16,addr=10-20,qty=2,nth=4,from=1s,until=2s,after=1,every=3,prob=0.25,seed=9,count=5,exception=6",
		"action=split,at=3,gap=10ms",
		"action=junk,junk=12",
		"action=wrong-unit,unit=0x10,qty=1-65535",
		"action=drop,qty=0x7D",
		"unit=1,delay=1s",
		"action=drop, fc=3 ,count=1",
		"action=drop,action=split",
		"",
	} {
		f.Add(s, uint8(1), []byte{3, 0, 100, 0, 10})
	}
	f.Add("action=drop,addr=500-503", uint8(1), []byte{0x17, 0, 0, 0, 2, 1, 0xF4, 0, 4, 8})
	f.Fuzz(func(t *testing.T, s string, unit uint8, pdu []byte) {
		r, err := ParseFaultRule(s)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "simulator: fault ") || strings.Contains(msg, "\n") || !utf8.ValidString(msg) {
				t.Fatalf("ParseFaultRule(%q) error %q: want one line starting with the rule", s, msg)
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("ParseFaultRule(%q) = %+v, which does not validate: %v", s, r, err)
		}
		text := r.String()
		back, err := ParseFaultRule(text)
		if err != nil || !reflect.DeepEqual(back, r) {
			t.Fatalf("ParseFaultRule(%q) = %+v, String %q, which parses to %+v, %v", s, r, text, back, err)
		}
		if !strings.ContainsAny(s, "\r\n") && !strings.HasPrefix(strings.TrimSpace(s), "#") {
			rules, err := ParseFaultRules(strings.NewReader(s))
			if err != nil || len(rules) != 1 || !reflect.DeepEqual(rules[0], r) {
				t.Fatalf("ParseFaultRules(%q) = %+v, %v; ParseFaultRule gave %+v", s, rules, err, r)
			}
		}
		req := faultRequestOf(unit, pdu, 1)
		checkFaultRequest(t, pdu, req)
		rs := []*ruleState{newRuleState(r)}
		for range 3 {
			decide(rs, req)
		}
	})
}

// checkFaultRequest: the address and quantity a fault rule matches on are
// those of the request the codec decodes from the same PDU.
func checkFaultRequest(t *testing.T, pdu []byte, req FaultRequest) {
	t.Helper()
	dr, err := modbus.DecodeRequest(pdu)
	if err != nil {
		return
	}
	var want FaultRequest
	switch x := dr.(type) {
	case *modbus.ReadBits:
		want = FaultRequest{Addr: x.Address, Qty: x.Quantity}
	case *modbus.ReadRegisters:
		want = FaultRequest{Addr: x.Address, Qty: x.Quantity}
	case *modbus.WriteMultipleCoils:
		want = FaultRequest{Addr: x.Address, Qty: x.Quantity}
	case *modbus.WriteMultipleRegisters:
		want = FaultRequest{Addr: x.Address, Qty: x.Quantity}
	case *modbus.ReadWriteRegisters:
		want = FaultRequest{Addr: x.ReadAddress, Qty: x.ReadQuantity, Addr2: x.WriteAddress, Qty2: x.WriteQuantity}
	case *modbus.WriteSingleCoil:
		want = FaultRequest{Addr: x.Address, Qty: 1}
	case *modbus.WriteSingleRegister:
		want = FaultRequest{Addr: x.Address, Qty: 1}
	case *modbus.MaskWriteRegister:
		want = FaultRequest{Addr: x.Address, Qty: 1}
	case *modbus.ReadFIFOQueue:
		want = FaultRequest{Addr: x.Address, Qty: 1}
	default:
		want = FaultRequest{}
	}
	got := FaultRequest{Addr: req.Addr, Qty: req.Qty, Addr2: req.Addr2, Qty2: req.Qty2}
	if got != want || req.Function != dr.Function() {
		t.Fatalf("faultRequestOf(% x) = %+v, but the request decodes as %+v", pdu, req, dr)
	}
}
