package transport

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/plcctl/plcctl/internal/golden"
	"github.com/plcctl/plcctl/modbus"
)

// FuzzConnAnswer: whatever bytes come back for a request, Send returns
// within its deadline without panicking, a success re-encodes to exactly
// the PDU received, and Close returns. Seeded with every golden response
// (its transaction id patched to match) and the framing faults.
func FuzzConnAnswer(f *testing.F) {
	frames, err := golden.Load(golden.Path())
	if err != nil {
		f.Fatal(err)
	}
	for _, fr := range frames {
		if !fr.NoResponse() {
			f.Add(fr.Response)
		}
	}
	f.Add(adu(1, 0, 0))
	f.Add(adu(1, 0, 300, 3, 4))
	f.Add(adu(1, 0, 7, 3, 4, 0, 1, 0, 2))
	f.Add(append(adu(1, 0, 7, 3, 4, 0, 1, 0, 2), adu(1, 0, 7, 3, 4, 0, 1, 0, 2)...))
	f.Fuzz(func(t *testing.T, answer []byte) {
		fk := startFake(t, func(c *fakeConn) {
			h, _, err := c.readRequest()
			if err != nil {
				return
			}
			b := bytes.Clone(answer)
			if len(b) >= 2 {
				b[0], b[1] = byte(h.TID>>8), byte(h.TID) // let it reach the request
			}
			c.Write(b)
			io.Copy(io.Discard, c)
		})
		c, err := Dial(t.Context(), fk.addr, Options{Timeout: 50 * time.Millisecond,
			Backoff: func(int) time.Duration { return time.Millisecond }})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		rsp, err := c.Send(ctx, 1, modbus.NewReadHoldingRegisters(0, 2))
		if err != nil {
			return
		}
		got, err := rsp.AppendPDU(nil)
		want := answer[modbus.MBAPHeaderLen:min(len(answer), modbus.MBAPHeaderLen+int(answer[4])<<8+int(answer[5])-1)]
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("answer % x decoded to % x (%v), want % x", answer, got, err, want)
		}
	})
}
