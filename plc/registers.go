package plc

import (
	"context"

	"github.com/plcctl/plcctl/modbus"
)

// ReadHoldingRegisters reads count holding registers from addr (FC 3)
// [AP §6.3]. A count over the 125 one request allows is split into several
// requests (run concurrently when Options.MaxInFlight > 1); the result is
// then not one snapshot. count may be up to 65535; addr+count must not pass
// 65536.
func (c *Client) ReadHoldingRegisters(ctx context.Context, addr, count uint16) ([]uint16, error) {
	return c.readRegisters(ctx, modbus.FuncReadHoldingRegisters, "holding registers", addr, count, modbus.MaxReadRegisters)
}

// ReadInputRegisters reads count input registers from addr (FC 4)
// [AP §6.4], split like ReadHoldingRegisters.
func (c *Client) ReadInputRegisters(ctx context.Context, addr, count uint16) ([]uint16, error) {
	return c.readRegisters(ctx, modbus.FuncReadInputRegisters, "input registers", addr, count, modbus.MaxReadRegisters)
}

// ReadHoldingRegistersInto reads len(dst) holding registers from addr into
// dst (FC 3) and returns dst, split like ReadHoldingRegisters. With at most
// 125 registers (one request) it allocates nothing in steady state: the
// values go from the connection's read buffer straight into dst. On error
// dst's contents are unspecified.
func (c *Client) ReadHoldingRegistersInto(ctx context.Context, addr uint16, dst []uint16) ([]uint16, error) {
	return c.readRegistersInto(ctx, modbus.FuncReadHoldingRegisters, "holding registers", addr, dst, modbus.MaxReadRegisters)
}

// ReadInputRegistersInto is ReadHoldingRegistersInto for input registers
// (FC 4).
func (c *Client) ReadInputRegistersInto(ctx context.Context, addr uint16, dst []uint16) ([]uint16, error) {
	return c.readRegistersInto(ctx, modbus.FuncReadInputRegisters, "input registers", addr, dst, modbus.MaxReadRegisters)
}

// readRegisters reads count registers in requests of at most max.
func (c *Client) readRegisters(ctx context.Context, fc modbus.FunctionCode, what string, addr, count uint16, max int) ([]uint16, error) {
	if count == 0 { // refused by split, with the same error
		return c.readRegistersInto(ctx, fc, what, addr, nil, max)
	}
	return c.readRegistersInto(ctx, fc, what, addr, make([]uint16, count), max)
}

// readRegistersInto reads len(out) registers into out, in requests of at
// most max.
func (c *Client) readRegistersInto(ctx context.Context, fc modbus.FunctionCode, what string, addr uint16, out []uint16, max int) ([]uint16, error) {
	var one [1]span
	spans, err := split(one[:0], fc, addr, len(out), max)
	if err != nil {
		return nil, spanError(what, span{addr: addr, n: len(out)}, len(out), false, c.refuse(fc, false, err))
	}
	if len(spans) == 1 { // no closure, no goroutine: the common case stays lean
		err = c.readRegisterSpan(ctx, fc, what, spans[0], out)
	} else {
		err = c.readSpans(ctx, spans, func(ctx context.Context, s span) error {
			return c.readRegisterSpan(ctx, fc, what, s, out)
		}, func(s span, err error) error {
			return spanError(what, s, len(out), false, c.refuse(fc, false, err))
		})
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readRegisterSpan reads the registers of s into out, which holds them all.
func (c *Client) readRegisterSpan(ctx context.Context, fc modbus.FunctionCode, what string, s span, out []uint16) error {
	if _, err := c.conn.ReadRegistersInto(ctx, c.unit, fc, s.addr, out[s.off:s.off+s.n]); err != nil {
		return spanError(what, s, len(out), false, err)
	}
	return nil
}

// WriteRegister writes one holding register (FC 6) [AP §6.6].
func (c *Client) WriteRegister(ctx context.Context, addr, value uint16) error {
	if _, err := c.Do(ctx, &modbus.WriteSingleRegister{Address: addr, Value: value}); err != nil {
		return spanError("holding register", span{addr: addr, n: 1}, 1, true, err)
	}
	return nil
}

// WriteRegisters writes values to the holding registers from addr (FC 16)
// [AP §6.12]. More than 123 values are split into several requests, sent
// one after the other; if one fails, the error says how many were written
// before it. Values of one wider type (a float64 in 4 registers) may then
// straddle two requests.
func (c *Client) WriteRegisters(ctx context.Context, addr uint16, values []uint16) error {
	return c.writeRegisters(ctx, addr, values, modbus.MaxWriteRegisters)
}

// writeRegisters writes values in requests of at most max registers, in
// order.
func (c *Client) writeRegisters(ctx context.Context, addr uint16, values []uint16, max int) error {
	var one [1]span
	spans, err := split(one[:0], modbus.FuncWriteMultipleRegisters, addr, len(values), max)
	if err != nil {
		return spanError("holding registers", span{addr: addr, n: len(values)}, len(values), true,
			c.refuse(modbus.FuncWriteMultipleRegisters, false, err))
	}
	for _, s := range spans {
		req := modbus.NewWriteMultipleRegisters(s.addr, values[s.off:s.off+s.n])
		if _, err := c.Do(ctx, req); err != nil {
			return spanError("holding registers", s, len(values), true, err)
		}
	}
	return nil
}

// MaskWriteRegister sets register addr to (current AND and) OR (or AND NOT
// and) in one step on the device (FC 22) [AP §6.16].
func (c *Client) MaskWriteRegister(ctx context.Context, addr, and, or uint16) error {
	req := &modbus.MaskWriteRegister{Address: addr, AndMask: and, OrMask: or}
	if _, err := c.Do(ctx, req); err != nil {
		return spanError("holding register", span{addr: addr, n: 1}, 1, true, err)
	}
	return nil
}

// ReadWriteRegisters writes values from writeAddr, then reads readCount
// registers from readAddr, in one transaction (FC 23) [AP §6.17]. It is
// never split: at most 121 written and 125 read.
func (c *Client) ReadWriteRegisters(ctx context.Context, readAddr, readCount, writeAddr uint16, values []uint16) ([]uint16, error) {
	rsp, err := c.Do(ctx, modbus.NewReadWriteRegisters(readAddr, readCount, writeAddr, values))
	if err != nil {
		return nil, spanError("holding registers", span{addr: readAddr, n: int(readCount)}, int(readCount), false, err)
	}
	r, err := as[*modbus.RegistersResponse](rsp)
	if err != nil {
		return nil, err
	}
	return r.Registers(), nil
}
