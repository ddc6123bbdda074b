package plc

import (
	"context"

	"github.com/plcctl/plcctl/modbus"
)

// ReadCoils reads count coils from addr (FC 1) [AP §6.1]. A count over the
// 2000 one request allows is split into several requests (run concurrently
// when Options.MaxInFlight > 1); the result is then not one snapshot.
// count may be up to 65535; addr+count must not pass 65536.
func (c *Client) ReadCoils(ctx context.Context, addr, count uint16) ([]bool, error) {
	return c.readBits(ctx, modbus.FuncReadCoils, "coils", addr, count)
}

// ReadDiscreteInputs reads count discrete inputs from addr (FC 2) [AP §6.2],
// split like ReadCoils.
func (c *Client) ReadDiscreteInputs(ctx context.Context, addr, count uint16) ([]bool, error) {
	return c.readBits(ctx, modbus.FuncReadDiscreteInputs, "discrete inputs", addr, count)
}

func (c *Client) readBits(ctx context.Context, fc modbus.FunctionCode, what string, addr, count uint16) ([]bool, error) {
	var one [1]span
	spans, err := split(one[:0], fc, addr, int(count), modbus.MaxReadBits)
	if err != nil {
		return nil, spanError(what, span{addr: addr, n: int(count)}, int(count), false, c.refuse(fc, false, err))
	}
	out := make([]bool, count)
	if len(spans) == 1 {
		err = c.readBitSpan(ctx, fc, what, spans[0], out)
	} else {
		err = c.readSpans(ctx, spans, func(ctx context.Context, s span) error {
			return c.readBitSpan(ctx, fc, what, s, out)
		}, func(s span, err error) error {
			return spanError(what, s, len(out), false, c.refuse(fc, false, err))
		})
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readBitSpan reads the bits of s into out, which holds them all.
func (c *Client) readBitSpan(ctx context.Context, fc modbus.FunctionCode, what string, s span, out []bool) error {
	rsp, err := c.Do(ctx, &modbus.ReadBits{FC: fc, Address: s.addr, Quantity: uint16(s.n)})
	if err != nil {
		return spanError(what, s, len(out), false, err)
	}
	r, err := as[*modbus.BitsResponse](rsp)
	if err != nil {
		return err
	}
	copy(out[s.off:s.off+s.n], r.Bits(s.n))
	return nil
}

// WriteCoil sets one coil on or off (FC 5) [AP §6.5].
func (c *Client) WriteCoil(ctx context.Context, addr uint16, on bool) error {
	if _, err := c.Do(ctx, modbus.NewWriteSingleCoil(addr, on)); err != nil {
		return spanError("coil", span{addr: addr, n: 1}, 1, true, err)
	}
	return nil
}

// WriteCoils writes values to the coils from addr (FC 15) [AP §6.11]. More
// than 1968 values are split into several requests, sent one after the
// other; if one fails, the error says how many were written before it.
func (c *Client) WriteCoils(ctx context.Context, addr uint16, values []bool) error {
	var one [1]span
	spans, err := split(one[:0], modbus.FuncWriteMultipleCoils, addr, len(values), modbus.MaxWriteBits)
	if err != nil {
		return spanError("coils", span{addr: addr, n: len(values)}, len(values), true,
			c.refuse(modbus.FuncWriteMultipleCoils, false, err))
	}
	for _, s := range spans {
		req := modbus.NewWriteMultipleCoils(s.addr, values[s.off:s.off+s.n])
		if _, err := c.Do(ctx, req); err != nil {
			return spanError("coils", s, len(values), true, err)
		}
	}
	return nil
}
