package simulator_test

import (
	"strings"
	"testing"
	"time"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
)

func TestParseFaultRule(t *testing.T) {
	cases := []struct {
		in      string
		want    simulator.FaultRule
		wantErr string
	}{
		{in: "action=delay,delay=2s,fc=3,after=10,count=1",
			want: simulator.FaultRule{Action: simulator.FaultDelay, Delay: 2 * time.Second, Function: modbus.FuncReadHoldingRegisters, After: 10, Count: 1}},
		{in: "action=exception,exception=6", want: simulator.FaultRule{Action: simulator.FaultException, Exception: modbus.ServerDeviceBusy}},
		{in: "action=close-rst, after=100", want: simulator.FaultRule{Action: simulator.FaultCloseRST, After: 100}},
		{in: "action=wrong-tid,fc=0x10", want: simulator.FaultRule{Action: simulator.FaultWrongTID, Function: modbus.FuncWriteMultipleRegisters}},
		{in: "", wantErr: "is not key=value"},
		{in: "fc=3", wantErr: "action is required"},
		{in: "action=explode", wantErr: "want one of delay, drop"},
		{in: "action=delay", wantErr: "needs delay=DURATION"},
		{in: "action=exception", wantErr: "needs exception=CODE"},
		{in: "action=drop,delay=1s", wantErr: "delay= goes with action=delay"},
		{in: "action=drop,fc=200", wantErr: "want a function code 1..127"},
		{in: "action=drop,after=-1", wantErr: "want a whole number"},
		{in: "action=drop,action=split", wantErr: "given twice"},
		{in: "action=drop,colour=red", wantErr: `unknown key "colour"`},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := simulator.ParseFaultRule(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseFaultRule(%q) = %v, want error containing %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseFaultRule(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		})
	}
}
