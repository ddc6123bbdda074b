package plc

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/plcctl/plcctl/modbus"
)

// DeviceID is what Read Device Identification returned: the conformity
// level and the objects, ordered by id [AP §6.21].
type DeviceID struct {
	Conformity uint8
	Objects    []modbus.DeviceObject
}

// Object returns the value of object id and whether the device sent it.
func (d *DeviceID) Object(id uint8) ([]byte, bool) {
	i, ok := slices.BinarySearchFunc(d.Objects, id, func(o modbus.DeviceObject, id uint8) int { return int(o.ID) - int(id) })
	if !ok {
		return nil, false
	}
	return d.Objects[i].Value, true
}

func (d *DeviceID) text(id uint8) string {
	v, _ := d.Object(id)
	return string(v)
}

// VendorName returns object 0x00 ("" if absent).
func (d *DeviceID) VendorName() string { return d.text(modbus.ObjectVendorName) }

// ProductCode returns object 0x01.
func (d *DeviceID) ProductCode() string { return d.text(modbus.ObjectProductCode) }

// Revision returns object 0x02, MajorMinorRevision.
func (d *DeviceID) Revision() string { return d.text(modbus.ObjectMajorMinorRevision) }

// VendorURL returns object 0x03.
func (d *DeviceID) VendorURL() string { return d.text(modbus.ObjectVendorURL) }

// ProductName returns object 0x04.
func (d *DeviceID) ProductName() string { return d.text(modbus.ObjectProductName) }

// ModelName returns object 0x05.
func (d *DeviceID) ModelName() string { return d.text(modbus.ObjectModelName) }

// UserApplicationName returns object 0x06.
func (d *DeviceID) UserApplicationName() string { return d.text(modbus.ObjectUserApplicationName) }

// ReadDeviceID reads the identification objects of category code
// (modbus.DeviceIDBasic, DeviceIDRegular or DeviceIDExtended) with stream
// access (FC 43/14) [AP §6.21], following "more follows" across as many
// transactions as the device needs. For one object use ReadDeviceObject.
func (c *Client) ReadDeviceID(ctx context.Context, code uint8) (*DeviceID, error) {
	if code < modbus.DeviceIDBasic || code > modbus.DeviceIDExtended {
		return nil, fmt.Errorf("plc: read device id: %w", c.refuse(modbus.FuncEncapsulatedInterface, false,
			fmt.Errorf("code %d is not stream access (1..3); use ReadDeviceObject", code)))
	}
	d := &DeviceID{}
	next := uint8(0)
	for page := 1; ; page++ {
		r, err := c.deviceIDPage(ctx, code, next)
		if err != nil {
			return nil, fmt.Errorf("plc: read device id, transaction %d (from object 0x%02x): %w", page, next, err)
		}
		d.Conformity = r.Conformity
		d.add(r.Objects)
		if !r.MoreFollows {
			break
		}
		// Object ids only grow within a stream; insisting on it bounds the
		// loop at 255 transactions whatever the device says.
		if r.NextObjectID <= next {
			return nil, fmt.Errorf("plc: read device id: %w", c.refuse(modbus.FuncEncapsulatedInterface, true,
				fmt.Errorf("next object id 0x%02x after asking from 0x%02x does not advance", r.NextObjectID, next)))
		}
		next = r.NextObjectID
	}
	slices.SortFunc(d.Objects, func(a, b modbus.DeviceObject) int { return int(a.ID) - int(b.ID) })
	return d, nil
}

func (c *Client) deviceIDPage(ctx context.Context, code, from uint8) (*modbus.DeviceIDResponse, error) {
	rsp, err := c.Do(ctx, &modbus.ReadDeviceID{Code: code, ObjectID: from})
	if err != nil {
		return nil, err
	}
	return as[*modbus.DeviceIDResponse](rsp)
}

// add appends copies of objs, skipping ids already present.
func (d *DeviceID) add(objs []modbus.DeviceObject) {
	for _, o := range objs {
		if slices.ContainsFunc(d.Objects, func(x modbus.DeviceObject) bool { return x.ID == o.ID }) {
			continue
		}
		d.Objects = append(d.Objects, modbus.DeviceObject{ID: o.ID, Value: bytes.Clone(o.Value)})
	}
}

// ReadDeviceObject reads the one identification object id with individual
// access (FC 43/14, code 4) [AP §6.21]. A device without that object
// answers exception 02.
func (c *Client) ReadDeviceObject(ctx context.Context, id uint8) ([]byte, error) {
	r, err := c.deviceIDPage(ctx, modbus.DeviceIDIndividual, id)
	if err != nil {
		return nil, fmt.Errorf("plc: read device object 0x%02x: %w", id, err)
	}
	for _, o := range r.Objects {
		if o.ID == id {
			return bytes.Clone(o.Value), nil
		}
	}
	return nil, fmt.Errorf("plc: read device object 0x%02x: %w", id, c.refuse(modbus.FuncEncapsulatedInterface, true,
		&modbus.FrameError{Where: "pdu", Offset: 6, Field: "objects", Reason: "answer lacks the object asked for",
			Err: modbus.ErrInconsistent}))
}
