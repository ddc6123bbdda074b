package modbus

// File record limits [AP §6.14, §6.15].
const (
	FileRecordRefType = 6
	MaxFileRecord     = 0x270F
	fileSubReqLen     = 7 // reference type, file, record, length
	minReadFileBC     = 0x07
	maxReadFileBC     = 0xF5
	minWriteFileBC    = 0x09
	maxWriteFileBC    = 0xFB
)

// FileSubRequest is one group of a Read File Record request: Length
// registers starting at Record in file File.
type FileSubRequest struct {
	RefType uint8 // always 6
	File    uint16
	Record  uint16
	Length  uint16
}

// ReadFileRecord is FC 20 [AP §6.14].
type ReadFileRecord struct {
	SubRequests []FileSubRequest
}

// Function returns the function code of the ReadFileRecord.
func (r *ReadFileRecord) Function() FunctionCode { return FuncReadFileRecord }

// AppendPDU appends the ReadFileRecord PDU, function code first, to dst.
func (r *ReadFileRecord) AppendPDU(dst []byte) ([]byte, error) {
	bc := fileSubReqLen * len(r.SubRequests)
	if bc > 255 {
		return dst, pduError(1, "byte count", ErrLongFrame, itoa(len(r.SubRequests))+" sub-requests do not fit a byte count")
	}
	dst = append(dst, byte(FuncReadFileRecord), byte(bc))
	for _, s := range r.SubRequests {
		dst = appendU16(append(dst, s.RefType), s.File, s.Record, s.Length)
	}
	return dst, nil
}

// Validate checks the byte count (0x07..0xF5), then per group the reference
// type (6), record number (0..0x270F) and record+length, which the spec puts
// under exception 02 [AP Fig. 24], and that the answer fits one PDU (03).
func (r *ReadFileRecord) Validate() error {
	fc := FuncReadFileRecord
	bc := fileSubReqLen * len(r.SubRequests)
	if bc < minReadFileBC || bc > maxReadFileBC {
		return valueError(fc, "byte count", itoa(bc)+" out of range 7..245")
	}
	rsp := 2
	for i, s := range r.SubRequests {
		if err := checkFileRef(fc, i, s.RefType, s.Record, s.Length); err != nil {
			return err
		}
		rsp += 2 + 2*int(s.Length)
	}
	if rsp > MaxPDULen {
		return valueError(fc, "lengths", "ask for a "+itoa(rsp)+"-byte response, more than "+itoa(MaxPDULen))
	}
	return nil
}

func checkFileRef(fc FunctionCode, i int, ref uint8, record, length uint16) error {
	group := "group " + itoa(i+1) + " "
	switch {
	case ref != FileRecordRefType:
		return &RequestError{Function: fc, Field: group + "reference type", Reason: itoa(int(ref)) + ", want 6", Code: IllegalDataAddress}
	case length == 0:
		return valueError(fc, group+"record length", "0, want at least 1")
	case int(record)+int(length)-1 > MaxFileRecord:
		return &RequestError{Function: fc, Field: group + "records", Reason: itoa(int(record)) + "+" + itoa(int(length)) +
			" past the last record 9999", Code: IllegalDataAddress}
	}
	return nil
}

func decodeReadFileRecord(pdu []byte) (Request, error) {
	fc := FuncReadFileRecord
	if len(pdu) < 2 {
		return nil, pduLenError(fc, len(pdu), "at least 2")
	}
	bc := int(pdu[1])
	if err := pduLenCount(pdu, 2, 1); err != nil {
		return nil, err
	}
	if bc < minReadFileBC || bc > maxReadFileBC || bc%fileSubReqLen != 0 {
		return nil, valueError(fc, "byte count", itoa(bc)+" is not a multiple of 7 in 7..245")
	}
	r := &ReadFileRecord{SubRequests: make([]FileSubRequest, 0, bc/fileSubReqLen)}
	for off := 2; off < len(pdu); off += fileSubReqLen {
		r.SubRequests = append(r.SubRequests, FileSubRequest{RefType: pdu[off],
			File: u16(pdu, off+1), Record: u16(pdu, off+3), Length: u16(pdu, off+5)})
	}
	return r, nil
}

func (r *ReadFileRecord) decodeResponse(pdu []byte) (PDU, error) {
	fc := FuncReadFileRecord
	if len(pdu) < 2 {
		return nil, pduLenError(fc, len(pdu), "at least 2")
	}
	if err := pduLenCount(pdu, 2, 1); err != nil {
		return nil, err
	}
	rsp := &ReadFileRecordResponse{SubResponses: make([]FileRecordData, 0, len(r.SubRequests))}
	off := 2
	for i, s := range r.SubRequests {
		if off+2 > len(pdu) {
			return nil, pduError(off, "sub-response", ErrShortFrame, "response ends before group "+itoa(i+1))
		}
		n := int(pdu[off])
		if n != 1+2*int(s.Length) {
			return nil, pduError(off, "sub-response length", ErrInconsistent, "group "+itoa(i+1)+" length "+
				itoa(n)+", want "+itoa(1+2*int(s.Length)))
		}
		if off+1+n > len(pdu) {
			return nil, pduError(off, "sub-response length", ErrShortFrame, "group "+itoa(i+1)+" runs past the pdu")
		}
		if ref := pdu[off+1]; ref != FileRecordRefType {
			return nil, pduError(off+1, "reference type", ErrInconsistent, "group "+itoa(i+1)+" reference type "+
				itoa(int(ref))+", want 6")
		}
		rsp.SubResponses = append(rsp.SubResponses, FileRecordData{RefType: pdu[off+1], Data: pdu[off+2 : off+1+n]})
		off += 1 + n
	}
	if off != len(pdu) {
		return nil, pduError(off, "response data length", ErrLongFrame, itoa(len(pdu)-off)+" bytes after the last group")
	}
	return rsp, nil
}

// FileRecordData is one group of a Read File Record response.
type FileRecordData struct {
	RefType uint8
	Data    []byte // 2 bytes per record register
}

// ReadFileRecordResponse answers FC 20.
type ReadFileRecordResponse struct {
	SubResponses []FileRecordData
}

// Function returns the function code of the ReadFileRecordResponse.
func (r *ReadFileRecordResponse) Function() FunctionCode { return FuncReadFileRecord }

// AppendPDU appends the ReadFileRecordResponse PDU, function code first, to dst.
func (r *ReadFileRecordResponse) AppendPDU(dst []byte) ([]byte, error) {
	n := 0
	for _, s := range r.SubResponses {
		n += 2 + len(s.Data)
	}
	if n > 255 {
		return dst, pduError(1, "response data length", ErrLongFrame, itoa(n)+" bytes do not fit a length byte")
	}
	dst = append(dst, byte(FuncReadFileRecord), byte(n))
	for _, s := range r.SubResponses {
		dst = append(append(dst, byte(1+len(s.Data)), s.RefType), s.Data...)
	}
	return dst, nil
}

// FileRecord is one group of a Write File Record request: len(Data)/2
// registers starting at Record in file File.
type FileRecord struct {
	RefType uint8 // always 6
	File    uint16
	Record  uint16
	Data    []byte // 2 bytes per register
}

// WriteFileRecord is FC 21 [AP §6.15]; its normal response is an echo.
type WriteFileRecord struct {
	Records []FileRecord
}

// Function returns the function code of the WriteFileRecord.
func (r *WriteFileRecord) Function() FunctionCode { return FuncWriteFileRecord }

// AppendPDU appends the WriteFileRecord PDU, function code first, to dst.
func (r *WriteFileRecord) AppendPDU(dst []byte) ([]byte, error) {
	n := 0
	for _, s := range r.Records {
		n += fileSubReqLen + len(s.Data)
	}
	if n > 255 {
		return dst, pduError(1, "request data length", ErrLongFrame, itoa(n)+" bytes do not fit a length byte")
	}
	dst = append(dst, byte(FuncWriteFileRecord), byte(n))
	for _, s := range r.Records {
		dst = appendU16(append(dst, s.RefType), s.File, s.Record, uint16(len(s.Data)/2))
		dst = append(dst, s.Data...)
	}
	return dst, nil
}

// Validate checks the data length (0x09..0xFB) and each group as FC 20 does
// [AP §6.15, Fig. 25].
func (r *WriteFileRecord) Validate() error {
	fc := FuncWriteFileRecord
	n := 0
	for i, s := range r.Records {
		if len(s.Data)%2 != 0 {
			return valueError(fc, "group "+itoa(i+1)+" data", itoa(len(s.Data))+" bytes is not whole registers")
		}
		n += fileSubReqLen + len(s.Data)
	}
	if n < minWriteFileBC || n > maxWriteFileBC {
		return valueError(fc, "request data length", itoa(n)+" out of range 9..251")
	}
	for i, s := range r.Records {
		if err := checkFileRef(fc, i, s.RefType, s.Record, uint16(len(s.Data)/2)); err != nil {
			return err
		}
	}
	return nil
}

func decodeWriteFileRecord(pdu []byte) (Request, error) {
	fc := FuncWriteFileRecord
	if len(pdu) < 2 {
		return nil, pduLenError(fc, len(pdu), "at least 2")
	}
	if err := pduLenCount(pdu, 2, 1); err != nil {
		return nil, err
	}
	r := &WriteFileRecord{}
	for off := 2; off < len(pdu); {
		if off+fileSubReqLen > len(pdu) {
			return nil, valueError(fc, "group "+itoa(len(r.Records)+1), "header cut at pdu byte "+itoa(len(pdu)))
		}
		end := off + fileSubReqLen + 2*int(u16(pdu, off+5))
		if end > len(pdu) {
			return nil, valueError(fc, "group "+itoa(len(r.Records)+1)+" record length",
				itoa(int(u16(pdu, off+5)))+" at pdu byte "+itoa(off+5)+" runs past the request data")
		}
		r.Records = append(r.Records, FileRecord{RefType: pdu[off], File: u16(pdu, off+1),
			Record: u16(pdu, off+3), Data: pdu[off+fileSubReqLen : end]})
		off = end
	}
	return r, nil
}

func (r *WriteFileRecord) decodeResponse(pdu []byte) (PDU, error) {
	want, err := r.AppendPDU(nil)
	if err != nil {
		return nil, err
	}
	if len(pdu) != len(want) {
		return nil, pduLenExact(pdu, len(want))
	}
	for i := range want {
		if pdu[i] != want[i] {
			return nil, pduError(i, "echo", ErrInconsistent, "write file record response differs from the request")
		}
	}
	got, err := decodeWriteFileRecord(pdu)
	if err != nil {
		return nil, err
	}
	return got.(*WriteFileRecord), nil
}
