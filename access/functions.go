package access

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/plcctl/plcctl/modbus"
)

// Function groups a rule may name instead of single codes.
const (
	GroupAll    = "all"    // every function code, 1..127
	GroupReads  = "reads"  // ReadFunctions
	GroupWrites = "writes" // WriteFunctions
)

// writeFunctions are the public function codes that change the device.
var writeFunctions = []modbus.FunctionCode{modbus.FuncWriteSingleCoil, modbus.FuncWriteSingleRegister,
	modbus.FuncWriteMultipleCoils, modbus.FuncWriteMultipleRegisters, modbus.FuncWriteFileRecord,
	modbus.FuncMaskWriteRegister, modbus.FuncReadWriteMultipleRegisters}

// WriteFunctions returns the public function codes that write: 5, 6, 15,
// 16, 21, 22, 23. (IsWrite counts every other code as a write too.)
func WriteFunctions() []modbus.FunctionCode { return slices.Clone(writeFunctions) }

// aliases are plcctl's command names for codes whose spec name differs.
var aliases = map[string]modbus.FunctionCode{
	"write-coil": modbus.FuncWriteSingleCoil, "write-register": modbus.FuncWriteSingleRegister,
	"write-coils": modbus.FuncWriteMultipleCoils, "write-registers": modbus.FuncWriteMultipleRegisters,
	"read-write-registers": modbus.FuncReadWriteMultipleRegisters, "read-fifo": modbus.FuncReadFIFOQueue,
	"read-device-id": modbus.FuncEncapsulatedInterface,
}

// FunctionName is the name ParseFunction takes for fc: the spec's name
// with dashes ("read-holding-registers", "read-write-multiple-registers"),
// or "" for a code without a name.
func FunctionName(fc modbus.FunctionCode) string {
	s := fc.String()
	if strings.HasPrefix(s, "function 0x") || strings.HasPrefix(s, "user-defined") || fc&0x80 != 0 {
		return ""
	}
	return strings.NewReplacer(" ", "-", "/", "-").Replace(s)
}

// FunctionNames returns every name ParseFunction accepts, groups first.
func FunctionNames() []string {
	names := []string{GroupAll, GroupReads, GroupWrites}
	for fc := modbus.FunctionCode(1); fc < 0x80; fc++ {
		if n := FunctionName(fc); n != "" {
			names = append(names, n)
		}
	}
	for a := range aliases {
		names = append(names, a)
	}
	slices.Sort(names[3:])
	return names
}

// ParseFunction parses one entry of a rule's function list: a code
// (decimal or 0x hex, 1..127), a name (FunctionName's, or plcctl's command
// name such as write-register or read-device-id), or a group: all, reads,
// writes. Case does not matter.
func ParseFunction(s string) ([]modbus.FunctionCode, error) {
	w := strings.ToLower(strings.TrimSpace(s))
	switch w {
	case GroupAll:
		return AllFunctions(), nil
	case GroupReads:
		return ReadFunctions(), nil
	case GroupWrites:
		return WriteFunctions(), nil
	}
	if fc, ok := aliases[w]; ok {
		return []modbus.FunctionCode{fc}, nil
	}
	if v, err := strconv.ParseUint(w, 0, 8); err == nil {
		if v < 1 || v > 127 {
			return nil, fmt.Errorf("access: function code %s is not a request code 1..127", s)
		}
		return []modbus.FunctionCode{modbus.FunctionCode(v)}, nil
	}
	for fc := modbus.FunctionCode(1); fc < 0x80; fc++ {
		if n := FunctionName(fc); n != "" && n == w {
			return []modbus.FunctionCode{fc}, nil
		}
	}
	return nil, fmt.Errorf("access: unknown function %q: want a code 1..127, a name such as read-holding-registers, or all, reads or writes", s)
}
