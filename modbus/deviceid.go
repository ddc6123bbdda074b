package modbus

// Read Device ID codes [AP §6.21].
const (
	DeviceIDBasic      uint8 = 0x01 // stream access, objects 0x00..0x02
	DeviceIDRegular    uint8 = 0x02 // stream access, objects 0x00..0x06
	DeviceIDExtended   uint8 = 0x03 // stream access, regular + 0x80..0xFF
	DeviceIDIndividual uint8 = 0x04 // one object
)

// Device identification object ids [AP §6.21].
const (
	ObjectVendorName          uint8 = 0x00
	ObjectProductCode         uint8 = 0x01
	ObjectMajorMinorRevision  uint8 = 0x02
	ObjectVendorURL           uint8 = 0x03
	ObjectProductName         uint8 = 0x04
	ObjectModelName           uint8 = 0x05
	ObjectUserApplicationName uint8 = 0x06
)

// ReadDeviceID is Read Device Identification, FC 43 / MEI 14 [AP §6.21].
type ReadDeviceID struct {
	Code     uint8 // DeviceIDBasic .. DeviceIDIndividual
	ObjectID uint8
}

// Function returns the function code of the ReadDeviceID.
func (r *ReadDeviceID) Function() FunctionCode { return FuncEncapsulatedInterface }

// AppendPDU appends the ReadDeviceID PDU, function code first, to dst.
func (r *ReadDeviceID) AppendPDU(dst []byte) ([]byte, error) {
	return append(dst, byte(FuncEncapsulatedInterface), MEITypeReadDeviceID, r.Code, r.ObjectID), nil
}

// Validate checks the read device id code is 1..4 [AP Fig. 30]. A missing
// object (02, individual access only) is the server's check.
func (r *ReadDeviceID) Validate() error {
	if r.Code < DeviceIDBasic || r.Code > DeviceIDIndividual {
		return valueError(FuncEncapsulatedInterface, "read device id code", itoa(int(r.Code))+" out of range 1..4")
	}
	return nil
}

func decodeReadDeviceID(pdu []byte) (*ReadDeviceID, error) {
	if err := pduLenExact(pdu, 4); err != nil {
		return nil, err
	}
	return &ReadDeviceID{Code: pdu[2], ObjectID: pdu[3]}, nil
}

// DeviceObject is one identification object.
type DeviceObject struct {
	ID    uint8
	Value []byte
}

// DeviceIDResponse answers FC 43/14.
type DeviceIDResponse struct {
	Code         uint8
	Conformity   uint8
	MoreFollows  bool
	NextObjectID uint8
	Objects      []DeviceObject
}

// Function returns the function code of the DeviceIDResponse.
func (r *DeviceIDResponse) Function() FunctionCode { return FuncEncapsulatedInterface }

// AppendPDU appends the DeviceIDResponse PDU, function code first, to dst.
func (r *DeviceIDResponse) AppendPDU(dst []byte) ([]byte, error) {
	more := byte(0)
	if r.MoreFollows {
		more = 0xFF
	}
	if len(r.Objects) > 255 {
		return dst, pduError(6, "number of objects", ErrLongFrame, itoa(len(r.Objects))+" objects")
	}
	dst = append(dst, byte(FuncEncapsulatedInterface), MEITypeReadDeviceID, r.Code, r.Conformity,
		more, r.NextObjectID, byte(len(r.Objects)))
	for _, o := range r.Objects {
		if len(o.Value) > 255 {
			return dst, pduError(len(dst), "object length", ErrLongFrame, "object "+itoa(int(o.ID))+" has "+itoa(len(o.Value))+" bytes")
		}
		dst = append(append(dst, o.ID, byte(len(o.Value))), o.Value...)
	}
	return dst, nil
}

func (r *ReadDeviceID) decodeResponse(pdu []byte) (PDU, error) {
	fc := FuncEncapsulatedInterface
	if len(pdu) < 7 {
		return nil, pduLenError(fc, len(pdu), "at least 7")
	}
	if pdu[1] != MEITypeReadDeviceID {
		return nil, pduError(1, "mei type", ErrInconsistent, "mei type "+itoa(int(pdu[1]))+", want 14")
	}
	if pdu[2] != r.Code {
		return nil, pduError(2, "read device id code", ErrInconsistent, "code "+itoa(int(pdu[2]))+", request had "+itoa(int(r.Code)))
	}
	if pdu[4] != 0x00 && pdu[4] != 0xFF {
		return nil, pduError(4, "more follows", ErrInconsistent, "0x"+hex2(pdu[4])+" is neither 0x00 nor 0xFF")
	}
	rsp := &DeviceIDResponse{Code: pdu[2], Conformity: pdu[3], MoreFollows: pdu[4] == 0xFF, NextObjectID: pdu[5]}
	n := int(pdu[6])
	rsp.Objects = make([]DeviceObject, 0, min(n, len(pdu)/2))
	off := 7
	for i := 0; i < n; i++ {
		if off+2 > len(pdu) {
			return nil, pduError(off, "object", ErrShortFrame, "pdu ends before object "+itoa(i+1)+" of "+itoa(n))
		}
		end := off + 2 + int(pdu[off+1])
		if end > len(pdu) {
			return nil, pduError(off+1, "object length", ErrShortFrame, "object 0x"+hex2(pdu[off])+" runs past the pdu")
		}
		rsp.Objects = append(rsp.Objects, DeviceObject{ID: pdu[off], Value: pdu[off+2 : end]})
		off = end
	}
	if off != len(pdu) {
		return nil, pduError(off, "number of objects", ErrLongFrame, itoa(len(pdu)-off)+" bytes after the last of "+itoa(n)+" objects")
	}
	return rsp, nil
}
