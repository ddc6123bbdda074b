// Package modbus is the Modbus application protocol codec: function and
// exception codes, the MBAP header, and every public request and response
// PDU usable over TCP, in both directions. It does no I/O beyond reading one
// ADU from an io.Reader, never logs, and never allocates from a count field it
// has not checked against the bytes present.
//
// Encoders append the exact ADU, MBAP header plus PDU and nothing more, to a
// caller's buffer:
//
//	buf := make([]byte, 0, modbus.MaxADULen)
//	req := modbus.NewReadHoldingRegisters(107, 3)
//	if err := req.Validate(); err != nil { // quantity 1..125
//		return err
//	}
//	adu, err := modbus.AppendADU(buf, tid, 1, req)
//
// Decoders take one complete PDU and reject short, long and inconsistent
// input with a *FrameError naming the field and byte offset:
//
//	h, adu, err := modbus.ReadADU(conn, buf)
//	rsp, err := modbus.DecodeResponse(req, adu[modbus.MBAPHeaderLen:])
//	var exc *modbus.ExceptionError
//	if errors.As(err, &exc) { ... } // the device refused: exc.Code
//
// A server decodes with DecodeRequest, then Validate gives the exception
// code the spec's per-function check order asks for (MODBUS-NOTES §2.2);
// address checks need the device's tables and stay with the server. A
// client also calls CheckAddresses, which refuses a range running past
// address 65535, where no device has an item.
//
// Sources: MODBUS Application Protocol Specification V1.1b3 [AP] and MODBUS
// Messaging on TCP/IP Implementation Guide V1.0b [IG].
package modbus
