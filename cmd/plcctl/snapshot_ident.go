package main

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plant"
	"github.com/plcctl/plcctl/plc"
)

// maxObjectText is the longest identification object a plant file holds.
const maxObjectText = 200

// notOffered tells an answer that means "the device does not offer this"
// (an exception, or no answer within the timeout while the user's ctx is
// still live) from a failure that stops the snapshot; it returns the note
// for the first and the error for the second.
func notOffered(ctx context.Context, err error) (string, error) {
	var exc *modbus.ExceptionError
	switch {
	case errors.As(err, &exc):
		return "not offered (exception " + exc.Code.String() + ")", nil
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return "no answer within --timeout", nil
	}
	return "", err
}

// recordIdentity reads the device identification objects (FC 43/14) with
// stream access at each category, basic, regular and extended (devices
// differ on whether a higher category includes the lower), and keeps what
// a plant file holds. It returns nil and a note when the device offers
// none.
func recordIdentity(ctx context.Context, c *plc.Client) (*plant.Identity, []string, error) {
	objects := map[uint8][]byte{}
	var conformity uint8
	for code := modbus.DeviceIDBasic; code <= modbus.DeviceIDExtended; code++ {
		d, err := c.ReadDeviceID(ctx, code)
		if err != nil {
			note, err := notOffered(ctx, err)
			if err == nil && code > modbus.DeviceIDBasic {
				break // the device's level is below code
			}
			return nil, []string{"device identification: " + note + ": not recorded (plcsim serves its own)"}, err
		}
		conformity = d.Conformity
		for _, o := range d.Objects {
			if _, seen := objects[o.ID]; !seen {
				objects[o.ID] = o.Value
			}
		}
	}
	id, notes := plantIdentity(objects, conformity)
	return id, append([]string{fmt.Sprintf("device identification: %s, conformity 0x%02X", plural(len(id.Objects), "object"), conformity)}, notes...), nil
}

// plantIdentity keeps of the objects and conformity a device sent what a
// plant file holds, with a note for each thing it changed.
func plantIdentity(objects map[uint8][]byte, conformity uint8) (*plant.Identity, []string) {
	id := &plant.Identity{Objects: map[uint8]string{}}
	var notes []string
	for obj := 0; obj <= 0xFF; obj++ {
		v, ok := objects[uint8(obj)]
		switch {
		case !ok:
			continue
		case obj > 0x06 && obj < 0x80:
			notes = append(notes, fmt.Sprintf("device identification object 0x%02X is in the reserved range 0x07..0x7F: not recorded", obj))
		case !utf8.Valid(v) || len(v) > maxObjectText:
			notes = append(notes, fmt.Sprintf("device identification object 0x%02X is not UTF-8 text of at most %d bytes: not recorded", obj, maxObjectText))
		default:
			id.Objects[uint8(obj)] = string(v)
		}
	}
	for obj := uint8(0); obj <= 2; obj++ {
		if _, ok := id.Objects[obj]; !ok {
			id.Objects[obj] = ""
			notes = append(notes, fmt.Sprintf("device identification object 0x%02X (basic, required in a plant file) is missing: recorded as empty", obj))
		}
	}
	if lv := conformity & 0x7F; lv >= 1 && lv <= 3 && (conformity&0x80 != 0 || conformity <= 3) {
		id.Conformity = conformity
	} else {
		notes = append(notes, fmt.Sprintf("conformity level 0x%02X is not one of 0x01..0x03, 0x81..0x83: plcsim derives its own", conformity))
	}
	return id, notes
}

// recordServerID reads the FC 17 answer and splits it as a plant file's
// server_id does: the id, the run indicator (0xFF ON, 0x00 OFF) and
// additional data. Where the id ends is device specific, so the run
// indicator is taken to be the first 0x00 or 0xFF after the first byte:
// plcsim then answers with the same bytes whatever the real split.
func recordServerID(ctx context.Context, c *plc.Client) (*plant.ServerID, string, error) {
	data, err := c.ReportServerID(ctx)
	if err != nil {
		note, err := notOffered(ctx, err)
		return nil, "server id: " + note + ": not recorded (plcsim answers FC 17 with exception 01)", err
	}
	if s := splitServerID(data); s != nil {
		return s, fmt.Sprintf("server id: %d bytes, run indicator %s", len(data), map[bool]string{true: "ON", false: "OFF"}[s.Run]), nil
	}
	return nil, fmt.Sprintf("server id: the %d bytes of the FC 17 answer hold no run indicator (0x00 or 0xFF) after the id: not recorded", len(data)), nil
}

// splitServerID splits FC 17 data at the first 0x00 or 0xFF after the
// first byte, or returns nil when there is none.
func splitServerID(data []byte) *plant.ServerID {
	for i := 1; i < len(data); i++ {
		if data[i] == 0x00 || data[i] == 0xFF {
			return &plant.ServerID{ID: data[:i], Run: data[i] == 0xFF, Additional: data[i+1:]}
		}
	}
	return nil
}
