package simulator

import (
	"errors"
	"slices"

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
	req, oc := s.check(pdu, s.m, nil)
	if req == nil {
		return oc
	}
	return s.execute(s.m, req, nil)
}

// scratch is a connection's room for the request it decodes and the answer
// it builds, so that the common reads (FC 3 and 4) allocate nothing: the
// request and answer live only until the answer ADU is encoded, and no
// observer keeps a read request.
type scratch struct {
	rr   modbus.ReadRegisters
	rsp  modbus.RegistersResponse
	data [2 * modbus.MaxReadRegisters]byte
}

// check decodes and validates a request PDU. It returns the request when it
// may be executed, else the outcome to send instead: a malformed PDU, or an
// exception for an unsupported function or an illegal field value. m is the
// memory of the unit addressed (nil: none), which decides whether FC 17 is
// supported.
func (s *Server) check(pdu []byte, m *Memory, sc *scratch) (modbus.Request, outcome) {
	fc := modbus.FunctionCode(pdu[0])
	if sc != nil && len(pdu) == 5 && (fc == modbus.FuncReadHoldingRegisters || fc == modbus.FuncReadInputRegisters) {
		// What modbus.DecodeRequest does for this PDU, without a new request.
		sc.rr = modbus.ReadRegisters{FC: fc, Address: uint16(pdu[1])<<8 | uint16(pdu[2]),
			Quantity: uint16(pdu[3])<<8 | uint16(pdu[4])}
		if err := sc.rr.Validate(); err != nil {
			var re *modbus.RequestError
			code := modbus.IllegalDataValue
			if errors.As(err, &re) {
				code = re.Code
			}
			return nil, exception(fc, code, err.Error())
		}
		return &sc.rr, outcome{}
	}
	if fc == modbus.FuncReportServerID && (m == nil || m.serverID == nil) {
		// Not supported here: the function code is checked first (01), or
		// a user function serves it, whatever the PDU's structure.
		return s.checkRaw(&modbus.Raw{FC: fc, Data: pdu[1:]})
	}
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
		return s.checkRaw(raw)
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

// checkRaw admits a function the codec has no type for when a user
// function serves it, else answers 01.
func (s *Server) checkRaw(raw *modbus.Raw) (modbus.Request, outcome) {
	if _, ok := s.cfg.UserFunctions[raw.FC]; ok && !raw.FC.IsException() && raw.FC != 0 {
		return raw, outcome{}
	}
	return nil, exception(raw.FC, modbus.IllegalFunction, "function 0x"+hexByte(uint8(raw.FC))+" ("+raw.FC.String()+") not supported")
}

// execute runs a checked request against a unit's memory: address checks
// (02), then the function.
func (s *Server) execute(m *Memory, req modbus.Request, sc *scratch) outcome {
	fc := req.Function()
	switch r := req.(type) {
	case *modbus.Raw:
		return s.userFunction(r)
	case *modbus.ReadBits:
		return readBits(m, r)
	case *modbus.ReadRegisters:
		return readRegisters(m, r, sc)
	case *modbus.WriteSingleCoil:
		return writeSingleCoil(m, r)
	case *modbus.WriteSingleRegister:
		return writeSingleRegister(m, r)
	case *modbus.WriteMultipleCoils:
		return writeMultipleCoils(m, r)
	case *modbus.WriteMultipleRegisters:
		return writeMultipleRegisters(m, r)
	case *modbus.MaskWriteRegister:
		return maskWrite(m, r)
	case *modbus.ReadWriteRegisters:
		return readWriteRegisters(m, r)
	case *modbus.ReadFIFOQueue:
		return readFIFO(m, r)
	case *modbus.ReadFileRecord:
		return readFileRecord(m, r)
	case *modbus.WriteFileRecord:
		return writeFileRecord(m, r)
	case *modbus.ReadDeviceID:
		return readDeviceID(m, r)
	case *modbus.ReportServerID:
		return reportServerID(m)
	}
	return exception(fc, modbus.IllegalFunction, "no handler for "+fc.String())
}

// span returns items addr..addr+n-1 of t, or the 02 answer when they do
// not all exist [AP §7 code 02]. The layout never changes, so no lock is
// needed to find the items; reading or writing them needs the memory's.
func span[T any](t *table[T], fc modbus.FunctionCode, what string, addr uint16, n int) ([]T, outcome, bool) {
	if v := t.span(addr, n); v != nil {
		return v, outcome{}, true
	}
	return nil, exception(fc, modbus.IllegalDataAddress,
		what+"items "+itoa(int(addr))+".."+itoa(int(addr)+n-1)+" outside "+t.describe()), false
}

func readBits(m *Memory, r *modbus.ReadBits) outcome {
	t := &m.coils
	if r.FC == modbus.FuncReadDiscreteInputs {
		t = &m.discrete
	}
	v, oc, ok := span(t, r.FC, "", r.Address, int(r.Quantity))
	if !ok {
		return oc
	}
	m.mu.RLock()
	data := modbus.PackBits(make([]byte, 0, (len(v)+7)/8), v)
	m.mu.RUnlock()
	return outcome{rsp: &modbus.BitsResponse{FC: r.FC, Data: data}}
}

func readRegisters(m *Memory, r *modbus.ReadRegisters, sc *scratch) outcome {
	t := &m.holding
	if r.FC == modbus.FuncReadInputRegisters {
		t = &m.input
	}
	v, oc, ok := span(t, r.FC, "", r.Address, int(r.Quantity))
	if !ok {
		return oc
	}
	if sc != nil { // the connection's room: no allocation
		m.mu.RLock()
		sc.rsp = modbus.RegistersResponse{FC: r.FC, Data: modbus.AppendRegisterBytes(sc.data[:0], v)}
		m.mu.RUnlock()
		return outcome{rsp: &sc.rsp}
	}
	m.mu.RLock()
	data := modbus.AppendRegisterBytes(make([]byte, 0, 2*len(v)), v)
	m.mu.RUnlock()
	return outcome{rsp: &modbus.RegistersResponse{FC: r.FC, Data: data}}
}

func writeSingleCoil(m *Memory, r *modbus.WriteSingleCoil) outcome {
	v, oc, ok := span(&m.coils, modbus.FuncWriteSingleCoil, "", r.Address, 1)
	if !ok {
		return oc
	}
	m.mu.Lock()
	v[0] = r.On()
	m.mu.Unlock()
	return outcome{rsp: r} // echo [AP §6.5]
}

func writeSingleRegister(m *Memory, r *modbus.WriteSingleRegister) outcome {
	v, oc, ok := span(&m.holding, modbus.FuncWriteSingleRegister, "", r.Address, 1)
	if !ok {
		return oc
	}
	m.mu.Lock()
	v[0] = r.Value
	m.mu.Unlock()
	return outcome{rsp: r} // echo [AP §6.6]
}

func writeMultipleCoils(m *Memory, r *modbus.WriteMultipleCoils) outcome {
	v, oc, ok := span(&m.coils, modbus.FuncWriteMultipleCoils, "", r.Address, int(r.Quantity))
	if !ok {
		return oc
	}
	m.mu.Lock()
	copy(v, r.Bits())
	m.mu.Unlock()
	return outcome{rsp: &modbus.WriteMultipleResponse{FC: modbus.FuncWriteMultipleCoils, Address: r.Address, Quantity: r.Quantity}}
}

func writeMultipleRegisters(m *Memory, r *modbus.WriteMultipleRegisters) outcome {
	v, oc, ok := span(&m.holding, modbus.FuncWriteMultipleRegisters, "", r.Address, int(r.Quantity))
	if !ok {
		return oc
	}
	m.mu.Lock()
	modbus.AppendRegisters(v[:0], r.Values) // in place: the range is checked
	m.mu.Unlock()
	return outcome{rsp: &modbus.WriteMultipleResponse{FC: modbus.FuncWriteMultipleRegisters, Address: r.Address, Quantity: r.Quantity}}
}

func maskWrite(m *Memory, r *modbus.MaskWriteRegister) outcome {
	v, oc, ok := span(&m.holding, modbus.FuncMaskWriteRegister, "", r.Address, 1)
	if !ok {
		return oc
	}
	m.mu.Lock()
	v[0] = r.Apply(v[0])
	m.mu.Unlock()
	return outcome{rsp: r} // echo [AP §6.16]
}

// readWriteRegisters writes first, then reads [AP §6.17].
func readWriteRegisters(m *Memory, r *modbus.ReadWriteRegisters) outcome {
	fc := modbus.FuncReadWriteMultipleRegisters
	rv, oc, ok := span(&m.holding, fc, "read ", r.ReadAddress, int(r.ReadQuantity))
	if !ok {
		return oc
	}
	wv, oc, ok := span(&m.holding, fc, "write ", r.WriteAddress, int(r.WriteQuantity))
	if !ok {
		return oc
	}
	m.mu.Lock()
	modbus.AppendRegisters(wv[:0], r.Values)
	data := modbus.AppendRegisterBytes(make([]byte, 0, 2*len(rv)), rv)
	m.mu.Unlock()
	return outcome{rsp: &modbus.RegistersResponse{FC: fc, Data: data}}
}

// readFIFO checks the pointer address (02), then the queue length (03)
// [AP Fig. 28]. A pointer is any holding register address.
func readFIFO(m *Memory, r *modbus.ReadFIFOQueue) outcome {
	fc := modbus.FuncReadFIFOQueue
	if _, oc, ok := span(&m.holding, fc, "", r.Address, 1); !ok {
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
func readFileRecord(m *Memory, r *modbus.ReadFileRecord) outcome {
	fc := modbus.FuncReadFileRecord
	for i, sr := range r.SubRequests {
		if sr.File == 0 {
			return exception(fc, modbus.IllegalDataAddress, "group "+itoa(i+1)+" file number 0")
		}
	}
	rsp := &modbus.ReadFileRecordResponse{SubResponses: make([]modbus.FileRecordData, 0, len(r.SubRequests))}
	regs := make([]uint16, 0, modbus.MaxPDULen/2)
	m.mu.RLock()
	for _, sr := range r.SubRequests {
		regs = slices.Grow(regs[:0], int(sr.Length))[:sr.Length]
		m.files.read(sr.File, sr.Record, regs)
		rsp.SubResponses = append(rsp.SubResponses, modbus.FileRecordData{RefType: modbus.FileRecordRefType,
			Data: modbus.AppendRegisterBytes(make([]byte, 0, 2*len(regs)), regs)})
	}
	m.mu.RUnlock()
	return outcome{rsp: rsp}
}

// writeFileRecord writes every group or none: a write that would take the
// unit's file store past its bound (Config.MaxFileRegisters) is answered 04.
func writeFileRecord(m *Memory, r *modbus.WriteFileRecord) outcome {
	fc := modbus.FuncWriteFileRecord
	for i, rec := range r.Records {
		if rec.File == 0 {
			return exception(fc, modbus.IllegalDataAddress, "group "+itoa(i+1)+" file number 0")
		}
	}
	vals := make([][]uint16, len(r.Records))
	for i, rec := range r.Records {
		vals[i] = modbus.AppendRegisters(nil, rec.Data)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	need, seen := 0, map[uint32]bool{}
	for i, rec := range r.Records {
		need += m.files.newChunks(rec.File, rec.Record, vals[i], seen)
	}
	if !m.files.room(need) {
		return exception(fc, modbus.ServerDeviceFailure, "file record store full: "+itoa(m.files.registers())+
			" registers stored, the bound is "+itoa(m.files.bound())+" (MaxFileRegisters); nothing written")
	}
	for i, rec := range r.Records {
		m.files.write(rec.File, rec.Record, vals[i])
	}
	return outcome{rsp: r} // echo [AP §6.15]
}

// reportServerID answers FC 17 with the unit's configured data [AP §6.13];
// check answered 01 already when the unit has none.
func reportServerID(m *Memory) outcome {
	return outcome{rsp: &modbus.ServerIDResponse{Data: m.serverID}}
}

// readDeviceID follows [AP §6.21]: individual access to a missing object is
// 02; a stream request for an unknown object restarts at 0; a level above the
// device's is answered at the device's level; objects never split.
func readDeviceID(m *Memory, r *modbus.ReadDeviceID) outcome {
	id := m.identity
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
