package modbus

// MaxFIFOCount is the largest queue FC 24 may return [AP §6.18].
const MaxFIFOCount = 31

// ReadFIFOQueue is FC 24 [AP §6.18].
type ReadFIFOQueue struct {
	Address uint16 // FIFO pointer address
}

// Function returns the function code of the ReadFIFOQueue.
func (r *ReadFIFOQueue) Function() FunctionCode { return FuncReadFIFOQueue }

// AppendPDU appends the ReadFIFOQueue PDU, function code first, to dst.
func (r *ReadFIFOQueue) AppendPDU(dst []byte) ([]byte, error) {
	return appendU16(append(dst, byte(FuncReadFIFOQueue)), r.Address), nil
}

// Validate accepts every pointer: the address is checked by the server first,
// then the queue length [AP Fig. 28].
func (r *ReadFIFOQueue) Validate() error { return nil }

func decodeReadFIFOQueue(pdu []byte) (*ReadFIFOQueue, error) {
	if err := pduLenExact(pdu, 3); err != nil {
		return nil, err
	}
	return &ReadFIFOQueue{Address: u16(pdu, 1)}, nil
}

func (r *ReadFIFOQueue) decodeResponse(pdu []byte) (PDU, error) { return decodeFIFOResponse(pdu) }

// FIFOResponse answers FC 24: a 2-byte byte count (2 + 2*count), a 2-byte
// FIFO count, then the values.
type FIFOResponse struct {
	Data []byte // 2 bytes per queued register
}

// Function returns the function code of the FIFOResponse.
func (r *FIFOResponse) Function() FunctionCode { return FuncReadFIFOQueue }

// AppendPDU appends the FIFOResponse PDU, function code first, to dst.
func (r *FIFOResponse) AppendPDU(dst []byte) ([]byte, error) {
	n := len(r.Data) / 2
	if len(r.Data)%2 != 0 || n > MaxFIFOCount {
		return dst, pduError(3, "fifo count", ErrLongFrame, itoa(len(r.Data))+" data bytes is not 0.."+itoa(MaxFIFOCount)+" registers")
	}
	return append(appendU16(append(dst, byte(FuncReadFIFOQueue)), uint16(2+2*n), uint16(n)), r.Data...), nil
}

// Registers returns the queued values as a new slice.
func (r *FIFOResponse) Registers() []uint16 { return AppendRegisters(nil, r.Data) }

func decodeFIFOResponse(pdu []byte) (*FIFOResponse, error) {
	if len(pdu) < 5 {
		return nil, pduLenError(FuncReadFIFOQueue, len(pdu), "at least 5")
	}
	bc, n := int(u16(pdu, 1)), int(u16(pdu, 3))
	if n > MaxFIFOCount {
		return nil, pduError(3, "fifo count", ErrInconsistent, "fifo count "+itoa(n)+" above "+itoa(MaxFIFOCount))
	}
	if bc != 2+2*n {
		return nil, pduError(1, "byte count", ErrInconsistent, "byte count "+itoa(bc)+" for fifo count "+
			itoa(n)+", want "+itoa(2+2*n))
	}
	if err := pduLenExact(pdu, 3+bc); err != nil {
		return nil, err
	}
	return &FIFOResponse{Data: pdu[5:]}, nil
}
