package plc_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plc"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// TestRawUserFunction sends user-defined function codes and receives their
// normal answers, and checks that a returned answer stays intact after
// later requests (it must not alias a reused read buffer).
func TestRawUserFunction(t *testing.T) {
	s := simtest.Start(t, simulator.Config{UserFunctions: map[modbus.FunctionCode]simulator.UserFunc{
		0x41: func(data []byte) ([]byte, modbus.ExceptionCode) { return append([]byte{0xAA}, data...), 0 },
		0x65: func([]byte) ([]byte, modbus.ExceptionCode) { return nil, modbus.IllegalDataValue },
	}})
	ctx := context.Background()
	c, err := plc.Dial(ctx, s.Addr, plc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	first, err := c.Raw(ctx, 0x41, []byte{1, 2, 3})
	if err != nil || !bytes.Equal(first, []byte{0xAA, 1, 2, 3}) {
		t.Fatalf("Raw(0x41) = % X, %v; want AA 01 02 03", first, err)
	}
	for i := 0; i < 20; i++ {
		if _, err := c.Raw(ctx, 0x41, []byte{9, 9, 9, 9, 9, 9}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ReadHoldingRegisters(ctx, 0, 10); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(first, []byte{0xAA, 1, 2, 3}) {
		t.Fatalf("an earlier answer changed under later requests: % X", first)
	}
	_, err = c.Raw(ctx, 0x65, nil)
	if !errors.Is(err, modbus.IllegalDataValue) {
		t.Fatalf("Raw(0x65) error = %v, want exception 03", err)
	}
	_, err = c.Raw(ctx, 0x66, nil)
	if !errors.Is(err, modbus.IllegalFunction) {
		t.Fatalf("Raw(0x66) error = %v, want exception 01", err)
	}
}
