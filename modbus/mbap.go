package modbus

import (
	"encoding/binary"
	"errors"
	"io"
)

// Size limits [AP §4.1], [IG §3.1.3].
const (
	MBAPHeaderLen = 7   // transaction id, protocol id, length, unit id
	MaxPDULen     = 253 // inherited from the 256-byte serial ADU
	MaxADULen     = MBAPHeaderLen + MaxPDULen
	MinMBAPLength = 2 // unit id + function code
	MaxMBAPLength = 1 + MaxPDULen
	DefaultPort   = 502
	SecurePort    = 802  // Modbus/TCP Security (TLS)
	UnitIDNotUsed = 0xFF // unit id for a device directly on TCP [IG §4.4.1.2]
)

// Header is the MBAP header [IG §3.1.3]. Length counts the unit id and the PDU.
type Header struct {
	TID      uint16
	Protocol uint16
	Length   uint16
	UnitID   uint8
}

// PDU is anything that can write itself as a protocol data unit: requests,
// responses and *ExceptionError.
type PDU interface {
	Function() FunctionCode
	// AppendPDU appends the PDU bytes to dst exactly as the fields say. It
	// fails only when the fields cannot be encoded at all (a slice longer than
	// its count field can express, or a PDU over 253 bytes).
	AppendPDU(dst []byte) ([]byte, error)
}

// AppendHeader appends the 7-byte MBAP header.
func AppendHeader(dst []byte, h Header) []byte {
	return append(dst, byte(h.TID>>8), byte(h.TID), byte(h.Protocol>>8), byte(h.Protocol),
		byte(h.Length>>8), byte(h.Length), h.UnitID)
}

// AppendADU appends one complete ADU, MBAP header plus PDU and nothing more.
// The header's Length is computed and its Protocol is 0 (Modbus). On error dst
// is returned unchanged. With a dst of capacity MaxADULen it does not allocate.
func AppendADU(dst []byte, tid uint16, unit uint8, p PDU) ([]byte, error) {
	start := len(dst)
	dst = AppendHeader(dst, Header{TID: tid, UnitID: unit})
	dst, err := p.AppendPDU(dst)
	if err != nil {
		return dst[:start], err
	}
	n := len(dst) - start - MBAPHeaderLen
	switch {
	case n < 1:
		return dst[:start], pduError(0, "function code", ErrShortFrame, "empty pdu")
	case n > MaxPDULen:
		return dst[:start], pduError(MaxPDULen, "pdu length", ErrLongFrame,
			p.Function().String()+" pdu is "+itoa(n)+" bytes, more than "+itoa(MaxPDULen))
	}
	binary.BigEndian.PutUint16(dst[start+4:], uint16(n+1))
	return dst, nil
}

// DecodeHeader decodes and checks the first 7 bytes of an ADU: the length
// field must be 2..254. The protocol id is returned, not checked: a server
// discards a frame with a foreign protocol id but keeps the connection
// [IG §4.4.2.2], a client reports it.
func DecodeHeader(b []byte) (Header, error) {
	if len(b) < MBAPHeaderLen {
		return Header{}, &FrameError{Where: "adu", Offset: len(b), Field: "mbap header",
			Reason: "have " + itoa(len(b)) + " of 7 header bytes", Err: ErrShortFrame}
	}
	h := Header{
		TID:      binary.BigEndian.Uint16(b[0:]),
		Protocol: binary.BigEndian.Uint16(b[2:]),
		Length:   binary.BigEndian.Uint16(b[4:]),
		UnitID:   b[6],
	}
	if h.Length < MinMBAPLength || h.Length > MaxMBAPLength {
		return h, &FrameError{Where: "adu", Offset: 4, Field: "length",
			Reason: "length " + itoa(int(h.Length)) + " outside 2..254", Err: ErrBadLength}
	}
	return h, nil
}

// DecodeADU splits one complete ADU into header and PDU. The length field must
// match the bytes present exactly. The PDU aliases b.
func DecodeADU(b []byte) (Header, []byte, error) {
	h, err := DecodeHeader(b)
	if err != nil {
		return h, nil, err
	}
	want := MBAPHeaderLen - 1 + int(h.Length)
	switch {
	case len(b) < want:
		return h, nil, &FrameError{Where: "adu", Offset: len(b), Field: "length",
			Reason: "length " + itoa(int(h.Length)) + " announces " + itoa(want) + " bytes, have " + itoa(len(b)), Err: ErrShortFrame}
	case len(b) > want:
		return h, nil, &FrameError{Where: "adu", Offset: want, Field: "length",
			Reason: "length " + itoa(int(h.Length)) + " announces " + itoa(want) + " bytes, have " + itoa(len(b)), Err: ErrLongFrame}
	}
	return h, b[MBAPHeaderLen:], nil
}

// ReadADU reads exactly one ADU from a stream: the 7-byte header, a check of
// its length field, then exactly Length-1 more bytes [IG §3.1.2]. Split and
// coalesced segments are normal; bytes after the ADU stay in r.
//
// buf must have room for MaxADULen bytes (a smaller one is replaced); the
// returned ADU aliases it. A stream that ends before the first byte returns
// io.EOF; one that ends or fails inside a frame returns a *FrameError that
// wraps io.ErrUnexpectedEOF or the read error (so a deadline still matches
// os.ErrDeadlineExceeded). A length outside 2..254 returns a *FrameError
// wrapping ErrBadLength, and the stream cannot be trusted after it.
func ReadADU(r io.Reader, buf []byte) (Header, []byte, error) {
	if cap(buf) < MaxADULen {
		buf = make([]byte, MaxADULen)
	}
	buf = buf[:MaxADULen]
	n, err := io.ReadFull(r, buf[:MBAPHeaderLen])
	if err != nil {
		if n == 0 {
			return Header{}, nil, err
		}
		return Header{}, nil, cutShort(n, "mbap header", itoa(n)+" of 7 header bytes", err)
	}
	h, err := DecodeHeader(buf[:MBAPHeaderLen])
	if err != nil {
		return h, buf[:MBAPHeaderLen], err
	}
	total := MBAPHeaderLen - 1 + int(h.Length)
	m, err := io.ReadFull(r, buf[MBAPHeaderLen:total])
	if err != nil {
		got := MBAPHeaderLen + m
		return h, buf[:got], cutShort(got, "pdu",
			itoa(got)+" of "+itoa(total)+" bytes announced by length "+itoa(int(h.Length)), err)
	}
	return h, buf[:total], nil
}

// cutShort reports a frame cut at offset: by the end of the stream, or by a
// read error (a deadline, a reset) that the *FrameError wraps.
func cutShort(offset int, field, have string, err error) *FrameError {
	what := "read failed after "
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		what = "stream ended after "
	}
	return &FrameError{Where: "adu", Offset: offset, Field: field, Reason: what + have, Err: err}
}
