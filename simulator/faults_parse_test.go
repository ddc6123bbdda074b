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
		{in: "action=wrong-unit,unit=0,addr=100-199,qty=1-10", want: simulator.FaultRule{Action: simulator.FaultWrongUnit,
			MatchUnit: true, AddrFirst: 100, AddrLast: 199, MatchAddr: true, QtyMin: 1, QtyMax: 10}},
		{in: "action=short,addr=7,qty=3,nth=2", want: simulator.FaultRule{Action: simulator.FaultShort,
			AddrFirst: 7, AddrLast: 7, MatchAddr: true, QtyMin: 3, QtyMax: 3, Nth: 2}},
		{in: "action=close-rst,every=50,prob=0.5,seed=7", want: simulator.FaultRule{Action: simulator.FaultCloseRST,
			Every: 50, Probability: 0.5, Seed: 7}},
		{in: "action=reboot,for=3s,from=10s,until=1m,count=1", want: simulator.FaultRule{Action: simulator.FaultReboot,
			For: 3 * time.Second, From: 10 * time.Second, Until: time.Minute, Count: 1}},
		{in: "action=split,at=7,gap=20ms", want: simulator.FaultRule{Action: simulator.FaultSplit, SplitAt: 7, Gap: 20 * time.Millisecond}},
		{in: "action=junk,junk=3", want: simulator.FaultRule{Action: simulator.FaultJunk, Junk: 3}},
		{in: "action=stop-accepting,for=500ms", want: simulator.FaultRule{Action: simulator.FaultStopAccepting, For: 500 * time.Millisecond}},
		{in: "", wantErr: "is not key=value"},
		{in: "action=reboot", wantErr: "action=reboot needs for=DURATION"},
		{in: "action=drop,for=1s", wantErr: "for= goes with"},
		{in: "action=drop,junk=3", wantErr: "junk= goes with action=junk"},
		{in: "action=drop,gap=1s", wantErr: "go with action=split"},
		{in: "action=drop,seed=3", wantErr: "seed= goes with prob="},
		{in: "action=drop,prob=0", wantErr: "want a probability"},
		{in: "action=drop,prob=1.5", wantErr: "want a probability"},
		{in: "action=drop,addr=200-100", wantErr: "addr=200-100: want an address"},
		{in: "action=drop,addr=70000", wantErr: "want an address"},
		{in: "action=drop,qty=0", wantErr: "want a quantity"},
		{in: "action=drop,unit=256", wantErr: "want a unit id"},
		{in: "action=drop,nth=0", wantErr: "want a whole number >= 1"},
		{in: "action=drop,from=2s,until=1s", wantErr: "until= must be later"},
		{in: "fc=3", wantErr: "action is required"},
		{in: "unit=1,delay=1s", wantErr: `fault "unit=1,delay=1s": action is required; delay= goes with action=delay`},
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

// TestFaultRuleStringRoundTrip: String writes what ParseFaultRule reads.
func TestFaultRuleStringRoundTrip(t *testing.T) {
	for _, in := range []string{
		"action=delay,delay=2s",
		"action=exception,unit=3,fc=16,addr=10-20,qty=2,nth=4,from=1s,until=2s,after=1,every=3,prob=0.25,seed=9,count=5,exception=6",
		"action=split,at=3,gap=10ms",
		"action=junk,junk=12",
		"action=reboot,count=1,for=1.5s",
	} {
		r, err := simulator.ParseFaultRule(in)
		if err != nil {
			t.Fatalf("ParseFaultRule(%q): %v", in, err)
		}
		if got := r.String(); got != in {
			t.Errorf("ParseFaultRule(%q).String() = %q", in, got)
		}
		back, err := simulator.ParseFaultRule(r.String())
		if err != nil || back != r {
			t.Errorf("round trip of %q = %+v, %v; want %+v", in, back, err, r)
		}
	}
}

func TestParseFaultRules(t *testing.T) {
	good := "# faults for the line-3 test rig\n\naction=drop,fc=3,count=1\n  # indented comment\naction=delay,delay=1s\n"
	rules, err := simulator.ParseFaultRules(strings.NewReader(good))
	want := []simulator.FaultRule{{Action: simulator.FaultDrop, Function: 3, Count: 1}, {Action: simulator.FaultDelay, Delay: time.Second}}
	if err != nil || len(rules) != 2 || rules[0] != want[0] || rules[1] != want[1] {
		t.Fatalf("ParseFaultRules = %+v, %v; want %+v", rules, err, want)
	}
	_, err = simulator.ParseFaultRules(strings.NewReader("action=drop\n# ok\naction=drop,colour=red\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "line 3: ") || !strings.Contains(err.Error(), `unknown key "colour"`) {
		t.Errorf("ParseFaultRules(bad line 3) = %v, want an error starting with line 3", err)
	}
	long := "action=drop\naction=drop,seed=" + strings.Repeat("1", 70000) + "\n"
	if _, err := simulator.ParseFaultRules(strings.NewReader(long)); err == nil ||
		err.Error() != "line 2: simulator: fault rules: longer than 64 KiB, which no rule is" {
		t.Errorf("ParseFaultRules(a 70000-byte line 2) = %v, want it named by its line", err) // was "bufio.Scanner: token too long"
	}
	if rules, err := simulator.ParseFaultRules(strings.NewReader("# nothing\n")); err != nil || len(rules) != 0 {
		t.Errorf("ParseFaultRules(only a comment) = %v, %v; want no rules", rules, err)
	}
}

// TestFaultActionErrorSaidOnce: an unknown action names the package once;
// ParseFaultRule said "simulator: fault "action=nope": simulator: fault
// action "nope": ...".
func TestFaultActionErrorSaidOnce(t *testing.T) {
	_, err := simulator.ParseFaultRule("action=nope")
	want := `simulator: fault "action=nope": fault action "nope": want one of delay, `
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("ParseFaultRule(action=nope) = %v, want %q...", err, want)
	}
	if _, err := simulator.ParseFaultAction("nope"); err == nil || !strings.HasPrefix(err.Error(), `simulator: fault action "nope": want one of`) {
		t.Errorf("ParseFaultAction(nope) = %v", err)
	}
}
