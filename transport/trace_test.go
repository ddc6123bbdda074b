package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/modbus"
)

// TestTraceOrder: at trace level every request frame is logged before its
// answer, even though the answer is read by another goroutine (plcctl
// --trace must read tx, then rx).
func TestTraceOrder(t *testing.T) {
	s := startSim(t)
	buf := &syncBuffer{}
	log := zerolog.New(buf).Level(zerolog.TraceLevel)
	c, err := Dial(context.Background(), s.Addr, Options{Logger: &log, MaxInFlight: 4})
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < n/4; j++ {
				if _, err := c.Send(context.Background(), 1, modbus.NewReadHoldingRegisters(0, 1)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	c.Close()
	tx := map[uint16]bool{}
	rx := 0
	for _, line := range bytes.Split(buf.Bytes(), []byte("\n")) {
		var rec struct {
			Message string `json:"message"`
			TID     uint16 `json:"tid"`
			TX      string `json:"tx"`
			RX      string `json:"rx"`
		}
		if json.Unmarshal(line, &rec) != nil || rec.Message != "frame" {
			continue
		}
		switch {
		case rec.TX != "":
			tx[rec.TID] = true
		case rec.RX != "":
			rx++
			if !tx[rec.TID] {
				t.Fatalf("answer to tid %d logged before its request", rec.TID)
			}
			delete(tx, rec.TID)
		}
	}
	if rx != n {
		t.Fatalf("%d answers traced, want %d", rx, n)
	}
}
