package modbus

import (
	"encoding/binary"
	"slices"
)

// Limits for the register functions [AP §6.3, §6.4, §6.12, §6.17].
const (
	MaxReadRegisters      = 125 // FC 3, 4, 23 read
	MaxWriteRegisters     = 123 // FC 16
	MaxReadWriteRegisters = 121 // FC 23 write
)

// ReadRegisters is Read Holding Registers (FC 3) or Read Input Registers
// (FC 4) [AP §6.3, §6.4].
type ReadRegisters struct {
	FC       FunctionCode
	Address  uint16
	Quantity uint16
}

// NewReadHoldingRegisters returns an FC 3 request.
func NewReadHoldingRegisters(address, quantity uint16) *ReadRegisters {
	return &ReadRegisters{FC: FuncReadHoldingRegisters, Address: address, Quantity: quantity}
}

// NewReadInputRegisters returns an FC 4 request.
func NewReadInputRegisters(address, quantity uint16) *ReadRegisters {
	return &ReadRegisters{FC: FuncReadInputRegisters, Address: address, Quantity: quantity}
}

// Function returns the function code of the ReadRegisters.
func (r *ReadRegisters) Function() FunctionCode { return r.FC }

// AppendPDU appends the ReadRegisters PDU, function code first, to dst.
func (r *ReadRegisters) AppendPDU(dst []byte) ([]byte, error) {
	return appendU16(append(dst, byte(r.FC)), r.Address, r.Quantity), nil
}

// Validate checks 1 <= Quantity <= 125 [AP Fig. 13, 14].
func (r *ReadRegisters) Validate() error {
	return checkQuantity(r.FC, "quantity", r.Quantity, MaxReadRegisters)
}

func decodeReadRegisters(pdu []byte) (*ReadRegisters, error) {
	if err := pduLenExact(pdu, 5); err != nil {
		return nil, err
	}
	return &ReadRegisters{FC: FunctionCode(pdu[0]), Address: u16(pdu, 1), Quantity: u16(pdu, 3)}, nil
}

func (r *ReadRegisters) decodeResponse(pdu []byte) (PDU, error) {
	return decodeRegistersResponse(pdu, int(r.Quantity))
}

// RegistersResponse answers FC 3, 4 or 23: register values, high byte first.
type RegistersResponse struct {
	FC   FunctionCode
	Data []byte // 2 bytes per register
}

// Function returns the function code of the RegistersResponse.
func (r *RegistersResponse) Function() FunctionCode { return r.FC }

// AppendPDU appends the RegistersResponse PDU, function code first, to dst.
func (r *RegistersResponse) AppendPDU(dst []byte) ([]byte, error) {
	if len(r.Data) > 255 {
		return dst, pduError(1, "byte count", ErrLongFrame, itoa(len(r.Data))+" data bytes do not fit a byte count")
	}
	return append(append(dst, byte(r.FC), byte(len(r.Data))), r.Data...), nil
}

// Registers returns the values as a new slice.
func (r *RegistersResponse) Registers() []uint16 { return AppendRegisters(nil, r.Data) }

func decodeRegistersResponse(pdu []byte, quantity int) (*RegistersResponse, error) {
	if err := checkRegistersResponse(pdu, quantity); err != nil {
		return nil, err
	}
	return &RegistersResponse{FC: FunctionCode(pdu[0]), Data: pdu[2:]}, nil
}

func checkRegistersResponse(pdu []byte, quantity int) error {
	if len(pdu) < 2 {
		return pduLenError(FunctionCode(pdu[0]), len(pdu), "at least 2")
	}
	bc := int(pdu[1])
	if err := pduLenCount(pdu, 2, 1); err != nil {
		return err
	}
	if bc != 2*quantity {
		return pduError(1, "byte count", ErrInconsistent, "byte count "+itoa(bc)+" for "+
			itoa(quantity)+" registers, want "+itoa(2*quantity))
	}
	return nil
}

// DecodeRegistersInto decodes pdu, the response to req, as DecodeResponse
// does, and appends the register values to dst: it allocates nothing when
// dst has room and the answer is not an exception. An exception answer is
// returned as *ExceptionError, any other bad answer as *FrameError; dst is
// returned unchanged with an error.
func DecodeRegistersInto(req *ReadRegisters, pdu []byte, dst []uint16) ([]uint16, error) {
	if err := checkPDUSize(pdu); err != nil {
		return dst, err
	}
	switch got := FunctionCode(pdu[0]); got {
	case req.FC:
		if err := checkRegistersResponse(pdu, int(req.Quantity)); err != nil {
			return dst, err
		}
		return AppendRegisters(dst, pdu[2:]), nil
	case req.FC | exceptionBit:
		e, err := decodeException(pdu)
		if err != nil {
			return dst, err
		}
		return dst, e
	default:
		_, err := DecodeResponse(req, pdu) // the same error as DecodeResponse's
		return dst, err
	}
}

// WriteSingleRegister is FC 6 [AP §6.6]; its normal response is an echo.
type WriteSingleRegister struct {
	Address uint16
	Value   uint16
}

// Function returns the function code of the WriteSingleRegister.
func (r *WriteSingleRegister) Function() FunctionCode { return FuncWriteSingleRegister }

// AppendPDU appends the WriteSingleRegister PDU, function code first, to dst.
func (r *WriteSingleRegister) AppendPDU(dst []byte) ([]byte, error) {
	return appendU16(append(dst, byte(FuncWriteSingleRegister)), r.Address, r.Value), nil
}

// Validate accepts every value: any 16-bit value is legal [AP Fig. 16].
func (r *WriteSingleRegister) Validate() error { return nil }

func decodeWriteSingleRegister(pdu []byte) (*WriteSingleRegister, error) {
	if err := pduLenExact(pdu, 5); err != nil {
		return nil, err
	}
	return &WriteSingleRegister{Address: u16(pdu, 1), Value: u16(pdu, 3)}, nil
}

func (r *WriteSingleRegister) decodeResponse(pdu []byte) (PDU, error) {
	got, err := decodeWriteSingleRegister(pdu)
	if err != nil {
		return nil, err
	}
	if got.Address != r.Address {
		return nil, echoMismatch(FuncWriteSingleRegister, 1, "address", got.Address, r.Address)
	}
	if got.Value != r.Value {
		return nil, echoMismatch(FuncWriteSingleRegister, 3, "value", got.Value, r.Value)
	}
	return got, nil
}

// WriteMultipleRegisters is FC 16 [AP §6.12]. Values holds 2 bytes per
// register; its length is the byte count on the wire.
type WriteMultipleRegisters struct {
	Address  uint16
	Quantity uint16
	Values   []byte
}

// NewWriteMultipleRegisters returns an FC 16 request writing regs from address.
func NewWriteMultipleRegisters(address uint16, regs []uint16) *WriteMultipleRegisters {
	return &WriteMultipleRegisters{Address: address, Quantity: uint16(len(regs)), Values: appendU16(nil, regs...)}
}

// Function returns the function code of the WriteMultipleRegisters.
func (r *WriteMultipleRegisters) Function() FunctionCode { return FuncWriteMultipleRegisters }

// AppendPDU appends the WriteMultipleRegisters PDU, function code first, to dst.
func (r *WriteMultipleRegisters) AppendPDU(dst []byte) ([]byte, error) {
	if len(r.Values) > 255 {
		return dst, pduError(5, "byte count", ErrLongFrame, itoa(len(r.Values))+" value bytes do not fit a byte count")
	}
	dst = appendU16(append(dst, byte(FuncWriteMultipleRegisters)), r.Address, r.Quantity)
	return append(append(dst, byte(len(r.Values))), r.Values...), nil
}

// Validate checks 1 <= Quantity <= 123 and byte count = 2*Quantity [AP Fig. 22].
func (r *WriteMultipleRegisters) Validate() error {
	if err := checkQuantity(FuncWriteMultipleRegisters, "quantity", r.Quantity, MaxWriteRegisters); err != nil {
		return err
	}
	if len(r.Values) != 2*int(r.Quantity) {
		return valueError(FuncWriteMultipleRegisters, "byte count", itoa(len(r.Values))+" for "+
			itoa(int(r.Quantity))+" registers, want "+itoa(2*int(r.Quantity)))
	}
	return nil
}

// Registers returns the values as a new slice.
func (r *WriteMultipleRegisters) Registers() []uint16 { return AppendRegisters(nil, r.Values) }

func decodeWriteMultipleRegisters(pdu []byte) (*WriteMultipleRegisters, error) {
	if len(pdu) < 6 {
		return nil, pduLenError(FuncWriteMultipleRegisters, len(pdu), "at least 6")
	}
	if err := pduLenCount(pdu, 6, 5); err != nil {
		return nil, err
	}
	return &WriteMultipleRegisters{Address: u16(pdu, 1), Quantity: u16(pdu, 3), Values: pdu[6:]}, nil
}

func (r *WriteMultipleRegisters) decodeResponse(pdu []byte) (PDU, error) {
	return decodeWriteMultipleResponse(pdu, r.Address, r.Quantity)
}

// MaskWriteRegister is FC 22 [AP §6.16]: new = (cur AND And) OR (Or AND NOT
// And). Its normal response is an echo.
type MaskWriteRegister struct {
	Address uint16
	AndMask uint16
	OrMask  uint16
}

// Function returns the function code of the MaskWriteRegister.
func (r *MaskWriteRegister) Function() FunctionCode { return FuncMaskWriteRegister }

// AppendPDU appends the MaskWriteRegister PDU, function code first, to dst.
func (r *MaskWriteRegister) AppendPDU(dst []byte) ([]byte, error) {
	return appendU16(append(dst, byte(FuncMaskWriteRegister)), r.Address, r.AndMask, r.OrMask), nil
}

// Validate accepts every mask [AP Fig. 26].
func (r *MaskWriteRegister) Validate() error { return nil }

// Apply returns the register value after the mask write.
func (r *MaskWriteRegister) Apply(cur uint16) uint16 {
	return (cur & r.AndMask) | (r.OrMask &^ r.AndMask)
}

func decodeMaskWriteRegister(pdu []byte) (*MaskWriteRegister, error) {
	if err := pduLenExact(pdu, 7); err != nil {
		return nil, err
	}
	return &MaskWriteRegister{Address: u16(pdu, 1), AndMask: u16(pdu, 3), OrMask: u16(pdu, 5)}, nil
}

func (r *MaskWriteRegister) decodeResponse(pdu []byte) (PDU, error) {
	got, err := decodeMaskWriteRegister(pdu)
	if err != nil {
		return nil, err
	}
	switch {
	case got.Address != r.Address:
		return nil, echoMismatch(FuncMaskWriteRegister, 1, "address", got.Address, r.Address)
	case got.AndMask != r.AndMask:
		return nil, echoMismatch(FuncMaskWriteRegister, 3, "and mask", got.AndMask, r.AndMask)
	case got.OrMask != r.OrMask:
		return nil, echoMismatch(FuncMaskWriteRegister, 5, "or mask", got.OrMask, r.OrMask)
	}
	return got, nil
}

// ReadWriteRegisters is FC 23 [AP §6.17]: the write is performed before the
// read. Values holds 2 bytes per written register.
type ReadWriteRegisters struct {
	ReadAddress   uint16
	ReadQuantity  uint16
	WriteAddress  uint16
	WriteQuantity uint16
	Values        []byte
}

// NewReadWriteRegisters returns an FC 23 request.
func NewReadWriteRegisters(readAddress, readQuantity, writeAddress uint16, regs []uint16) *ReadWriteRegisters {
	return &ReadWriteRegisters{ReadAddress: readAddress, ReadQuantity: readQuantity,
		WriteAddress: writeAddress, WriteQuantity: uint16(len(regs)), Values: appendU16(nil, regs...)}
}

// Function returns the function code of the ReadWriteRegisters.
func (r *ReadWriteRegisters) Function() FunctionCode { return FuncReadWriteMultipleRegisters }

// AppendPDU appends the ReadWriteRegisters PDU, function code first, to dst.
func (r *ReadWriteRegisters) AppendPDU(dst []byte) ([]byte, error) {
	if len(r.Values) > 255 {
		return dst, pduError(9, "byte count", ErrLongFrame, itoa(len(r.Values))+" value bytes do not fit a byte count")
	}
	dst = appendU16(append(dst, byte(FuncReadWriteMultipleRegisters)),
		r.ReadAddress, r.ReadQuantity, r.WriteAddress, r.WriteQuantity)
	return append(append(dst, byte(len(r.Values))), r.Values...), nil
}

// Validate checks 1 <= read quantity <= 125, 1 <= write quantity <= 121 and
// byte count = 2*write quantity [AP Fig. 27].
func (r *ReadWriteRegisters) Validate() error {
	fc := FuncReadWriteMultipleRegisters
	if err := checkQuantity(fc, "read quantity", r.ReadQuantity, MaxReadRegisters); err != nil {
		return err
	}
	if err := checkQuantity(fc, "write quantity", r.WriteQuantity, MaxReadWriteRegisters); err != nil {
		return err
	}
	if len(r.Values) != 2*int(r.WriteQuantity) {
		return valueError(fc, "write byte count", itoa(len(r.Values))+" for "+
			itoa(int(r.WriteQuantity))+" registers, want "+itoa(2*int(r.WriteQuantity)))
	}
	return nil
}

// Registers returns the values to write as a new slice.
func (r *ReadWriteRegisters) Registers() []uint16 { return AppendRegisters(nil, r.Values) }

func decodeReadWriteRegisters(pdu []byte) (*ReadWriteRegisters, error) {
	if len(pdu) < 10 {
		return nil, pduLenError(FuncReadWriteMultipleRegisters, len(pdu), "at least 10")
	}
	if err := pduLenCount(pdu, 10, 9); err != nil {
		return nil, err
	}
	return &ReadWriteRegisters{ReadAddress: u16(pdu, 1), ReadQuantity: u16(pdu, 3),
		WriteAddress: u16(pdu, 5), WriteQuantity: u16(pdu, 7), Values: pdu[10:]}, nil
}

func (r *ReadWriteRegisters) decodeResponse(pdu []byte) (PDU, error) {
	return decodeRegistersResponse(pdu, int(r.ReadQuantity))
}

// AppendRegisters appends the big-endian 16-bit values in data (an odd last
// byte is ignored). It grows dst once and fills it four values per 8-byte
// load, then one by one: a client's read of 125 registers decodes them in
// ~3 instructions each (an append per value took ~27).
func AppendRegisters(dst []uint16, data []byte) []uint16 {
	n := len(data) / 2
	dst = slices.Grow(dst, n)
	out := dst[len(dst) : len(dst)+n]
	for len(out) >= 4 {
		v := binary.BigEndian.Uint64(data)
		out[0], out[1], out[2], out[3] = uint16(v>>48), uint16(v>>32), uint16(v>>16), uint16(v)
		out, data = out[4:], data[8:]
	}
	for i := range out {
		out[i] = u16(data, 2*i)
	}
	return dst[:len(dst)+n]
}

// AppendRegisterBytes appends regs as big-endian bytes.
func AppendRegisterBytes(dst []byte, regs []uint16) []byte { return appendU16(dst, regs...) }
