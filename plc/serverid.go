package plc

import (
	"bytes"
	"context"
	"fmt"

	"github.com/plcctl/plcctl/modbus"
)

// ReportServerID asks the device for its server id (FC 17) [AP §6.13] and
// returns the data after the byte count: the server id, the run indicator
// (0x00 off, 0xFF on) and any additional data, whose layout is the
// device's to define. The spec marks FC 17 serial line only; a TCP device
// without it answers exception 01.
func (c *Client) ReportServerID(ctx context.Context) ([]byte, error) {
	rsp, err := c.Do(ctx, &modbus.ReportServerID{})
	if err != nil {
		return nil, fmt.Errorf("plc: report server id: %w", err)
	}
	r, err := as[*modbus.ServerIDResponse](rsp)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(r.Data), nil
}
