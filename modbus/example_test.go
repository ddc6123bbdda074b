package modbus_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/plcctl/plcctl/modbus"
)

// A client validates a request, encodes the exact ADU, and decodes the
// answer against the request it sent.
func Example() {
	req := modbus.NewReadHoldingRegisters(107, 3)
	if err := req.Validate(); err != nil {
		log.Fatal(err)
	}
	if err := modbus.CheckAddresses(req); err != nil {
		log.Fatal(err)
	}
	adu, err := modbus.AppendADU(make([]byte, 0, modbus.MaxADULen), 1, 17, req)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("request  % X\n", adu)

	answer := []byte{0x00, 0x01, 0x00, 0x00, 0x00, 0x09, 0x11, 0x03, 0x06, 0x02, 0x2B, 0x00, 0x00, 0x00, 0x64}
	h, pdu, err := modbus.DecodeADU(answer)
	if err != nil {
		log.Fatal(err)
	}
	rsp, err := modbus.DecodeResponse(req, pdu)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("tid", h.TID, "unit", h.UnitID, "registers", rsp.(*modbus.RegistersResponse).Registers())
	// Output:
	// request  00 01 00 00 00 06 11 03 00 6B 00 03
	// tid 1 unit 17 registers [555 0 100]
}

// Limits are refused before anything is encoded, with the exception code
// a server would answer.
func ExampleRequest_validate() {
	for _, req := range []modbus.Request{
		modbus.NewReadHoldingRegisters(0, 126),
		modbus.NewReadCoils(0, 0),
		modbus.NewReadHoldingRegisters(65535, 2),
	} {
		err := req.Validate()
		if err == nil {
			err = modbus.CheckAddresses(req)
		}
		var re *modbus.RequestError
		fmt.Println(errors.As(err, &re), re.Code.String(), "-", err)
	}
	// Output:
	// true 03 illegal data value - modbus: read holding registers: quantity 126 out of range 1..125
	// true 03 illegal data value - modbus: read coils: quantity 0 out of range 1..2000
	// true 02 illegal data address - modbus: read holding registers: address range 65535+2 runs past address 65535
}

// An exception answer is an error: errors.Is matches its code, errors.As
// gives the function and the code.
func ExampleExceptionError() {
	req := modbus.NewReadHoldingRegisters(9999, 2)
	_, err := modbus.DecodeResponse(req, []byte{0x83, 0x02})
	var exc *modbus.ExceptionError
	fmt.Println(errors.Is(err, modbus.IllegalDataAddress), errors.As(err, &exc) && exc.Function == modbus.FuncReadHoldingRegisters)
	fmt.Println(err)
	// Output:
	// true true
	// modbus: exception 02 illegal data address for read holding registers
}
