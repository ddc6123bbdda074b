package plc_test

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
)

// TestGoburrowClient: plc's goburrow-compatible Client against plcsim, with
// the byte results goburrow's own client returns.
func TestGoburrowClient(t *testing.T) {
	sim := startSim(t, simulator.Config{})
	sim.SetFIFO(0x04DE, 0x01B8, 0x1284)
	g := dial(t, sim.Addr, 1).Goburrow()
	steps := []struct {
		name string
		do   func() ([]byte, error)
		want []byte
	}{
		{"write multiple registers", func() ([]byte, error) {
			return g.WriteMultipleRegisters(1, 2, []byte{0, 10, 0, 20})
		}, []byte{0, 2}},
		{"read holding registers", func() ([]byte, error) { return g.ReadHoldingRegisters(1, 2) }, []byte{0, 10, 0, 20}},
		{"write single register", func() ([]byte, error) { return g.WriteSingleRegister(5, 0x1234) }, []byte{0x12, 0x34}},
		{"mask write register", func() ([]byte, error) { return g.MaskWriteRegister(5, 0x00F2, 0x0025) },
			[]byte{0x00, 0xF2, 0x00, 0x25}},
		{"read/write multiple registers", func() ([]byte, error) {
			return g.ReadWriteMultipleRegisters(5, 1, 6, 1, []byte{0xAB, 0xCD})
		}, []byte{0x00, 0x35}},
		{"write single coil", func() ([]byte, error) { return g.WriteSingleCoil(3, 0xFF00) }, []byte{0xFF, 0x00}},
		{"write multiple coils", func() ([]byte, error) { return g.WriteMultipleCoils(8, 10, []byte{0xCD, 0x01}) },
			[]byte{0, 10}},
		{"read coils", func() ([]byte, error) { return g.ReadCoils(0, 18) }, []byte{0x08, 0xCD, 0x01}},
		{"read discrete inputs", func() ([]byte, error) { return g.ReadDiscreteInputs(0, 9) }, []byte{0, 0}},
		{"read input registers", func() ([]byte, error) { return g.ReadInputRegisters(0, 1) }, []byte{0, 0}},
		{"read fifo queue", func() ([]byte, error) { return g.ReadFIFOQueue(0x04DE) }, []byte{0x01, 0xB8, 0x12, 0x84}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			got, err := s.do()
			if err != nil || !bytes.Equal(got, s.want) {
				t.Errorf("%s = % x, %v; want % x", s.name, got, err, s.want)
			}
		})
	}
	if _, err := g.ReadHoldingRegisters(0, 126); !errors.Is(err, modbus.IllegalDataValue) {
		t.Errorf("126 registers = %v, want refused (goburrow does not split)", err)
	}
	if _, err := g.WriteSingleCoil(0, 1); !errors.Is(err, modbus.IllegalDataValue) {
		t.Errorf("coil value 1 = %v, want refused", err)
	}
}

// TestDeviceIDHostilePaging: a device whose "more follows" never advances
// cannot keep the client looping.
func TestDeviceIDHostilePaging(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		for {
			h, adu, err := modbus.ReadADU(nc, nil)
			if err != nil {
				return
			}
			req, _ := modbus.DecodeRequest(adu[modbus.MBAPHeaderLen:])
			r, ok := req.(*modbus.ReadDeviceID)
			if !ok {
				return
			}
			rsp := &modbus.DeviceIDResponse{Code: r.Code, Conformity: 0x81, MoreFollows: true,
				NextObjectID: r.ObjectID, Objects: []modbus.DeviceObject{{ID: r.ObjectID, Value: []byte("x")}}}
			out, _ := modbus.AppendADU(nil, h.TID, h.UnitID, rsp)
			if _, err := nc.Write(out); err != nil {
				return
			}
		}
	})
	c := dial(t, ln.Addr().String(), 1)
	_, err = c.ReadDeviceID(t.Context(), modbus.DeviceIDBasic)
	if err == nil || !strings.Contains(err.Error(), "does not advance") {
		t.Fatalf("ReadDeviceID = %v, want a refusal to loop", err)
	}
	if n := c.Conn().Stats().Requests; n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}
