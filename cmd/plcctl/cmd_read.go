package main

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plc"
)

// readOp is one parsed and checked read, ready to run any number of times
// (watch repeats it).
type readOp struct {
	cmd   string
	tbl   table
	addr  uint16 // protocol address
	n     int    // values of typ
	items int    // bits or registers on the wire
	typ   plc.Type
	order plc.WordOrder
}

// typeFlags are --type and --word-order, parsed after the flag set.
type typeFlags struct {
	typ, order string
}

func addTypeFlags(fs *pflag.FlagSet) *typeFlags {
	tf := &typeFlags{}
	fs.StringVar(&tf.typ, "type", "uint16", "value `TYPE`: u/int16, u/int32, u/int64, float32, float64, hex, bits, string")
	fs.StringVar(&tf.order, "word-order", "ABCD", "byte `ORDER` of wide values: ABCD (big-endian), CDAB, BADC, DCBA")
	return tf
}

func (tf *typeFlags) parse() (plc.Type, plc.WordOrder, error) {
	t, err := plc.ParseType(tf.typ)
	if err != nil {
		return 0, 0, usagef("--type %q: want uint16, int16, uint32, int32, uint64, int64, float32, float64, hex, bits or string", tf.typ)
	}
	o, err := plc.ParseWordOrder(tf.order)
	if err != nil {
		return 0, 0, usagef("--word-order %q: want ABCD, CDAB, BADC or DCBA", tf.order)
	}
	return t, o, nil
}

const typeHelp = `Types: --type reads each value from as many registers as it needs (uint16, int16,
hex, bits: 1; uint32, int32, float32: 2; uint64, int64, float64: 4) and COUNT counts
values, so "--type float32 100 3" reads registers 100..105. For --type string COUNT is
the number of registers (two characters each, first in the high byte) and one string is
printed, trailing NULs removed. --word-order names the byte order on the wire for the
value A B C D (A most significant): ABCD big-endian (the default), CDAB word-swapped
(mbpoll and modpoll default), BADC byte-swapped, DCBA little-endian; 64-bit values
extend the pattern (CDAB reverses all four registers). Only the byte swap (BADC, DCBA)
affects 16-bit values and strings; hex and bits show registers as sent. Counts larger
than one request allows are split into several requests.`

// readCommand builds read-coils, read-discrete-inputs, read-holding-registers
// and read-input-registers.
func (a *app) readCommand(name string, tbl table) *command {
	c := &command{name: name, args: "ADDR [COUNT]", flags: a.opts.newFlagSet(name), quickRead: true}
	var tf *typeFlags
	c.example = []string{name + " 100 10", name + " --one-based 101 10"}
	c.notes = []string{addressHelp}
	if tbl == holdingRegisters || tbl == inputRegisters {
		tf = addTypeFlags(c.flags)
		c.notes = []string{typeHelp, addressHelp}
		ref := "ref:40001" // a Modicon reference must name the command's own table
		if tbl == inputRegisters {
			ref = "ref:30001"
		}
		c.example = append(c.example, name+" 200 2 --type float32 --word-order CDAB", name+" "+ref+" 8 --type string")
	}
	prepare := func(args []string) (*readOp, error) { return a.prepareRead(c, tbl, tf, args) }
	c.prepareRead = prepare
	c.run = func(ctx context.Context, args []string) error {
		op, err := prepare(args)
		if err != nil {
			return err
		}
		cl, err := a.connect(ctx)
		if err != nil {
			return &opError{cmd: name, span: a.span(op.addr, op.items), err: err}
		}
		v, err := a.doRead(ctx, cl, op)
		if err != nil {
			return err
		}
		return a.printValues(v)
	}
	return c
}

// prepareRead parses ADDR [COUNT] and the type flags.
func (a *app) prepareRead(c *command, tbl table, tf *typeFlags, args []string) (*readOp, error) {
	if len(args) < 1 || len(args) > 2 {
		return nil, usagef("want ADDR [COUNT], got %s", arguments(len(args)))
	}
	op := &readOp{cmd: c.name, tbl: tbl, n: 1}
	var err error
	if tf != nil {
		if op.typ, op.order, err = tf.parse(); err != nil {
			return nil, err
		}
	}
	if op.addr, err = a.parseAddress(args[0], tbl); err != nil {
		return nil, err
	}
	room := min(modbus.AddressSpace-int(op.addr), 65535) // items from addr to the last address
	width := 1
	if tf != nil {
		width = op.typ.Registers()
	}
	if len(args) == 2 {
		if op.n, err = parseCount(args[1], 65535); err != nil {
			return nil, err
		}
	}
	op.items = op.n * width
	if op.items > room {
		return nil, usagef("count %d from address %s runs past the last address (room for %s)", op.n, args[0], plural(room/width, "value"))
	}
	return op, nil
}

// doRead runs op once on c. Register reads go through plc's typed reads,
// which split only between values, so no value is assembled from two
// transactions (a torn value, half from one moment of the PLC and half from
// the next).
func (a *app) doRead(ctx context.Context, c *plc.Client, op *readOp) (*values, error) {
	unit, n := a.opts.unit, uint16(op.items)
	var (
		bits []bool
		vals []any
		err  error
	)
	switch op.tbl {
	case coils:
		bits, err = c.ReadCoils(ctx, op.addr, n)
	case discreteInputs:
		bits, err = c.ReadDiscreteInputs(ctx, op.addr, n)
	case holdingRegisters:
		vals, err = c.ReadHoldingValues(ctx, op.addr, op.items/op.typ.Registers(), op.typ, op.order)
	case inputRegisters:
		vals, err = c.ReadInputValues(ctx, op.addr, op.items/op.typ.Registers(), op.typ, op.order)
	}
	if err != nil {
		return nil, &opError{cmd: op.cmd, span: a.span(op.addr, op.items), err: err}
	}
	if op.tbl == coils || op.tbl == discreteInputs {
		return newBitValues(op.cmd, unit, op.addr, bits), nil
	}
	v := newRegisterValues(op.cmd, unit, op.addr, op.typ, op.order, vals)
	if op.typ == plc.String {
		v.Count = op.items
	}
	return v, nil
}
