package plant

import (
	"sort"
	"strconv"
	"time"

	"github.com/plcctl/plcctl/values"
)

// Version is the plant file format this package reads (the file's
// `version:` key). A file of another version is refused.
const Version = 1

// Plant is a parsed and validated plant file: one or more devices, their
// units' memories, their tags and the plant's living values. Every value in
// it has been checked; a Plant returned by Parse or Load needs no further
// validation. Addresses are 0-based PDU addresses whatever numbering the file
// used.
type Plant struct {
	File        string // the file name given to Parse, for messages
	Version     int    // always Version
	Name        string // optional display name
	Description string
	// Seed makes the living values reproducible: random-walk tags draw from
	// a generator seeded with Seed and the tag's name. Default 1.
	Seed uint64
	// Scan is the scan cycle: how often living values are recomputed and
	// follow logic is evaluated. Default DefaultScan; 1ms..1h.
	Scan    time.Duration
	Devices []*Device
	Tags    []*Tag  // every tag of every device, in file order
	Faults  []Fault // fault rules in plcsim's --fault syntax, checked by the simulator
	// Access is the access: section, the rules of Modbus/TCP Security for
	// every device without its own; nil when the file has none.
	Access *AccessRules

	byName map[string]*Tag
}

// DefaultScan is the scan cycle of a plant file without `scan:`.
const DefaultScan = 100 * time.Millisecond

// Fault is one fault rule of the file, kept as text in the simulator's
// --fault syntax (simulator.ParseFaultRule parses it; this package does
// not, so that it need not import the simulator). Line is where it is in the
// file, so that a bad rule can be reported as "plant.yaml:12: ...".
type Fault struct {
	Rule string
	Line int
}

// Device is one Modbus TCP server of the plant.
type Device struct {
	Name string
	// Address is host:port: where plcsim serves this device and where plcctl
	// connects to it. Empty means the tool's default.
	Address string
	// UnknownUnit is the answer to a request for a unit id the device does
	// not have. Default UnknownException (exception 0B).
	UnknownUnit UnknownUnit
	Units       []*Unit // at least one; ids unique
	Tags        []*Tag  // this device's tags in file order
	// Access is the device's own access: section, which replaces the
	// plant's for this device; nil when it has none (see Plant.AccessFor).
	Access      *AccessRules
	Description string
	Line        int // line of the device in the file
}

// Unit returns the device's unit with id, or nil.
func (d *Device) Unit(id uint8) *Unit {
	for _, u := range d.Units {
		if u.ID == id {
			return u
		}
	}
	return nil
}

// UnknownUnit is what a device answers for a unit id it does not have.
type UnknownUnit uint8

const (
	// UnknownException answers exception 0B (gateway target device failed
	// to respond) [AP §7], as a gateway does.
	UnknownException UnknownUnit = iota
	// UnknownSilence sends no answer at all, as a serial slave that is not
	// there; the client times out.
	UnknownSilence
)

func (u UnknownUnit) String() string {
	if u == UnknownSilence {
		return "silence"
	}
	return "exception"
}

// Unit is one unit id of a device with its own memory: a request for this
// unit id reads and writes only these tables. Tables not given in the file
// cover all 65536 addresses.
type Unit struct {
	ID       uint8
	Device   *Device
	Tables   [4]Table  // indexed by TableKind: Tables[HoldingRegisters] ...
	Identity *Identity // FC 43/14 objects; nil = the simulator's own
	ServerID *ServerID // FC 17 answer; nil = FC 17 not supported (exception 01)
	FIFOs    []FIFO    // FC 24 queues, by pointer address ascending
	Records  []Record  // FC 20/21 file record contents, by file then record
	Line     int
}

// Table returns the unit's table of kind k.
func (u *Unit) Table(k TableKind) *Table { return &u.Tables[k] }

// TableKind names one of the four Modbus data tables.
type TableKind uint8

// The four tables, in the spec's order [AP §4.3].
const (
	Coils TableKind = iota
	DiscreteInputs
	HoldingRegisters
	InputRegisters
)

var tableNames = [...]string{Coils: "coils", DiscreteInputs: "discrete_inputs",
	HoldingRegisters: "holding_registers", InputRegisters: "input_registers"}

// String returns the table's name as the file writes it, e.g.
// "holding_registers".
func (k TableKind) String() string {
	if int(k) < len(tableNames) {
		return tableNames[k]
	}
	return "TableKind(" + strconv.Itoa(int(k)) + ")"
}

// IsBits reports whether the table holds bits (coils, discrete inputs).
func (k TableKind) IsBits() bool { return k == Coils || k == DiscreteInputs }

// Writable reports whether Modbus can write the table (coils and holding
// registers).
func (k TableKind) Writable() bool { return k == Coils || k == HoldingRegisters }

// Range is an inclusive span of 0-based addresses, Start <= End.
type Range struct{ Start, End uint16 }

// Len returns the number of addresses in r.
func (r Range) Len() int { return int(r.End) - int(r.Start) + 1 }

// Table is the memory map of one table of a unit: which addresses exist and
// what they hold at start. A request touching an address outside Ranges is
// answered with exception 02.
type Table struct {
	Kind TableKind
	// Ranges are the addresses that exist, sorted and not overlapping or
	// touching (adjacent ranges are merged). Empty: the table has no
	// address at all.
	Ranges []Range
	// Blocks are the initial raw contents given under the table's `values:`
	// (tags' initial values are separate, on each Tag). Sorted by Start, not
	// overlapping, each inside Ranges. Addresses not covered start at 0.
	Blocks []Block
}

// Contains reports whether every address from addr to addr+n-1 exists.
func (t *Table) Contains(addr uint16, n int) bool {
	end := int(addr) + n - 1
	// Ranges are sorted and apart: the one that may hold addr is the
	// first that ends at or after it (a walk of every range made a file
	// of many ranges and many tags quadratic).
	i := sort.Search(len(t.Ranges), func(i int) bool { return t.Ranges[i].End >= addr })
	return i < len(t.Ranges) && int(addr) >= int(t.Ranges[i].Start) && end <= int(t.Ranges[i].End)
}

// Size returns the number of addresses that exist.
func (t *Table) Size() int {
	n := 0
	for _, r := range t.Ranges {
		n += r.Len()
	}
	return n
}

// Block is a run of initial raw values from Start: Bits for coils and
// discrete inputs, Regs for registers (the other is nil).
type Block struct {
	Start uint16
	Bits  []bool
	Regs  []uint16
}

// Len returns the number of items in b.
func (b Block) Len() int { return len(b.Bits) + len(b.Regs) }

// Identity is a unit's FC 43/14 device identification [AP §6.21].
type Identity struct {
	// Objects by object id: 0x00..0x06 from the named keys (vendor_name,
	// product_code, revision, vendor_url, product_name, model_name,
	// user_application_name), 0x80..0xFF from `extended:`. The basic objects
	// 0x00..0x02 are required.
	Objects map[uint8]string
	// Conformity overrides the conformity level byte; 0 derives it from the
	// objects present (as simulator.Identity does).
	Conformity uint8
}

// ServerID is a unit's answer to FC 17 Report Server ID [AP §6.13]: the
// server id bytes, the run indicator (0xFF ON, 0x00 OFF) and additional
// data, at most 250 bytes together.
type ServerID struct {
	ID         []byte // device specific, at least one byte
	Run        bool   // run indicator status: true = ON (0xFF)
	Additional []byte // optional additional data
}

// Bytes returns the FC 17 response data after the byte count: id, run
// indicator, additional data.
func (s *ServerID) Bytes() []byte {
	b := append([]byte(nil), s.ID...)
	if s.Run {
		b = append(b, 0xFF)
	} else {
		b = append(b, 0x00)
	}
	return append(b, s.Additional...)
}

// FIFO is the queue FC 24 reads at pointer address Address: at most 31
// values [AP §6.18]. Address is a holding-register address.
type FIFO struct {
	Address uint16
	Values  []uint16
}

// Record is the initial content of file File (1..65535) from record Record
// (0..9999) on: Values fill Record, Record+1, ... [AP §6.14]; Record +
// len(Values) - 1 <= 9999.
type Record struct {
	File, Record uint16
	Values       []uint16
}

// Access says whether a tag may be written.
type Access uint8

const (
	ReadWrite Access = iota // coils and holding registers by default
	ReadOnly                // discrete inputs and input registers always
)

func (a Access) String() string {
	if a == ReadOnly {
		return "read-only"
	}
	return "read-write"
}

// Tag is a named value in a unit's memory.
//
// The raw value is the tag's Type in the registers (or the bit); its
// engineering value is raw*Scale + Offset when the tag is scaled, in EngUnit.
// Without scale and offset the engineering value is the raw value itself (a
// uint16, int32, float32, string ... as package values decodes it); bit tags
// (coils, discrete inputs, a Bit inside a register) have bool values.
type Tag struct {
	Name   string // unique in the plant; letters, digits and _ . - /
	Device *Device
	UnitID uint8
	Table  TableKind
	// Address is the 0-based PDU address of the first register or the bit.
	Address uint16
	// Bool is true for tags whose value is one bit: every coil and discrete
	// input tag, and register tags with Bit >= 0.
	Bool bool
	// Bit is the bit inside the register (0 = least significant) for a bit
	// tag in a register table, -1 otherwise.
	Bit int
	// Type is the raw value's layout in a register table (meaningless for
	// Bool tags). String tags are Chars characters long.
	Type  values.Type
	Chars int
	Order values.WordOrder // word order; default ABCD
	// Scale and Offset map raw to engineering value: eng = raw*Scale +
	// Offset. Scaled is false when neither was given (Scale 1, Offset 0):
	// then values keep their raw Go type.
	Scale, Offset float64
	Scaled        bool
	EngUnit       string // engineering unit, e.g. "bar"; display only
	Access        Access
	// Initial is the initial engineering value (bool, string, float64 for
	// scaled tags or the raw type's Go value), nil for none (zero).
	Initial     any
	Description string
	// Retentive marks a tag whose value plcsim --state keeps across
	// restarts.
	Retentive bool
	// Alias allows the tag to overlap other tags (a second view of the same
	// registers); overlaps between non-alias tags are errors.
	Alias bool
	Sim   *Sim // living value; nil = the value changes only by writes
	Line  int  // line of the tag in the file
}

// Registers returns the number of items the tag occupies: 1 for a Bool
// tag (one bit, or the one register holding the bit), otherwise the
// registers of its type (a string: Chars/2 rounded up).
func (t *Tag) Registers() int {
	switch {
	case t.Bool:
		return 1
	case t.Type == values.String:
		return (t.Chars + 1) / 2
	}
	return t.Type.Registers()
}

// End returns the last address the tag occupies.
func (t *Tag) End() uint16 { return t.Address + uint16(t.Registers()-1) }

// TypeName returns the tag's type as the file writes it: "bool" for Bool
// tags, else the values type name ("float32").
func (t *Tag) TypeName() string {
	if t.Bool {
		return "bool"
	}
	return t.Type.String()
}

// SimKind is the kind of a living value.
type SimKind uint8

// Living value kinds. Values are in engineering units (after scale and
// offset); time is the wall clock since plcsim started, sampled every scan.
const (
	// SimCounter adds Step every Every (default: every scan), from Min;
	// past Max it wraps to Min. Numeric tags.
	SimCounter SimKind = iota + 1
	// SimRamp rises linearly from Min to Max over Period, then starts again
	// at Min (a sawtooth). Numeric tags.
	SimRamp
	// SimSine swings between Min and Max with Period, starting at the
	// midpoint and rising. Numeric tags.
	SimSine
	// SimRandomWalk starts at Initial (or the midpoint of Min..Max) and each
	// scan moves by a uniform random amount in -Step..+Step, clamped to
	// Min..Max. Reproducible from the plant's Seed and the tag's name (or
	// the tag's own Seed). Numeric tags.
	SimRandomWalk
	// SimUptime is the seconds since plcsim started, counted on from the
	// tag's value at start (its initial value, or what --state kept, so
	// operating hours accumulate). Numeric tags.
	SimUptime
	// SimClock is the wall clock as Unix seconds. Numeric tags wide enough
	// (32 bits or more, or scaled).
	SimClock
	// SimFollow copies tag Follow's value after Delay: when the source
	// changes, this tag takes the new value Delay later (a command coil
	// sets its status coil after 500 ms). With Invert a Bool tag takes the
	// opposite. Source and follower are both Bool or both numeric.
	SimFollow
)

var simNames = [...]string{SimCounter: "counter", SimRamp: "ramp", SimSine: "sine",
	SimRandomWalk: "random-walk", SimUptime: "uptime", SimClock: "clock", SimFollow: "follow"}

func (k SimKind) String() string {
	if k > 0 && int(k) < len(simNames) {
		return simNames[k]
	}
	return "SimKind(" + strconv.Itoa(int(k)) + ")"
}

// Sim is a tag's living value (the tag's `sim:` key). Which fields apply
// depends on Kind (see the SimKind constants); the others are zero. Parse
// has checked every field: Min < Max where they apply, both encodable in the
// tag's type; Period > 0 for ramp and sine; Step != 0 for counter, > 0 for
// random-walk; Follow names an existing tag of the same kind (not itself, no
// cycle).
type Sim struct {
	Kind   SimKind
	Min    float64       // counter, ramp, sine, random-walk: lower bound
	Max    float64       // upper bound
	Period time.Duration // ramp, sine: one full cycle
	Step   float64       // counter: increment (default 1); random-walk: largest move per scan
	Every  time.Duration // counter: time between steps; 0 = every scan
	// Seed overrides the plant seed for this random-walk tag; HasSeed says
	// it was given.
	Seed    uint64
	HasSeed bool
	Follow  *Tag          // follow: the source tag
	Delay   time.Duration // follow: how long after the source changes
	Invert  bool          // follow: Bool tags take the opposite value
	Line    int
}
