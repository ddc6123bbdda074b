package main

import (
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// startSim starts an in-process plcsim with holding register i = i, the
// layout every bench/ server has, and the given fault rules.
func startSim(t *testing.T, rules ...string) string {
	nop := zerolog.Nop()
	sim := simtest.Start(t, simulator.Config{Logger: &nop})
	regs := make([]uint16, 125)
	for i := range regs {
		regs[i] = uint16(i)
	}
	sim.SetHoldingRegisters(0, regs...)
	var fs []simulator.FaultRule
	for _, r := range rules {
		f, err := simulator.ParseFaultRule(r)
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
	sim.SetFaults(fs...)
	return sim.Addr
}

type engine func(addr string, conns int, dur time.Duration, regs int, maxReq int64) (result, error)

// engines: the goroutine engine and, on Linux, the epoll engine with one
// and with 4 requests outstanding per connection.
func engines() map[string]engine {
	m := map[string]engine{"goroutines": run}
	if defaultEngine == "epoll" {
		for _, d := range []int{1, 4} {
			m["epoll/depth="+strconv.Itoa(d)] = func(addr string, conns int, dur time.Duration, regs int, maxReq int64) (result, error) {
				return runEpoll(addr, conns, dur, regs, maxReq, d)
			}
		}
	}
	return m
}

// TestEngines: both engines stop at -max, with every answer checked and
// no error against a correct server.
func TestEngines(t *testing.T) {
	addr := startSim(t)
	for name, run := range engines() {
		for _, regs := range []int{1, 10, 125} {
			r, err := run(addr, 8, 30*time.Second, regs, 400)
			if err != nil || r.Requests != 400 || r.Errors != 0 {
				t.Errorf("%s, %d registers: %d requests, %d errors, %v; want 400, 0, nil", name, regs, r.Requests, r.Errors, err)
			}
		}
	}
}

// TestEnginesCatchWrongAnswers: an answer with the wrong transaction id or
// too few bytes ends its connection as an error and is not counted (a short
// answer only when the load ends: -duration, here 1 s, plus 2 s).
func TestEnginesCatchWrongAnswers(t *testing.T) {
	for _, rule := range []string{"action=wrong-tid,nth=5", "action=duplicate,nth=5", "action=short,nth=5"} {
		addr := startSim(t, rule)
		for name, run := range engines() {
			r, err := run(addr, 1, time.Second, 10, 100)
			if err != nil || r.Errors != 1 || r.Requests >= 100 {
				t.Errorf("%s, %s: %d requests, %d errors, %v; want fewer than 100, 1 error", rule, name, r.Requests, r.Errors, err)
			}
		}
	}
}

func TestCheckAnswer(t *testing.T) {
	good := []byte{0, 7, 0, 0, 0, 7, 1, 3, 4, 0, 0, 0, 1}
	if err := checkAnswer(good, 7, 2); err != nil {
		t.Errorf("checkAnswer(% x) = %v, want nil", good, err)
	}
	for i := range good {
		bad := append([]byte(nil), good...)
		bad[i] ^= 0x10
		if err := checkAnswer(bad, 7, 2); err == nil {
			t.Errorf("checkAnswer(% x) = nil, want an error (byte %d changed)", bad, i)
		}
	}
}
