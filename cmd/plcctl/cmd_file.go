package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plc"
)

const fileHelp = `FILE is the file number (1..65535) and RECORD the 0-based record number (0..9999);
--one-based does not apply to them. A record is one register.`

// Registers one FC 20 request reads and one FC 21 request writes (one
// sub-request, the PDU's 253 bytes).
const (
	maxFileRead  = 124
	maxFileWrite = 122
)

// fileValues is the JSON object of read-file-record and write-file-record.
type fileValues struct {
	Function  string `json:"function"`
	Unit      uint8  `json:"unit"`
	File      uint16 `json:"file"`
	Record    uint16 `json:"record"`
	Count     int    `json:"count"`
	Type      string `json:"type"`
	WordOrder string `json:"word_order,omitempty"`
	Values    []any  `json:"values"`
}

// parseFileRef parses FILE and RECORD.
func parseFileRef(file, record string) (uint16, uint16, error) {
	f, err := parseUint(file, 65535)
	if err != nil || f == 0 {
		return 0, 0, usagef("file %q: want 1..65535", file)
	}
	r, err := parseUint(record, modbus.MaxFileRecord)
	if err != nil {
		return 0, 0, usagef("record %q: want 0..%d", record, modbus.MaxFileRecord)
	}
	return uint16(f), uint16(r), nil
}

func (a *app) readFileRecordCommand() *command {
	c := &command{name: "read-file-record", args: "FILE RECORD [COUNT]", flags: a.opts.newFlagSet("read-file-record"), quickRead: true}
	tf := addTypeFlags(c.flags)
	c.long = fileHelp + "\nCOUNT counts values of --type (a float32 takes two records); one request reads at\nmost 124 records."
	c.example = []string{"read-file-record 4 1 2", "read-file-record 4 0 1 --type float32"}
	c.notes = []string{typeHelp}
	c.run = func(ctx context.Context, args []string) error { return a.readFileRecord(ctx, c.name, tf, args) }
	return c
}

func (a *app) readFileRecord(ctx context.Context, name string, tf *typeFlags, args []string) error {
	if len(args) < 2 || len(args) > 3 {
		return usagef("want FILE RECORD [COUNT], got %s", arguments(len(args)))
	}
	t, o, err := tf.parse()
	if err != nil {
		return err
	}
	file, rec, err := parseFileRef(args[0], args[1])
	if err != nil {
		return err
	}
	n := 1
	if len(args) == 3 {
		if n, err = parseCount(args[2], maxFileRead); err != nil {
			return err
		}
	}
	if regs := n * t.Registers(); regs > maxFileRead {
		// Said in the user's terms, not the codec's ("lengths ask for a
		// 256-byte response, more than 253").
		return usagef("COUNT %d of %s takes %d records; one request reads at most %d", n, t, regs, maxFileRead)
	}
	sub := []modbus.FileSubRequest{{RefType: modbus.FileRecordRefType, File: file, Record: rec, Length: uint16(n * t.Registers())}}
	span := "file " + args[0] + " record " + strconv.Itoa(int(rec))
	if err := (&modbus.ReadFileRecord{SubRequests: sub}).Validate(); err != nil {
		return usagef("%s: %v", span, err)
	}
	cl, err := a.connect(ctx)
	if err != nil {
		return &opError{cmd: name, span: span, err: err}
	}
	groups, err := cl.ReadFileRecords(ctx, sub)
	if err == nil && len(groups) != 1 {
		err = fmt.Errorf("%d groups in the answer, want 1", len(groups))
	}
	var vals []any
	if err == nil {
		vals, err = plc.Decode(t, o, groups[0])
	}
	if err != nil {
		return &opError{cmd: name, span: span, err: err}
	}
	return a.printFileValues(name, file, rec, t, o, vals, len(groups[0]))
}

func (a *app) writeFileRecordCommand() *command {
	c := &command{name: "write-file-record", args: "FILE RECORD V...", flags: a.opts.newFlagSet("write-file-record")}
	tf := addTypeFlags(c.flags)
	dry := addDryRun(c.flags)
	c.long = fileHelp + "\nEach V is one value of --type (a float32 takes two records); one request writes at\nmost 122 records.\n\n" + typedDryRunHelp
	c.example = []string{"write-file-record 4 7 0x06AF 0x04BE 0x100D", "write-file-record 4 7 --dry-run 1 2"}
	c.notes = []string{typeHelp}
	c.run = func(ctx context.Context, args []string) error {
		if len(args) < 3 {
			return usagef("want FILE RECORD and at least one value")
		}
		t, o, err := tf.parse()
		if err != nil {
			return err
		}
		file, rec, err := parseFileRef(args[0], args[1])
		if err != nil {
			return err
		}
		regs, vals, err := encodeValues(t, o, valueArg{"V", true}, args[2:])
		if err != nil {
			return err
		}
		if len(regs) > maxFileWrite {
			// (the codec said "request data length 253 out of range 9..251")
			verb := "take"
			if len(vals) == 1 {
				verb = "takes"
			}
			return usagef("%s of %s %s %d records; one request writes at most %d", plural(len(vals), "value"), t, verb, len(regs), maxFileWrite)
		}
		recs := []modbus.FileRecord{{RefType: modbus.FileRecordRefType, File: file, Record: rec,
			Data: modbus.AppendRegisterBytes(nil, regs)}}
		w := &writeSpec{cmd: c.name, span: "file " + args[0] + " record " + strconv.Itoa(int(rec)),
			req: &modbus.WriteFileRecord{Records: recs}, noun: "record", count: len(regs), quiet: true,
			send: func(ctx context.Context, cl *plc.Client) error { return cl.WriteFileRecords(ctx, recs) }}
		if err := a.runWrite(ctx, w, *dry); err != nil || *dry {
			return err
		}
		if a.opts.output == "text" {
			return a.printWritten(w)
		}
		return a.printFileValues(c.name, file, rec, t, o, vals, len(regs))
	}
	return c
}

// printFileValues prints record values: text and CSV keyed by record number.
func (a *app) printFileValues(fn string, file, rec uint16, t plc.Type, o plc.WordOrder, vals []any, regs int) error {
	v := newRegisterValues(fn, a.opts.unit, rec, t, o, vals)
	switch a.opts.output {
	case "json":
		fv := &fileValues{Function: fn, Unit: a.opts.unit, File: file, Record: rec, Count: v.Count,
			Type: v.Type, WordOrder: v.WordOrder, Values: v.Values}
		if t == plc.String {
			fv.Count = regs
		}
		return writeJSON(a.stdout, fv)
	case "csv":
		rows := [][]string{{"file", "record", "value"}}
		for i := range v.raw {
			rows = append(rows, []string{strconv.Itoa(int(file)), strconv.Itoa(int(rec) + i*v.step), v.csv(i)})
		}
		return writeCSV(a.stdout, rows)
	}
	rows := make([][2]string, len(v.raw))
	for i := range v.raw {
		rows[i] = [2]string{strconv.Itoa(int(rec) + i*v.step), v.text(i)}
	}
	return writeTable(a.stdout, rows)
}
