package modbus

// Limits for the bit functions [AP §6.1, §6.2, §6.11].
const (
	MaxReadBits  = 2000 // FC 1, 2
	MaxWriteBits = 1968 // FC 15
	CoilOn       = 0xFF00
	CoilOff      = 0x0000
)

// ReadBits is Read Coils (FC 1) or Read Discrete Inputs (FC 2) [AP §6.1, §6.2].
type ReadBits struct {
	FC       FunctionCode
	Address  uint16
	Quantity uint16
}

// NewReadCoils returns an FC 1 request.
func NewReadCoils(address, quantity uint16) *ReadBits {
	return &ReadBits{FC: FuncReadCoils, Address: address, Quantity: quantity}
}

// NewReadDiscreteInputs returns an FC 2 request.
func NewReadDiscreteInputs(address, quantity uint16) *ReadBits {
	return &ReadBits{FC: FuncReadDiscreteInputs, Address: address, Quantity: quantity}
}

// Function returns the function code of the ReadBits.
func (r *ReadBits) Function() FunctionCode { return r.FC }

// AppendPDU appends the ReadBits PDU, function code first, to dst.
func (r *ReadBits) AppendPDU(dst []byte) ([]byte, error) {
	return appendU16(append(dst, byte(r.FC)), r.Address, r.Quantity), nil
}

// Validate checks 1 <= Quantity <= 2000 [AP Fig. 11, 12].
func (r *ReadBits) Validate() error { return checkQuantity(r.FC, "quantity", r.Quantity, MaxReadBits) }

func decodeReadBits(pdu []byte) (*ReadBits, error) {
	if err := pduLenExact(pdu, 5); err != nil {
		return nil, err
	}
	return &ReadBits{FC: FunctionCode(pdu[0]), Address: u16(pdu, 1), Quantity: u16(pdu, 3)}, nil
}

func (r *ReadBits) decodeResponse(pdu []byte) (PDU, error) {
	return decodeBitsResponse(pdu, int(r.Quantity))
}

// BitsResponse answers FC 1 or 2: packed bits, first item in bit 0 of the
// first byte [AP §6.1].
type BitsResponse struct {
	FC   FunctionCode
	Data []byte
}

// Function returns the function code of the BitsResponse.
func (r *BitsResponse) Function() FunctionCode { return r.FC }

// AppendPDU appends the BitsResponse PDU, function code first, to dst.
func (r *BitsResponse) AppendPDU(dst []byte) ([]byte, error) {
	if len(r.Data) > 255 {
		return dst, pduError(1, "byte count", ErrLongFrame, itoa(len(r.Data))+" data bytes do not fit a byte count")
	}
	return append(append(dst, byte(r.FC), byte(len(r.Data))), r.Data...), nil
}

// Bits unpacks the first n bits.
func (r *BitsResponse) Bits(n int) []bool { return UnpackBits(r.Data, n) }

func decodeBitsResponse(pdu []byte, quantity int) (*BitsResponse, error) {
	if len(pdu) < 2 {
		return nil, pduLenError(FunctionCode(pdu[0]), len(pdu), "at least 2")
	}
	bc := int(pdu[1])
	if err := pduLenCount(pdu, 2, 1); err != nil {
		return nil, err
	}
	if want := (quantity + 7) / 8; bc != want {
		return nil, pduError(1, "byte count", ErrInconsistent, "byte count "+itoa(bc)+" for "+
			itoa(quantity)+" bits, want "+itoa(want))
	}
	return &BitsResponse{FC: FunctionCode(pdu[0]), Data: pdu[2:]}, nil
}

// WriteSingleCoil is FC 5 [AP §6.5]; its normal response is an echo.
type WriteSingleCoil struct {
	Address uint16
	Value   uint16 // CoilOn or CoilOff
}

// NewWriteSingleCoil returns an FC 5 request.
func NewWriteSingleCoil(address uint16, on bool) *WriteSingleCoil {
	v := uint16(CoilOff)
	if on {
		v = CoilOn
	}
	return &WriteSingleCoil{Address: address, Value: v}
}

// Function returns the function code of the WriteSingleCoil.
func (r *WriteSingleCoil) Function() FunctionCode { return FuncWriteSingleCoil }

// AppendPDU appends the WriteSingleCoil PDU, function code first, to dst.
func (r *WriteSingleCoil) AppendPDU(dst []byte) ([]byte, error) {
	return appendU16(append(dst, byte(FuncWriteSingleCoil)), r.Address, r.Value), nil
}

// Validate checks the value is 0xFF00 or 0x0000 [AP Fig. 15].
func (r *WriteSingleCoil) Validate() error {
	if r.Value != CoilOn && r.Value != CoilOff {
		return valueError(FuncWriteSingleCoil, "value", "0x"+hex4(r.Value)+" is neither 0xFF00 (on) nor 0x0000 (off)")
	}
	return nil
}

// On reports whether the value is CoilOn.
func (r *WriteSingleCoil) On() bool { return r.Value == CoilOn }

func decodeWriteSingleCoil(pdu []byte) (*WriteSingleCoil, error) {
	if err := pduLenExact(pdu, 5); err != nil {
		return nil, err
	}
	return &WriteSingleCoil{Address: u16(pdu, 1), Value: u16(pdu, 3)}, nil
}

func (r *WriteSingleCoil) decodeResponse(pdu []byte) (PDU, error) {
	got, err := decodeWriteSingleCoil(pdu)
	if err != nil {
		return nil, err
	}
	if got.Address != r.Address {
		return nil, echoMismatch(FuncWriteSingleCoil, 1, "address", got.Address, r.Address)
	}
	if got.Value != r.Value {
		return nil, echoMismatch(FuncWriteSingleCoil, 3, "value", got.Value, r.Value)
	}
	return got, nil
}

// WriteMultipleCoils is FC 15 [AP §6.11]. Values holds the packed bits; its
// length is the byte count on the wire.
type WriteMultipleCoils struct {
	Address  uint16
	Quantity uint16
	Values   []byte
}

// NewWriteMultipleCoils returns an FC 15 request writing bits from address.
func NewWriteMultipleCoils(address uint16, bits []bool) *WriteMultipleCoils {
	return &WriteMultipleCoils{Address: address, Quantity: uint16(len(bits)), Values: PackBits(nil, bits)}
}

// Function returns the function code of the WriteMultipleCoils.
func (r *WriteMultipleCoils) Function() FunctionCode { return FuncWriteMultipleCoils }

// AppendPDU appends the WriteMultipleCoils PDU, function code first, to dst.
func (r *WriteMultipleCoils) AppendPDU(dst []byte) ([]byte, error) {
	if len(r.Values) > 255 {
		return dst, pduError(5, "byte count", ErrLongFrame, itoa(len(r.Values))+" value bytes do not fit a byte count")
	}
	dst = appendU16(append(dst, byte(FuncWriteMultipleCoils)), r.Address, r.Quantity)
	return append(append(dst, byte(len(r.Values))), r.Values...), nil
}

// Validate checks 1 <= Quantity <= 1968 and byte count = ceil(Quantity/8)
// [AP Fig. 21].
func (r *WriteMultipleCoils) Validate() error {
	if err := checkQuantity(FuncWriteMultipleCoils, "quantity", r.Quantity, MaxWriteBits); err != nil {
		return err
	}
	if want := (int(r.Quantity) + 7) / 8; len(r.Values) != want {
		return valueError(FuncWriteMultipleCoils, "byte count", itoa(len(r.Values))+" for "+
			itoa(int(r.Quantity))+" coils, want "+itoa(want))
	}
	return nil
}

// Bits unpacks the coil values.
func (r *WriteMultipleCoils) Bits() []bool { return UnpackBits(r.Values, int(r.Quantity)) }

func decodeWriteMultipleCoils(pdu []byte) (*WriteMultipleCoils, error) {
	if len(pdu) < 6 {
		return nil, pduLenError(FuncWriteMultipleCoils, len(pdu), "at least 6")
	}
	if err := pduLenCount(pdu, 6, 5); err != nil {
		return nil, err
	}
	return &WriteMultipleCoils{Address: u16(pdu, 1), Quantity: u16(pdu, 3), Values: pdu[6:]}, nil
}

func (r *WriteMultipleCoils) decodeResponse(pdu []byte) (PDU, error) {
	return decodeWriteMultipleResponse(pdu, r.Address, r.Quantity)
}

// WriteMultipleResponse answers FC 15 or 16: start address and quantity.
type WriteMultipleResponse struct {
	FC       FunctionCode
	Address  uint16
	Quantity uint16
}

// Function returns the function code of the WriteMultipleResponse.
func (r *WriteMultipleResponse) Function() FunctionCode { return r.FC }

// AppendPDU appends the WriteMultipleResponse PDU, function code first, to dst.
func (r *WriteMultipleResponse) AppendPDU(dst []byte) ([]byte, error) {
	return appendU16(append(dst, byte(r.FC)), r.Address, r.Quantity), nil
}

func decodeWriteMultipleResponse(pdu []byte, address, quantity uint16) (*WriteMultipleResponse, error) {
	if err := pduLenExact(pdu, 5); err != nil {
		return nil, err
	}
	fc := FunctionCode(pdu[0])
	r := &WriteMultipleResponse{FC: fc, Address: u16(pdu, 1), Quantity: u16(pdu, 3)}
	if r.Address != address {
		return nil, echoMismatch(fc, 1, "address", r.Address, address)
	}
	if r.Quantity != quantity {
		return nil, echoMismatch(fc, 3, "quantity", r.Quantity, quantity)
	}
	return r, nil
}

// PackBits appends bits packed LSB first, 8 to a byte, unused high bits zero.
func PackBits(dst []byte, bits []bool) []byte {
	for i := 0; i < len(bits); i += 8 {
		var b byte
		for j := 0; j < 8 && i+j < len(bits); j++ {
			if bits[i+j] {
				b |= 1 << j
			}
		}
		dst = append(dst, b)
	}
	return dst
}

// UnpackBits returns the first n bits of packed data (fewer if data is short).
func UnpackBits(data []byte, n int) []bool {
	if n > len(data)*8 {
		n = len(data) * 8
	}
	if n < 0 {
		n = 0
	}
	out := make([]bool, n)
	for i := range out {
		out[i] = data[i/8]&(1<<(i%8)) != 0
	}
	return out
}

func hex4(v uint16) string { return hex2(uint8(v>>8)) + hex2(uint8(v)) }
