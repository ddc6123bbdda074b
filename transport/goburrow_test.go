package transport

import (
	"bytes"
	"errors"
	"testing"
	"time"

	gb "github.com/goburrow/modbus"
	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

var _ gb.Transporter = (*Transporter)(nil)

// goburrowClients returns goburrow's own TCP client and goburrow's client
// over this package's transport, both aimed at addr.
func goburrowClients(t *testing.T, addr string) map[string]gb.Client {
	h := gb.NewTCPClientHandler(addr)
	h.SlaveId = 1
	h.Timeout = 2 * time.Second
	t.Cleanup(func() { h.Close() })
	c := dial(t, addr, testOptions(t))
	return map[string]gb.Client{
		"goburrow TCP handler":   gb.NewClient(h),
		"goburrow over our Conn": gb.NewClient2(h, c.Transporter()),
	}
}

// TestGoburrowAgainstSim: goburrow's client, with its own TCP handler and
// with NewClient2 over our Transporter, against plcsim: every function
// goburrow offers, plus an exception.
func TestGoburrowAgainstSim(t *testing.T) {
	sim := simtest.Start(t, simulator.Config{HoldingRegisters: 100, Logger: testLogger(t, zerolog.InfoLevel)})
	for name, cl := range goburrowClients(t, sim.Addr) {
		t.Run(name, func(t *testing.T) {
			sim.SetHoldingRegisters(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
			steps := []struct {
				name string
				do   func() ([]byte, error)
				want []byte
			}{
				{"write multiple registers", func() ([]byte, error) {
					return cl.WriteMultipleRegisters(1, 3, []byte{0, 10, 0, 20, 0, 30})
				}, []byte{0, 3}},
				{"read holding", func() ([]byte, error) { return cl.ReadHoldingRegisters(1, 3) },
					[]byte{0, 10, 0, 20, 0, 30}},
				{"write single register", func() ([]byte, error) { return cl.WriteSingleRegister(5, 0x1234) },
					[]byte{0x12, 0x34}},
				{"mask write", func() ([]byte, error) { return cl.MaskWriteRegister(5, 0x00F2, 0x0025) },
					[]byte{0x00, 0xF2, 0x00, 0x25}},
				{"read/write multiple", func() ([]byte, error) {
					return cl.ReadWriteMultipleRegisters(5, 1, 6, 1, []byte{0xAB, 0xCD})
				}, []byte{0x00, 0x35}}, // (0x1234 AND 0xF2) OR (0x25 AND NOT 0xF2)
				{"write single coil", func() ([]byte, error) { return cl.WriteSingleCoil(3, 0xFF00) },
					[]byte{0xFF, 0x00}},
				{"write multiple coils", func() ([]byte, error) {
					return cl.WriteMultipleCoils(8, 10, []byte{0xCD, 0x01})
				}, []byte{0, 10}},
				{"read coils", func() ([]byte, error) { return cl.ReadCoils(0, 18) },
					[]byte{0x08, 0xCD, 0x01}},
				{"read discrete inputs", func() ([]byte, error) { return cl.ReadDiscreteInputs(0, 8) }, []byte{0}},
				{"read input registers", func() ([]byte, error) { return cl.ReadInputRegisters(0, 2) },
					[]byte{0, 0, 0, 0}},
			}
			for _, s := range steps {
				got, err := s.do()
				if err != nil || !bytes.Equal(got, s.want) {
					t.Errorf("%s = % x, %v; want % x", s.name, got, err, s.want)
				}
			}
			_, err := cl.ReadHoldingRegisters(99, 2)
			var me *gb.ModbusError
			if !errors.As(err, &me) || me.ExceptionCode != gb.ExceptionCodeIllegalDataAddress {
				t.Errorf("read past the end = %v, want goburrow exception 02", err)
			}
		})
	}
}

// TestTransporterErrors: what our Transporter refuses and how a link error
// reaches a goburrow caller.
func TestTransporterErrors(t *testing.T) {
	sim := startSim(t)
	c := dial(t, sim.Addr, testOptions(t))
	tr := c.Transporter()
	tests := []struct {
		name string
		adu  []byte
		want error
	}{
		{"length disagrees with bytes", []byte{0, 1, 0, 0, 0, 9, 1, 3, 0, 0, 0, 1}, modbus.ErrShortFrame},
		{"pdu too long for its fc", []byte{0, 1, 0, 0, 0, 7, 1, 3, 0, 0, 0, 1, 0}, modbus.ErrLongFrame},
		{"quantity 0", []byte{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 0}, modbus.IllegalDataValue},
		{"range past 65535", []byte{0, 1, 0, 0, 0, 6, 1, 3, 0xFF, 0xFF, 0, 2}, modbus.IllegalDataAddress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tr.Send(tt.adu); !errors.Is(err, tt.want) {
				t.Errorf("Send(% x) = %v, want %v", tt.adu, err, tt.want)
			}
		})
	}
	if s := sim.Stats(); s.Requests != 0 {
		t.Errorf("simulator saw %d requests, want 0", s.Requests)
	}
	got, err := tr.Send([]byte{0xAB, 0xCD, 0, 0, 0, 6, 7, 3, 0, 0, 0, 1})
	want := []byte{0xAB, 0xCD, 0, 0, 0, 5, 7, 3, 2, 0, 0}
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("Send = % x, %v; want % x (caller's tid and unit id)", got, err, want)
	}
}
