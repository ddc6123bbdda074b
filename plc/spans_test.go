package plc

import (
	"context"
	"errors"
	"testing"

	"github.com/plcctl/plcctl/transport"
)

// TestReadSpansCtxEnd: a split read whose ctx ends just after its last span
// succeeded has succeeded; one whose ctx ends before a span was started
// fails with that span's *transport.OpError (not sent), wrapping ctx.Err().
func TestReadSpansCtxEnd(t *testing.T) {
	spans := []span{{addr: 0, n: 1}, {addr: 1, n: 1, off: 1}, {addr: 2, n: 1, off: 2}, {addr: 3, n: 1, off: 3}}
	fail := func(s span, err error) error {
		return spanError("registers", s, len(spans), false, &transport.OpError{Op: "read", Err: err})
	}
	c := &Client{inFlight: 2}

	t.Run("ends after the last span", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		err := c.readSpans(ctx, spans, func(_ context.Context, s span) error {
			if s.addr == 3 {
				cancel() // the last span's answer is in: the ctx ends now
			}
			return nil
		}, fail)
		if err != nil {
			t.Errorf("readSpans = %v, want nil: every span succeeded", err)
		}
	})

	t.Run("ends between spans", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		release := make(chan struct{})
		err := c.readSpans(ctx, spans, func(ctx context.Context, s span) error {
			if s.addr == 1 { // both slots taken: the third span waits for one
				cancel()
				close(release)
			}
			<-release
			if err := ctx.Err(); err != nil { // as Do does: a span started after the end fails
				return &transport.OpError{Op: "read", Err: err}
			}
			return nil
		}, fail)
		var oe *transport.OpError
		if !errors.Is(err, context.Canceled) || !errors.As(err, &oe) || oe.Sent {
			t.Errorf("readSpans = %v, want an *OpError, not sent, wrapping context.Canceled", err)
		}
	})
}
