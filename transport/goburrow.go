package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/plcctl/plcctl/modbus"
)

// Transporter adapts a Conn to github.com/goburrow/modbus's Transporter
// interface, so code built on goburrow can keep its client and packager and
// gain this package's persistent link, reconnect and strict framing:
//
//	client := gbmodbus.NewClient2(gbmodbus.NewTCPClientHandler(""), conn.Transporter())
//
// Each ADU is decoded, validated and sent with this Conn's own transaction
// id; the answer is re-encoded with the caller's transaction id and unit id,
// so goburrow's Verify passes. Exception answers come back as exception
// ADUs, as goburrow expects.
type Transporter struct {
	Conn *Conn
	// Timeout bounds each Send (goburrow passes no ctx). Zero means the
	// Conn's Options.Timeout.
	Timeout time.Duration
}

// Transporter returns a goburrow-compatible Transporter over c.
func (c *Conn) Transporter() *Transporter { return &Transporter{Conn: c} }

// Send sends one request ADU and returns the response ADU.
func (t *Transporter) Send(aduRequest []byte) ([]byte, error) {
	h, pdu, err := modbus.DecodeADU(aduRequest)
	if err != nil {
		return nil, err
	}
	req, err := modbus.DecodeRequest(pdu)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	if t.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.Timeout)
		defer cancel()
	}
	rsp, err := t.Conn.Send(ctx, h.UnitID, req)
	var exc *modbus.ExceptionError
	if errors.As(err, &exc) {
		rsp, err = modbus.NewException(exc.Function, exc.Code), nil
	}
	if err != nil {
		return nil, err
	}
	adu, err := modbus.AppendADU(make([]byte, 0, modbus.MaxADULen), h.TID, h.UnitID, rsp)
	if err != nil {
		return nil, err
	}
	binary.BigEndian.PutUint16(adu[2:], h.Protocol)
	return adu, nil
}
