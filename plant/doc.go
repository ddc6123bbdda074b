// Package plant reads plant files: YAML that describes a PLC once, so that
// plcsim can serve it and plcctl can speak its tags. It loads and validates
// and knows no sockets; cmd/plcsim and cmd/plcctl wire it to the simulator
// and the client.
//
//	version: 1
//	seed: 42                 # living values repeat with the same seed
//	scan: 100ms              # the scan cycle
//	devices:
//	  - name: station
//	    address: 127.0.0.1:5020
//	    units:
//	      - id: 1
//	        holding_registers: ["0-99", "1000-1099"]  # elsewhere: exception 02
//	        input_registers: 100
//	    tags:
//	      - {name: tank1.level, table: input_register, address: 0, type: uint16,
//	         scale: 0.01, eng_unit: m, sim: {kind: sine, min: 1, max: 3, period: 60s}}
//	      - {name: pump3.cmd, table: coil, address: 3}
//	      - {name: pump3.run, table: discrete_input, address: 3,
//	         sim: {kind: follow, tag: pump3.cmd, delay: 500ms}}
//
//	p, err := plant.Load("station.yaml") // every mistake, with its line and key
//	t := p.Tag("tank1.level")
//	reads := plant.PlanReads(p.Tags, plant.PlanOptions{}) // few requests
//
// An access: section (at the top, or in a device to replace it there)
// gives the rules of Modbus/TCP Security: which function codes and address
// ranges each certificate role may use (AccessRules; plcsim --access FILE
// reads the same section from a file of its own).
//
// The file is decoded strictly: an unknown key, a key given twice, a value
// of the wrong type, an address outside the unit's tables, overlapping tags
// are each an *Error with file, line, column and the key's path. The keys are
// those of plant.schema.json, the JSON Schema editors can use.
//
// Lessons taken from the formats people already write: a float's byte order
// is always the tag's explicit word order (ABCD default), never the host's;
// there is one float32, IEEE 754 (a scaled integer is an integer type with
// scale:, not a "FLOAT32" that is not a float); a tag is one value, never a
// count of registers that must agree with its type (strings give chars:).
package plant
