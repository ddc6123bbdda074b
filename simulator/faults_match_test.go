package simulator

import (
	"testing"
	"time"

	"github.com/plcctl/plcctl/modbus"
)

func TestFaultRuleMatches(t *testing.T) {
	read := FaultRequest{UnitID: 1, Function: modbus.FuncReadHoldingRegisters, Addr: 100, Qty: 10, Seq: 3, Elapsed: 5 * time.Second}
	rw := FaultRequest{UnitID: 1, Function: modbus.FuncReadWriteMultipleRegisters, Addr: 0, Qty: 2, Addr2: 500, Qty2: 4}
	devID := FaultRequest{UnitID: 1, Function: modbus.FuncEncapsulatedInterface}
	cases := []struct {
		name string
		rule FaultRule
		req  FaultRequest
		want bool
	}{
		{"zero rule matches all", FaultRule{}, read, true},
		{"fc match", FaultRule{Function: 3}, read, true},
		{"fc mismatch", FaultRule{Function: 4}, read, false},
		{"unit match", FaultRule{MatchUnit: true, UnitID: 1}, read, true},
		{"unit mismatch", FaultRule{MatchUnit: true, UnitID: 0}, read, false},
		{"addr overlaps start", FaultRule{MatchAddr: true, AddrFirst: 90, AddrLast: 100}, read, true},
		{"addr overlaps end", FaultRule{MatchAddr: true, AddrFirst: 109, AddrLast: 200}, read, true},
		{"addr inside", FaultRule{MatchAddr: true, AddrFirst: 105, AddrLast: 105}, read, true},
		{"addr just before", FaultRule{MatchAddr: true, AddrFirst: 0, AddrLast: 99}, read, false},
		{"addr just after", FaultRule{MatchAddr: true, AddrFirst: 110, AddrLast: 65535}, read, false},
		{"addr on fc 23 write range", FaultRule{MatchAddr: true, AddrFirst: 503, AddrLast: 503}, rw, true},
		{"addr between fc 23 ranges", FaultRule{MatchAddr: true, AddrFirst: 2, AddrLast: 499}, rw, false},
		{"addr rule, request without address", FaultRule{MatchAddr: true, AddrFirst: 0, AddrLast: 65535}, devID, false},
		{"qty exact", FaultRule{QtyMin: 10, QtyMax: 10}, read, true},
		{"qty above max", FaultRule{QtyMin: 1, QtyMax: 9}, read, false},
		{"qty below min", FaultRule{QtyMin: 11}, read, false},
		{"qty min only", FaultRule{QtyMin: 10}, read, true},
		{"qty on fc 23 write", FaultRule{QtyMin: 4, QtyMax: 4}, rw, true},
		{"qty rule, request without quantity", FaultRule{QtyMin: 1}, devID, false},
		{"nth match", FaultRule{Nth: 3}, read, true},
		{"nth mismatch", FaultRule{Nth: 2}, read, false},
		{"from reached", FaultRule{From: 5 * time.Second}, read, true},
		{"from not reached", FaultRule{From: 6 * time.Second}, read, false},
		{"until not reached", FaultRule{Until: 6 * time.Second}, read, true},
		{"until passed", FaultRule{Until: 5 * time.Second}, read, false},
		{"all conditions", FaultRule{Function: 3, MatchUnit: true, UnitID: 1, MatchAddr: true, AddrFirst: 100, AddrLast: 100,
			QtyMin: 10, Nth: 3, From: time.Second, Until: time.Minute}, read, true},
		{"all but one", FaultRule{Function: 3, MatchUnit: true, UnitID: 2, MatchAddr: true, AddrFirst: 100, AddrLast: 100}, read, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.rule.Matches(tc.req); got != tc.want {
				t.Errorf("%+v.Matches(%+v) = %v, want %v", tc.rule, tc.req, got, tc.want)
			}
		})
	}
}

// TestDecide runs a sequence of requests through rules and checks which
// requests each rule fires on.
func TestDecide(t *testing.T) {
	req := func(fc modbus.FunctionCode) FaultRequest { return FaultRequest{Function: fc, Addr: 0, Qty: 1} }
	cases := []struct {
		name  string
		rules []FaultRule
		fcs   []modbus.FunctionCode // requests in order; 3 when empty
		want  string                // per request: index of the rule that fired, '.' for none
	}{
		{"every request", []FaultRule{{}}, nil, "00000000"},
		{"after and count", []FaultRule{{After: 2, Count: 3}}, nil, "..000..."},
		{"every third", []FaultRule{{Every: 3}}, nil, "..0..0..0"},
		{"after then every second", []FaultRule{{After: 3, Every: 2}}, nil, "....0.0.0"},
		{"every with count", []FaultRule{{Every: 2, Count: 2}}, nil, ".0.0...."},
		{"first rule wins", []FaultRule{{Count: 2}, {}}, nil, "00111"},
		{"fc filter counts only its own", []FaultRule{{Function: 16, After: 1, Count: 1}},
			[]modbus.FunctionCode{3, 16, 3, 16, 16}, "...0."},
		{"second rule sees what the first passes", []FaultRule{{Function: 16}, {Every: 2}},
			[]modbus.FunctionCode{3, 16, 3, 3, 16, 3}, ".01.01"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rules := make([]*ruleState, len(tc.rules))
			for i, r := range tc.rules {
				rules[i] = newRuleState(r)
			}
			n := len(tc.want)
			got := make([]byte, n)
			for i := range n {
				fc := modbus.FuncReadHoldingRegisters
				if tc.fcs != nil {
					fc = tc.fcs[i]
				}
				if k := decide(rules, req(fc)); k < 0 {
					got[i] = '.'
				} else {
					got[i] = byte('0' + k)
				}
			}
			if string(got) != tc.want {
				t.Errorf("decide over %d requests = %s, want %s", n, got, tc.want)
			}
		})
	}
}

// TestDecideProbability: the same seed gives the same faults, another seed
// other faults, and the rate is near the probability.
func TestDecideProbability(t *testing.T) {
	run := func(seed uint64) []bool {
		rules := []*ruleState{newRuleState(FaultRule{Probability: 0.25, Seed: seed})}
		out := make([]bool, 4000)
		for i := range out {
			out[i] = decide(rules, FaultRequest{Function: 3}) == 0
		}
		return out
	}
	a, b, c := run(7), run(7), run(8)
	fired, same := 0, 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("seed 7, request %d: run 1 fired=%v, run 2 fired=%v", i, a[i], b[i])
		}
		if a[i] {
			fired++
		}
		if a[i] == c[i] {
			same++
		}
	}
	if fired < 800 || fired > 1200 {
		t.Errorf("prob 0.25 fired on %d of 4000 requests, want about 1000", fired)
	}
	if same == len(a) {
		t.Errorf("seeds 7 and 8 gave the same %d decisions", len(a))
	}
}

func TestFaultRequestOf(t *testing.T) {
	cases := []struct {
		name string
		pdu  []byte
		want FaultRequest
	}{
		{"fc 3", []byte{3, 0, 100, 0, 10}, FaultRequest{UnitID: 9, Function: 3, Addr: 100, Qty: 10, Seq: 4}},
		{"fc 6", []byte{6, 1, 0, 0, 7}, FaultRequest{UnitID: 9, Function: 6, Addr: 256, Qty: 1, Seq: 4}},
		{"fc 16", []byte{16, 0, 5, 0, 2, 4, 0, 1, 0, 2}, FaultRequest{UnitID: 9, Function: 16, Addr: 5, Qty: 2, Seq: 4}},
		{"fc 23", []byte{23, 0, 1, 0, 2, 0, 9, 0, 1, 2, 0, 0}, FaultRequest{UnitID: 9, Function: 23, Addr: 1, Qty: 2, Addr2: 9, Qty2: 1, Seq: 4}},
		{"fc 43", []byte{43, 14, 1, 0}, FaultRequest{UnitID: 9, Function: 43, Seq: 4}},
		{"short fc 3", []byte{3, 0}, FaultRequest{UnitID: 9, Function: 3, Seq: 4}},
		{"fc 3 without qty", []byte{3, 0, 7}, FaultRequest{UnitID: 9, Function: 3, Addr: 7, Seq: 4}},
		{"empty", nil, FaultRequest{UnitID: 9, Seq: 4}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := faultRequestOf(9, tc.pdu, 4); got != tc.want {
				t.Errorf("faultRequestOf(9, % x, 4) = %+v, want %+v", tc.pdu, got, tc.want)
			}
		})
	}
}

func TestAnswerMutations(t *testing.T) {
	cases := []struct {
		name   string
		mutate func([]byte) []byte
		in     []byte
		want   []byte
	}{
		{"short fc 3", shortAnswer, []byte{0, 1, 0, 0, 0, 7, 1, 3, 4, 0, 10, 0, 11}, []byte{0, 1, 0, 0, 0, 5, 1, 3, 2, 0, 10}},
		{"short fc 1", shortAnswer, []byte{0, 1, 0, 0, 0, 5, 1, 1, 2, 0xFF, 0x01}, []byte{0, 1, 0, 0, 0, 4, 1, 1, 1, 0xFF}},
		{"short fc 16 echo", shortAnswer, []byte{0, 1, 0, 0, 0, 6, 1, 16, 0, 5, 0, 2}, []byte{0, 1, 0, 0, 0, 4, 1, 16, 0, 5}},
		{"short exception untouched", shortAnswer, []byte{0, 1, 0, 0, 0, 3, 1, 0x83, 2}, []byte{0, 1, 0, 0, 0, 3, 1, 0x83, 2}},
		{"bad count fc 3", badByteCount, []byte{0, 1, 0, 0, 0, 5, 1, 3, 2, 0, 10}, []byte{0, 1, 0, 0, 0, 5, 1, 3, 3, 0, 10}},
		{"bad count fc 6 echo", badByteCount, []byte{0, 1, 0, 0, 0, 6, 1, 6, 0, 5, 0, 2}, []byte{0, 1, 0, 0, 0, 7, 1, 6, 0, 5, 0, 2, 0}},
		{"bad count fc 24", badByteCount, []byte{0, 1, 0, 0, 0, 8, 1, 24, 0, 4, 0, 1, 0, 9}, []byte{0, 1, 0, 0, 0, 8, 1, 24, 0, 5, 0, 1, 0, 9}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]byte(nil), tc.in...)
			if got := tc.mutate(in); string(got) != string(tc.want) {
				t.Errorf("% x -> % x, want % x", tc.in, got, tc.want)
			}
		})
	}
}
