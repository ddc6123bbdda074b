package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plc"
)

func (a *app) readFIFOCommand() *command {
	c := &command{name: "read-fifo", args: "ADDR", flags: a.opts.newFlagSet("read-fifo"), quickRead: true}
	tf := addTypeFlags(c.flags)
	c.long = "ADDR is the FIFO pointer register. Prints the queued values (at most 31 registers) with\ntheir position in the queue; reading does not empty the queue. An empty queue prints no\nvalues; text output then says so on stderr."
	c.example = []string{"read-fifo 1246", "read-fifo 1246 --type hex"}
	c.notes = []string{addressHelp}
	c.run = func(ctx context.Context, args []string) error {
		if len(args) != 1 {
			return usagef("want ADDR, got %s", arguments(len(args)))
		}
		t, o, err := tf.parse()
		if err != nil {
			return err
		}
		addr, err := a.parseAddress(args[0], holdingRegisters)
		if err != nil {
			return err
		}
		cl, err := a.connect(ctx)
		if err != nil {
			return &opError{cmd: c.name, span: a.span(addr, 1), err: err}
		}
		regs, err := cl.ReadFIFOQueue(ctx, addr)
		if err != nil {
			return &opError{cmd: c.name, span: a.span(addr, 1), err: err}
		}
		vals, err := plc.Decode(t, o, regs)
		if err != nil {
			return &opError{cmd: c.name, span: a.span(addr, 1), err: err}
		}
		v := newRegisterValues(c.name, a.opts.unit, addr, t, o, vals)
		v.indexed = true
		if len(regs) == 0 && a.opts.output == "text" {
			// Text has no header, so an empty queue prints nothing at all;
			// say so, or the blank looks like a hang or a bug. JSON
			// ("values":[]) and CSV (its header) already show it.
			fmt.Fprintf(a.stderr, "read-fifo: the FIFO at %d is empty (the device answered a FIFO count of 0)\n", a.display(int(addr)))
		}
		return a.printValues(v)
	}
	return c
}

// deviceIDLevel returns the read device id code of a --level (a function, not a map: a map literal is built at every start; issue 10).
func deviceIDLevel(level string) (uint8, bool) {
	switch level {
	case "basic":
		return modbus.DeviceIDBasic, true
	case "regular":
		return modbus.DeviceIDRegular, true
	case "extended":
		return modbus.DeviceIDExtended, true
	case "individual":
		return modbus.DeviceIDIndividual, true
	}
	return 0, false
}

var objectNames = []string{"VendorName", "ProductCode", "MajorMinorRevision", "VendorUrl", "ProductName",
	"ModelName", "UserApplicationName"}

var objectKeys = []string{"vendor_name", "product_code", "major_minor_revision", "vendor_url", "product_name",
	"model_name", "user_application_name"}

type deviceObject struct {
	ID    uint8  `json:"id"`
	Name  string `json:"name"`
	Value string `json:"value"`
}

type deviceIDResult struct {
	Function   string         `json:"function"`
	Unit       uint8          `json:"unit"`
	Level      string         `json:"level"`
	Conformity uint8          `json:"conformity"`
	Objects    []deviceObject `json:"objects"`
}

func (a *app) readDeviceIDCommand() *command {
	c := &command{name: "read-device-id", flags: a.opts.newFlagSet("read-device-id"), quickRead: true}
	level := c.flags.String("level", "basic", "`LEVEL`: basic (objects 0-2), regular (0-6), extended (also 0x80-0xFF), individual (one object)")
	object := c.flags.String("object", "0", "object `ID` to read with --level individual, decimal or 0x")
	c.long = "Stream levels follow the device's paging until every object is read. Objects 0-6 are\nVendorName, ProductCode, MajorMinorRevision, VendorUrl, ProductName, ModelName and\nUserApplicationName; 0x80-0xFF are private. JSON carries the conformity level the\ndevice reports (e.g. 129 = 0x81: basic, individual access supported)."
	c.example = []string{"read-device-id", "read-device-id --level regular -o json", "read-device-id --level individual --object 0x04"}
	c.run = func(ctx context.Context, args []string) error {
		if len(args) != 0 {
			// (it said "read-device-id takes no arguments" after "plcctl read-device-id: ")
			return usagef("want no arguments (an object id goes in --object, with --level individual), got %s", arguments(len(args)))
		}
		code, ok := deviceIDLevel(strings.ToLower(*level))
		if !ok {
			return usagef("--level %q: want basic, regular, extended or individual", *level)
		}
		id, err := parseUint(*object, 255)
		if err != nil {
			return usagef("--object %q: %v", *object, err)
		}
		if c.flags.Changed("object") && code != modbus.DeviceIDIndividual {
			return usagef("--object needs --level individual")
		}
		cl, err := a.connect(ctx)
		if err != nil {
			return &opError{cmd: c.name, err: err}
		}
		res := &deviceIDResult{Function: c.name, Unit: a.opts.unit, Level: strings.ToLower(*level)}
		objs, err := a.deviceObjects(ctx, cl, code, uint8(id), res)
		if err != nil {
			span := res.Level
			if code == modbus.DeviceIDIndividual {
				span = fmt.Sprintf("object 0x%02X", id) // the one thing asked for
			}
			return &opError{cmd: c.name, span: span, err: err}
		}
		res.Objects = objs
		return a.printDeviceID(res)
	}
	return c
}

// deviceObjects reads the objects for code (stream access, paged by the
// client) or the one object id (individual access).
func (a *app) deviceObjects(ctx context.Context, cl *plc.Client, code, id uint8, res *deviceIDResult) ([]deviceObject, error) {
	var raw []modbus.DeviceObject
	if code == modbus.DeviceIDIndividual {
		pdu, err := cl.Do(ctx, &modbus.ReadDeviceID{Code: code, ObjectID: id})
		if err != nil {
			return nil, err
		}
		rsp, ok := pdu.(*modbus.DeviceIDResponse)
		if !ok {
			return nil, fmt.Errorf("unexpected response %T", pdu)
		}
		res.Conformity, raw = rsp.Conformity, rsp.Objects
	} else {
		d, err := cl.ReadDeviceID(ctx, code)
		if err != nil {
			return nil, err
		}
		res.Conformity, raw = d.Conformity, d.Objects
	}
	objs := make([]deviceObject, 0, len(raw))
	for _, o := range raw {
		objs = append(objs, deviceObject{ID: o.ID, Name: objectName(o.ID, objectKeys), Value: string(o.Value)})
	}
	return objs, nil
}

func objectName(id uint8, names []string) string {
	if int(id) < len(names) {
		return names[id]
	}
	return fmt.Sprintf("0x%02X", id)
}

func (a *app) printDeviceID(res *deviceIDResult) error {
	switch a.opts.output {
	case "json":
		return writeJSON(a.stdout, res)
	case "csv":
		rows := [][]string{{"id", "name", "value"}}
		for _, o := range res.Objects {
			rows = append(rows, []string{strconv.Itoa(int(o.ID)), o.Name, o.Value})
		}
		return writeCSV(a.stdout, rows)
	}
	rows := make([][2]string, 0, len(res.Objects))
	for _, o := range res.Objects {
		v := o.Value
		if strconv.Quote(v) != `"`+v+`"` {
			v = strconv.Quote(v)
		}
		rows = append(rows, [2]string{objectName(o.ID, objectNames), v})
	}
	return writeTableLeft(a.stdout, rows)
}

// writeTableLeft writes "KEY  VALUE" lines, keys left-aligned.
func writeTableLeft(w interface{ Write([]byte) (int, error) }, rows [][2]string) error {
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	var sb strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&sb, "%-*s  %s\n", width, r[0], r[1])
	}
	_, err := w.Write([]byte(sb.String()))
	return err
}

const rawHelp = `FC is decimal or 0x-prefixed (1..127). HEXBYTES are the data bytes after the function
code, in hex; spaces, colons and several arguments are allowed. The answer PDU
(function code first) is printed in hex on stdout.

An exception answer (function code + 0x80, then the code) is not printed as a PDU: as
for every command, plcctl says which exception it was in one sentence on stderr and
exits 3, and stdout stays empty (with -o json, a function that writes prints the
failure object every write prints). --trace shows the answer frame itself on stderr.

`

func (a *app) rawCommand() *command {
	c := &command{name: "raw", args: "FC [HEXBYTES...]", flags: a.opts.newFlagSet("raw")}
	dry := addDryRun(c.flags)
	c.long = rawHelp + dryRunHelp
	c.example = []string{"raw 3 00 6B 00 03            # read holding registers 107..109", "raw 0x41 --dry-run 01 02    # a user-defined function"}
	c.run = func(ctx context.Context, args []string) error {
		if len(args) < 1 {
			return usagef("want FC [HEXBYTES...]")
		}
		fc, err := parseUint(args[0], 127)
		if err != nil || fc == 0 {
			return usagef("function code %q: not a request function code (want 1..127, decimal or 0x)", args[0])
		}
		data, err := parseHexBytes(args[1:])
		if err != nil {
			return err
		}
		req := &modbus.Raw{FC: modbus.FunctionCode(fc), Data: data}
		if err := req.Validate(); err != nil {
			return usagef("%v", err)
		}
		if *dry {
			return a.printFrame(c.name, req)
		}
		cl, err := a.connect(ctx)
		if err != nil {
			return &opError{cmd: c.name, span: fmt.Sprintf("function %d", fc), err: err, write: !readFunction(req.FC), dial: true,
				target: rawTarget(req)}
		}
		answer, err := cl.Raw(ctx, req.FC, data)
		if err != nil {
			oe := &opError{cmd: c.name, span: fmt.Sprintf("function %d", fc), err: err, fc: uint8(fc), write: !readFunction(req.FC),
				target: rawTarget(req)}
			oe.check = rawCheck(req)
			return oe
		}
		return a.printRaw(req, answer)
	}
	return c
}

// rawCheck says why req is not a well-formed request of its public function
// code (a strict device drops such a request), or "" when it is one, or its
// function has no fixed layout here.
func rawCheck(req *modbus.Raw) string {
	pdu, err := req.AppendPDU(nil)
	if err != nil {
		return ""
	}
	var fe *modbus.FrameError
	if _, err := modbus.DecodeRequest(pdu); errors.As(err, &fe) {
		return fe.Field + ": " + fe.Reason
	}
	return ""
}

// rawTarget returns the items req writes when it is a well-formed write
// request of a public function (for -o json's failure object), else nil.
func rawTarget(req *modbus.Raw) *writeTarget {
	pdu, err := req.AppendPDU(nil)
	if err != nil {
		return nil
	}
	typed, err := modbus.DecodeRequest(pdu)
	if err != nil {
		return nil
	}
	return requestTarget(typed)
}

// readFunction reports whether fc only reads (raw: a write's unknown
// outcome is said). FC 43 counts as a read, as raw has always taken it.
func readFunction(fc modbus.FunctionCode) bool {
	return fc.IsRead() || fc == modbus.FuncEncapsulatedInterface
}

// printRaw prints the request and answer PDUs.
func (a *app) printRaw(req *modbus.Raw, answer []byte) error {
	reqPDU, _ := req.AppendPDU(nil)
	rspPDU := append([]byte{byte(req.FC)}, answer...)
	switch a.opts.output {
	case "json":
		return writeJSON(a.stdout, struct {
			Function string `json:"function"`
			Unit     uint8  `json:"unit"`
			FC       uint8  `json:"fc"`
			Request  string `json:"request"`
			Response string `json:"response"`
		}{"raw", a.opts.unit, uint8(req.FC), spacedHex(reqPDU), spacedHex(rspPDU)})
	case "csv":
		return writeCSV(a.stdout, [][]string{{"fc", "request", "response"},
			{strconv.Itoa(int(req.FC)), spacedHex(reqPDU), spacedHex(rspPDU)}})
	}
	_, err := fmt.Fprintln(a.stdout, spacedHex(rspPDU))
	return err
}

// parseHexBytes joins args and decodes them as hex, ignoring spaces, colons
// and a 0x prefix.
func parseHexBytes(args []string) ([]byte, error) {
	s := strings.Join(args, "")
	s = strings.NewReplacer(" ", "", ":", "", "0x", "", "0X", "").Replace(s)
	b, err := hex.DecodeString(s)
	var bad hex.InvalidByteError
	switch {
	case errors.As(err, &bad):
		what := fmt.Sprintf("byte 0x%02X", byte(bad))
		if bad < utf8.RuneSelf {
			what = strconv.QuoteRune(rune(bad))
		}
		return nil, usagef("data %q: %s is not a hex digit: want hex bytes such as 00 6B 00 03", strings.Join(args, " "), what)
	case err != nil: // hex.ErrLength
		return nil, usagef("data %q: %d hex digits, an odd number: want two per byte, such as 00 6B 00 03", strings.Join(args, " "), len(s))
	}
	return b, nil
}
