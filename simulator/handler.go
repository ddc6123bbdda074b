package simulator

import (
	"errors"

	"github.com/plcctl/plcctl/modbus"
)

// outcome is the server's verdict on one request PDU.
type outcome struct {
	rsp       modbus.PDU // response to send (normal or exception); nil = none
	malformed error      // structurally malformed PDU (*modbus.FrameError)
	reason    string     // why an exception was chosen, for the log
}

func exception(fc modbus.FunctionCode, code modbus.ExceptionCode, reason string) outcome {
	return outcome{rsp: modbus.NewException(fc, code), reason: reason}
}

// handle decodes and executes one request PDU in the spec's check order:
// function code (01), PDU structure (malformed), field values (03, from
// Validate), then addresses (02) and execution.
func (s *Server) handle(pdu []byte) outcome {
	req, oc := s.check(pdu)
	if req == nil {
		return oc
	}
	return s.execute(req)
}

// check decodes and validates a request PDU. It returns the request when it
// may be executed, else the outcome to send instead: a malformed PDU, or an
// exception for an unsupported function or an illegal field value.
func (s *Server) check(pdu []byte) (modbus.Request, outcome) {
	fc := modbus.FunctionCode(pdu[0])
	req, err := modbus.DecodeRequest(pdu)
	var fe *modbus.FrameError
	var re *modbus.RequestError
	switch {
	case errors.As(err, &fe):
		return nil, outcome{malformed: err}
	case errors.As(err, &re):
		return nil, exception(fc, re.Code, re.Error())
	case err != nil:
		return nil, exception(fc, modbus.ServerDeviceFailure, err.Error())
	}
	if raw, ok := req.(*modbus.Raw); ok {
		if _, ok := s.cfg.UserFunctions[raw.FC]; ok && !raw.FC.IsException() && raw.FC != 0 {
			return raw, outcome{}
		}
		return nil, exception(fc, modbus.IllegalFunction, "function 0x"+hexByte(uint8(raw.FC))+" ("+raw.FC.String()+") not supported")
	}
	if err := req.Validate(); err != nil {
		code := modbus.IllegalDataValue
		if errors.As(err, &re) {
			code = re.Code
		}
		return nil, exception(fc, code, err.Error())
	}
	return req, outcome{}
}

// execute runs a checked request against the data model: address checks
// (02), then the function.
func (s *Server) execute(req modbus.Request) outcome {
	fc := req.Function()
	switch r := req.(type) {
	case *modbus.Raw:
		return s.userFunction(r)
	case *modbus.ReadBits:
		return s.readBits(r)
	case *modbus.ReadRegisters:
		return s.readRegisters(r)
	case *modbus.WriteSingleCoil:
		return s.writeSingleCoil(r)
	case *modbus.WriteSingleRegister:
		return s.writeSingleRegister(r)
	case *modbus.WriteMultipleCoils:
		return s.writeMultipleCoils(r)
	case *modbus.WriteMultipleRegisters:
		return s.writeMultipleRegisters(r)
	case *modbus.MaskWriteRegister:
		return s.maskWrite(r)
	case *modbus.ReadWriteRegisters:
		return s.readWriteRegisters(r)
	case *modbus.ReadFIFOQueue:
		return s.readFIFO(r)
	case *modbus.ReadFileRecord:
		return s.readFileRecord(r)
	case *modbus.WriteFileRecord:
		return s.writeFileRecord(r)
	case *modbus.ReadDeviceID:
		return s.readDeviceID(r)
	}
	return exception(fc, modbus.IllegalFunction, "no handler for "+fc.String())
}

// outOfRange returns the 02 answer, and true, when items addr..addr+n-1 do
// not all exist in a table of size items [AP §7 code 02].
func outOfRange(fc modbus.FunctionCode, what string, size int, addr uint16, n int) (outcome, bool) {
	if modbus.InRange(size, addr, n) {
		return outcome{}, false
	}
	return exception(fc, modbus.IllegalDataAddress,
		what+"items "+itoa(int(addr))+".."+itoa(int(addr)+n-1)+" outside table of "+itoa(size)), true
}

func (s *Server) readBits(r *modbus.ReadBits) outcome {
	m := s.m
	t := m.coils
	if r.FC == modbus.FuncReadDiscreteInputs {
		t = m.discrete
	}
	if oc, bad := outOfRange(r.FC, "", len(t), r.Address, int(r.Quantity)); bad {
		return oc
	}
	m.mu.RLock()
	data := modbus.PackBits(make([]byte, 0, (int(r.Quantity)+7)/8), t[r.Address:int(r.Address)+int(r.Quantity)])
	m.mu.RUnlock()
	return outcome{rsp: &modbus.BitsResponse{FC: r.FC, Data: data}}
}

func (s *Server) readRegisters(r *modbus.ReadRegisters) outcome {
	m := s.m
	t := m.holding
	if r.FC == modbus.FuncReadInputRegisters {
		t = m.input
	}
	if oc, bad := outOfRange(r.FC, "", len(t), r.Address, int(r.Quantity)); bad {
		return oc
	}
	m.mu.RLock()
	data := modbus.AppendRegisterBytes(make([]byte, 0, 2*int(r.Quantity)), t[r.Address:int(r.Address)+int(r.Quantity)])
	m.mu.RUnlock()
	return outcome{rsp: &modbus.RegistersResponse{FC: r.FC, Data: data}}
}

func (s *Server) writeSingleCoil(r *modbus.WriteSingleCoil) outcome {
	m := s.m
	if oc, bad := outOfRange(modbus.FuncWriteSingleCoil, "", len(m.coils), r.Address, 1); bad {
		return oc
	}
	m.mu.Lock()
	m.coils[r.Address] = r.On()
	m.mu.Unlock()
	return outcome{rsp: r} // echo [AP §6.5]
}

func (s *Server) writeSingleRegister(r *modbus.WriteSingleRegister) outcome {
	m := s.m
	if oc, bad := outOfRange(modbus.FuncWriteSingleRegister, "", len(m.holding), r.Address, 1); bad {
		return oc
	}
	m.mu.Lock()
	m.holding[r.Address] = r.Value
	m.mu.Unlock()
	return outcome{rsp: r} // echo [AP §6.6]
}

func (s *Server) writeMultipleCoils(r *modbus.WriteMultipleCoils) outcome {
	m := s.m
	n := int(r.Quantity)
	if oc, bad := outOfRange(modbus.FuncWriteMultipleCoils, "", len(m.coils), r.Address, n); bad {
		return oc
	}
	m.mu.Lock()
	copy(m.coils[r.Address:], r.Bits())
	m.mu.Unlock()
	return outcome{rsp: &modbus.WriteMultipleResponse{FC: modbus.FuncWriteMultipleCoils, Address: r.Address, Quantity: r.Quantity}}
}

func (s *Server) writeMultipleRegisters(r *modbus.WriteMultipleRegisters) outcome {
	m := s.m
	n := int(r.Quantity)
	if oc, bad := outOfRange(modbus.FuncWriteMultipleRegisters, "", len(m.holding), r.Address, n); bad {
		return oc
	}
	m.mu.Lock()
	modbus.AppendRegisters(m.holding[r.Address:r.Address], r.Values) // in place: the range is checked
	m.mu.Unlock()
	return outcome{rsp: &modbus.WriteMultipleResponse{FC: modbus.FuncWriteMultipleRegisters, Address: r.Address, Quantity: r.Quantity}}
}

func (s *Server) maskWrite(r *modbus.MaskWriteRegister) outcome {
	m := s.m
	if oc, bad := outOfRange(modbus.FuncMaskWriteRegister, "", len(m.holding), r.Address, 1); bad {
		return oc
	}
	m.mu.Lock()
	m.holding[r.Address] = r.Apply(m.holding[r.Address])
	m.mu.Unlock()
	return outcome{rsp: r} // echo [AP §6.16]
}

// readWriteRegisters writes first, then reads [AP §6.17].
func (s *Server) readWriteRegisters(r *modbus.ReadWriteRegisters) outcome {
	m := s.m
	fc := modbus.FuncReadWriteMultipleRegisters
	if oc, bad := outOfRange(fc, "read ", len(m.holding), r.ReadAddress, int(r.ReadQuantity)); bad {
		return oc
	}
	if oc, bad := outOfRange(fc, "write ", len(m.holding), r.WriteAddress, int(r.WriteQuantity)); bad {
		return oc
	}
	m.mu.Lock()
	modbus.AppendRegisters(m.holding[r.WriteAddress:r.WriteAddress], r.Values)
	data := modbus.AppendRegisterBytes(make([]byte, 0, 2*int(r.ReadQuantity)),
		m.holding[r.ReadAddress:int(r.ReadAddress)+int(r.ReadQuantity)])
	m.mu.Unlock()
	return outcome{rsp: &modbus.RegistersResponse{FC: fc, Data: data}}
}

// readFIFO checks the pointer address (02), then the queue length (03)
// [AP Fig. 28]. A pointer is any holding register address.
func (s *Server) readFIFO(r *modbus.ReadFIFOQueue) outcome {
	m := s.m
	fc := modbus.FuncReadFIFOQueue
	if oc, bad := outOfRange(fc, "", len(m.holding), r.Address, 1); bad {
		return oc
	}
	m.mu.RLock()
	q := m.fifo[r.Address]
	data := modbus.AppendRegisterBytes(nil, q)
	m.mu.RUnlock()
	if len(q) > modbus.MaxFIFOCount {
		return exception(fc, modbus.IllegalDataValue, "fifo at "+itoa(int(r.Address))+" holds "+itoa(len(q))+" values, more than 31")
	}
	return outcome{rsp: &modbus.FIFOResponse{Data: data}}
}

// File numbers 1..65535 exist; records 0..9999 (checked by Validate).
func (s *Server) readFileRecord(r *modbus.ReadFileRecord) outcome {
	m := s.m
	fc := modbus.FuncReadFileRecord
	for i, sr := range r.SubRequests {
		if sr.File == 0 {
			return exception(fc, modbus.IllegalDataAddress, "group "+itoa(i+1)+" file number 0")
		}
	}
	rsp := &modbus.ReadFileRecordResponse{}
	m.mu.RLock()
	for _, sr := range r.SubRequests {
		var data []byte
		if f, ok := m.files[sr.File]; ok {
			data = modbus.AppendRegisterBytes(nil, f[sr.Record:int(sr.Record)+int(sr.Length)])
		} else {
			data = make([]byte, 2*int(sr.Length))
		}
		rsp.SubResponses = append(rsp.SubResponses, modbus.FileRecordData{RefType: modbus.FileRecordRefType, Data: data})
	}
	m.mu.RUnlock()
	return outcome{rsp: rsp}
}

func (s *Server) writeFileRecord(r *modbus.WriteFileRecord) outcome {
	m := s.m
	fc := modbus.FuncWriteFileRecord
	for i, rec := range r.Records {
		if rec.File == 0 {
			return exception(fc, modbus.IllegalDataAddress, "group "+itoa(i+1)+" file number 0")
		}
	}
	m.mu.Lock()
	for _, rec := range r.Records {
		modbus.AppendRegisters(m.file(rec.File)[rec.Record:rec.Record], rec.Data) // in place: records checked by Validate
	}
	m.mu.Unlock()
	return outcome{rsp: r} // echo [AP §6.15]
}

// readDeviceID follows [AP §6.21]: individual access to a missing object is
// 02; a stream request for an unknown object restarts at 0; a level above the
// device's is answered at the device's level; objects never split.
func (s *Server) readDeviceID(r *modbus.ReadDeviceID) outcome {
	id := s.m.identity
	fc := modbus.FuncEncapsulatedInterface
	conf := id.conformity()
	rsp := &modbus.DeviceIDResponse{Code: r.Code, Conformity: conf}
	if r.Code == modbus.DeviceIDIndividual {
		v, ok := id.Objects[r.ObjectID]
		if !ok {
			return exception(fc, modbus.IllegalDataAddress, "no device identification object 0x"+hexByte(r.ObjectID))
		}
		rsp.Objects = []modbus.DeviceObject{{ID: r.ObjectID, Value: []byte(v)}}
		return outcome{rsp: rsp}
	}
	ids := id.ids(min(r.Code, conf&0x7F))
	start := 0
	for i, k := range ids {
		if k == r.ObjectID {
			start = i
		}
	}
	size := 7 // 2B 0E code conformity more next count
	for _, k := range ids[start:] {
		v := id.Objects[k]
		if size+2+len(v) > modbus.MaxPDULen && len(rsp.Objects) > 0 {
			rsp.MoreFollows, rsp.NextObjectID = true, k
			break
		}
		size += 2 + len(v)
		rsp.Objects = append(rsp.Objects, modbus.DeviceObject{ID: k, Value: []byte(v)})
	}
	return outcome{rsp: rsp}
}

func hexByte(b uint8) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[b>>4], digits[b&0x0F]})
}

// userFunction runs a Config.UserFunctions handler.
func (s *Server) userFunction(r *modbus.Raw) outcome {
	data, code := s.cfg.UserFunctions[r.FC](append([]byte(nil), r.Data...))
	if code != 0 {
		return exception(r.FC, code, "user function 0x"+hexByte(uint8(r.FC))+" refused")
	}
	if 1+len(data) > modbus.MaxPDULen {
		return exception(r.FC, modbus.ServerDeviceFailure, "user function 0x"+hexByte(uint8(r.FC))+" answered "+itoa(len(data))+" bytes, more than 252")
	}
	return outcome{rsp: &modbus.Raw{FC: r.FC, Data: data}}
}
