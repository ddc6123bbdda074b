// Package plc is the API people call to talk to a PLC over Modbus TCP: a
// Client with context-first methods for every public function code,
// returning Go values ([]bool, []uint16) rather than bytes, over one
// persistent connection that recovers by itself (package transport).
//
//	c, err := plc.Dial(ctx, "127.0.0.1:502", plc.Options{UnitID: 1})
//	if err != nil {
//		return err
//	}
//	defer c.Close()
//	regs, err := c.ReadHoldingRegisters(ctx, 100, 300) // three requests: 125+125+50
//	if errors.Is(err, modbus.IllegalDataAddress) {
//		// the device has no register in that range
//	}
//	f, err := plc.Decode(plc.Float32, plc.CDAB, regs[:2]) // typed values, any word order
//
// Addresses are 0-based PDU addresses, as on the wire [AP §4.4]. Ranges
// larger than one request allows (2000 bits and 125 registers read, 1968
// bits and 123 registers written) are split into several requests; reads
// run concurrently when Options.MaxInFlight > 1, writes go one after the
// other and a failure says how much was written before it. A split range is
// not read or written atomically.
//
// Every Client method's error wraps the transport's *transport.OpError, so
// errors.Is(err, context.DeadlineExceeded), errors.Is(err,
// modbus.ServerDeviceBusy) and errors.As into a *modbus.ExceptionError work
// through it, and OpError.Sent says whether the failed request reached the
// wire. Errors the Client finds itself are OpErrors too: an argument refused
// before anything is sent (Sent false, wrapping a *modbus.RequestError or
// saying what was wrong), a ctx that ended between the requests of a split
// range (Sent false; the error names the first part not started). A split read whose every request succeeded
// succeeds, even if its ctx ends right after. WithUnit gives Clients for other unit ids on the same
// connection (a gateway), and Goburrow gives a value that satisfies
// github.com/goburrow/modbus's Client interface.
package plc
