package plc

import (
	"context"
	"fmt"

	"github.com/plcctl/plcctl/modbus"
)

// ReadHoldingValues reads count values of type t, laid out in word order o,
// from the holding registers at addr (FC 3). Unlike ReadHoldingRegisters
// followed by Decode, a long read is split only between values, so no value
// is torn across two requests (half old, half new). For String, count is
// the number of registers and one string is returned.
func (c *Client) ReadHoldingValues(ctx context.Context, addr uint16, count int, t Type, o WordOrder) ([]any, error) {
	return c.readValues(ctx, modbus.FuncReadHoldingRegisters, "holding registers", addr, count, t, o)
}

// ReadInputValues is ReadHoldingValues for input registers (FC 4).
func (c *Client) ReadInputValues(ctx context.Context, addr uint16, count int, t Type, o WordOrder) ([]any, error) {
	return c.readValues(ctx, modbus.FuncReadInputRegisters, "input registers", addr, count, t, o)
}

func (c *Client) readValues(ctx context.Context, fc modbus.FunctionCode, what string, addr uint16, count int, t Type, o WordOrder) ([]any, error) {
	per := t.Registers()
	if count < 1 || count > 65535/per { // count*per could overflow: divide instead
		return nil, fmt.Errorf("plc: read %d %s values: %w", count, t,
			c.refuse(fc, false, fmt.Errorf("want 1..%d values", 65535/per)))
	}
	n := count * per
	regs, err := c.readRegisters(ctx, fc, what, addr, uint16(n), modbus.MaxReadRegisters/per*per)
	if err != nil {
		return nil, err
	}
	return Decode(t, o, regs)
}

// WriteValues encodes vals as type t in word order o and writes them to the
// holding registers at addr (FC 16). A write over 123 registers is split
// only between values; the parts are sent in order, and an error says how
// many registers were written before it.
func (c *Client) WriteValues(ctx context.Context, addr uint16, t Type, o WordOrder, vals ...any) error {
	regs, err := Encode(t, o, vals...)
	if err != nil {
		return err
	}
	return c.writeRegisters(ctx, addr, regs, modbus.MaxWriteRegisters/t.Registers()*t.Registers())
}
