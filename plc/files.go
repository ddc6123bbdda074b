package plc

import (
	"context"
	"fmt"

	"github.com/plcctl/plcctl/modbus"
)

// ReadFIFOQueue reads the FIFO queue whose pointer register is addr (FC 24)
// [AP §6.18]: up to 31 values, oldest first; the device does not clear it.
func (c *Client) ReadFIFOQueue(ctx context.Context, addr uint16) ([]uint16, error) {
	rsp, err := c.Do(ctx, &modbus.ReadFIFOQueue{Address: addr})
	if err != nil {
		return nil, fmt.Errorf("plc: fifo queue %d: %w", addr, err)
	}
	r, err := as[*modbus.FIFOResponse](rsp)
	if err != nil {
		return nil, err
	}
	return r.Registers(), nil
}

// Limits of one file record request [AP §6.14, §6.15].
const (
	maxReadGroups    = 35  // 7 bytes per group, byte count at most 0xF5
	maxReadAnswer    = 251 // 253 minus function code and response length
	maxWriteFileData = 251 // 0xFB
)

// ReadFileRecords reads each group (Length registers from Record in File)
// (FC 20) [AP §6.14] and returns their values in order. A RefType of 0
// means 6, the only one the spec defines. Groups that do not fit one
// request, or whose answer would not fit one response, are spread over
// several requests sent one after the other.
func (c *Client) ReadFileRecords(ctx context.Context, reqs []modbus.FileSubRequest) ([][]uint16, error) {
	if len(reqs) == 0 {
		return nil, fmt.Errorf("plc: read file records: %w", c.refuse(modbus.FuncReadFileRecord, false,
			&modbus.RequestError{Function: modbus.FuncReadFileRecord, Field: "groups", Reason: "none given",
				Code: modbus.IllegalDataValue}))
	}
	out := make([][]uint16, 0, len(reqs))
	for start := 0; start < len(reqs); {
		end, answer := start, 0
		for end < len(reqs) && end-start < maxReadGroups {
			size := 2 + 2*int(reqs[end].Length)
			if end > start && answer+size > maxReadAnswer {
				break
			}
			answer += size
			end++
		}
		regs, err := c.readFileBatch(ctx, reqs[start:end])
		if err != nil {
			return nil, fmt.Errorf("plc: read file records, groups %d..%d of %d: %w", start+1, end, len(reqs), err)
		}
		out = append(out, regs...)
		start = end
	}
	return out, nil
}

func (c *Client) readFileBatch(ctx context.Context, groups []modbus.FileSubRequest) ([][]uint16, error) {
	req := &modbus.ReadFileRecord{SubRequests: make([]modbus.FileSubRequest, len(groups))}
	for i, g := range groups {
		if g.RefType == 0 {
			g.RefType = modbus.FileRecordRefType
		}
		req.SubRequests[i] = g
	}
	rsp, err := c.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	r, err := as[*modbus.ReadFileRecordResponse](rsp)
	if err != nil {
		return nil, err
	}
	out := make([][]uint16, len(r.SubResponses))
	for i, s := range r.SubResponses {
		out[i] = modbus.AppendRegisters(nil, s.Data)
	}
	return out, nil
}

// WriteFileRecords writes each group (FC 21) [AP §6.15]. A RefType of 0
// means 6. Groups that do not fit one request are spread over several,
// sent one after the other; if one fails, the groups before it were
// written.
func (c *Client) WriteFileRecords(ctx context.Context, recs []modbus.FileRecord) error {
	if len(recs) == 0 {
		return fmt.Errorf("plc: write file records: %w", c.refuse(modbus.FuncWriteFileRecord, false,
			&modbus.RequestError{Function: modbus.FuncWriteFileRecord, Field: "groups", Reason: "none given",
				Code: modbus.IllegalDataValue}))
	}
	for start := 0; start < len(recs); {
		end, size := start, 0
		for end < len(recs) {
			n := 7 + len(recs[end].Data)
			if end > start && size+n > maxWriteFileData {
				break
			}
			size += n
			end++
		}
		req := &modbus.WriteFileRecord{Records: make([]modbus.FileRecord, end-start)}
		for i, r := range recs[start:end] {
			if r.RefType == 0 {
				r.RefType = modbus.FileRecordRefType
			}
			req.Records[i] = r
		}
		if _, err := c.Do(ctx, req); err != nil {
			return fmt.Errorf("plc: write file records, groups %d..%d of %d (%d before written): %w",
				start+1, end, len(recs), start, err)
		}
		start = end
	}
	return nil
}
