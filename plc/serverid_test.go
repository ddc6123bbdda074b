package plc_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
)

// TestReportServerID: a unit with a server id answers FC 17 with it and
// its run indicator; one without answers 01.
func TestReportServerID(t *testing.T) {
	sim := startSim(t, simulator.Config{Units: map[uint8]simulator.UnitConfig{
		1: {ServerID: &simulator.ServerID{ID: []byte{0x2A, 0x01}, Run: true, Additional: []byte("pump")}},
		2: {},
	}})
	c := dial(t, sim.Addr, 1)
	got, err := c.ReportServerID(t.Context())
	if want := append([]byte{0x2A, 0x01, 0xFF}, "pump"...); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("ReportServerID = % X, %v; want % X", got, err, want)
	}
	if _, err := c.WithUnit(2).ReportServerID(t.Context()); !errors.Is(err, modbus.IllegalFunction) {
		t.Fatalf("unit 2 ReportServerID = %v, want exception 01", err)
	}
}
