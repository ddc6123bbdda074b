package plc

import (
	"context"
	"encoding/binary"
	"time"

	gb "github.com/goburrow/modbus"

	"github.com/plcctl/plcctl/modbus"
)

// Goburrow offers a Client through github.com/goburrow/modbus's Client
// interface, so code written against goburrow switches by changing the line
// that builds its client:
//
//	client := plcClient.Goburrow() // was: modbus.TCPClient("plc-3:502")
//
// Results are the raw bytes goburrow returns (packed bits, big-endian
// registers, the echoed value or quantity of a write), and quantities keep
// goburrow's one-request limits: nothing is split. Errors are this
// project's (transport.OpError wrapping *modbus.ExceptionError and so on),
// not goburrow's *ModbusError.
type Goburrow struct {
	c *Client
	// Timeout bounds each call, since goburrow's methods take no ctx.
	// Zero means the connection's Options.Timeout.
	Timeout time.Duration
}

var _ gb.Client = (*Goburrow)(nil)

// Goburrow returns the goburrow-compatible view of c.
func (c *Client) Goburrow() *Goburrow { return &Goburrow{c: c} }

func (g *Goburrow) do(req modbus.Request) (modbus.PDU, error) {
	ctx := context.Background()
	if g.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, g.Timeout)
		defer cancel()
	}
	return g.c.Do(ctx, req)
}

// data returns the response's bytes after the function code and its count
// byte(s), as goburrow's read functions do.
func (g *Goburrow) data(req modbus.Request) ([]byte, error) {
	rsp, err := g.do(req)
	if err != nil {
		return nil, err
	}
	switch r := rsp.(type) {
	case *modbus.BitsResponse:
		return r.Data, nil
	case *modbus.RegistersResponse:
		return r.Data, nil
	case *modbus.FIFOResponse:
		return r.Data, nil
	}
	_, err = as[*modbus.RegistersResponse](rsp)
	return nil, err
}

// echo returns the 2 bytes goburrow returns for a write: the value or
// quantity the device echoed.
func (g *Goburrow) echo(req modbus.Request, v uint16) ([]byte, error) {
	if _, err := g.do(req); err != nil {
		return nil, err
	}
	return binary.BigEndian.AppendUint16(nil, v), nil
}

// ReadCoils reads quantity coils from address (FC 1, at most 2000) and
// returns them packed, the first in bit 0 of the first byte.
func (g *Goburrow) ReadCoils(address, quantity uint16) ([]byte, error) {
	return g.data(modbus.NewReadCoils(address, quantity))
}

// ReadDiscreteInputs reads quantity discrete inputs (FC 2), packed as
// ReadCoils returns them.
func (g *Goburrow) ReadDiscreteInputs(address, quantity uint16) ([]byte, error) {
	return g.data(modbus.NewReadDiscreteInputs(address, quantity))
}

// WriteSingleCoil writes value, 0xFF00 (on) or 0x0000 (off), to the coil
// at address (FC 5) and returns the value echoed.
func (g *Goburrow) WriteSingleCoil(address, value uint16) ([]byte, error) {
	return g.echo(&modbus.WriteSingleCoil{Address: address, Value: value}, value)
}

// WriteMultipleCoils writes quantity coils packed in value from address
// (FC 15, at most 1968) and returns the quantity echoed.
func (g *Goburrow) WriteMultipleCoils(address, quantity uint16, value []byte) ([]byte, error) {
	return g.echo(&modbus.WriteMultipleCoils{Address: address, Quantity: quantity, Values: value}, quantity)
}

// ReadInputRegisters reads quantity input registers from address (FC 4, at
// most 125) and returns their bytes, high byte first.
func (g *Goburrow) ReadInputRegisters(address, quantity uint16) ([]byte, error) {
	return g.data(modbus.NewReadInputRegisters(address, quantity))
}

// ReadHoldingRegisters reads quantity holding registers from address (FC 3,
// at most 125) and returns their bytes, high byte first.
func (g *Goburrow) ReadHoldingRegisters(address, quantity uint16) ([]byte, error) {
	return g.data(modbus.NewReadHoldingRegisters(address, quantity))
}

// WriteSingleRegister writes value to the holding register at address
// (FC 6) and returns the value echoed.
func (g *Goburrow) WriteSingleRegister(address, value uint16) ([]byte, error) {
	return g.echo(&modbus.WriteSingleRegister{Address: address, Value: value}, value)
}

// WriteMultipleRegisters writes quantity registers, 2 bytes each in value,
// from address (FC 16, at most 123) and returns the quantity echoed.
func (g *Goburrow) WriteMultipleRegisters(address, quantity uint16, value []byte) ([]byte, error) {
	return g.echo(&modbus.WriteMultipleRegisters{Address: address, Quantity: quantity, Values: value}, quantity)
}

// ReadWriteMultipleRegisters writes writeQuantity registers from value at
// writeAddress, then reads readQuantity registers at readAddress, in one
// transaction (FC 23), and returns the bytes read.
func (g *Goburrow) ReadWriteMultipleRegisters(readAddress, readQuantity, writeAddress, writeQuantity uint16, value []byte) ([]byte, error) {
	return g.data(&modbus.ReadWriteRegisters{ReadAddress: readAddress, ReadQuantity: readQuantity,
		WriteAddress: writeAddress, WriteQuantity: writeQuantity, Values: value})
}

// MaskWriteRegister returns the AND and OR masks the device echoed.
func (g *Goburrow) MaskWriteRegister(address, andMask, orMask uint16) ([]byte, error) {
	if _, err := g.do(&modbus.MaskWriteRegister{Address: address, AndMask: andMask, OrMask: orMask}); err != nil {
		return nil, err
	}
	return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, andMask), orMask), nil
}

// ReadFIFOQueue returns the queued registers' bytes. (goburrow v0.1.0's own
// client checks the FIFO byte count wrongly and fails on correct answers;
// this one does not.)
func (g *Goburrow) ReadFIFOQueue(address uint16) ([]byte, error) {
	return g.data(&modbus.ReadFIFOQueue{Address: address})
}
