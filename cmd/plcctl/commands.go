package main

import (
	"fmt"
	"io"
	"strings"
)

// commandSpec names a command and says how to build it. Building one makes
// its flag set (the shared flags and its own), so a run builds only the
// command it runs: building all of them took about 0.6 ms and 2,000
// allocations, more than a one-shot read's whole budget (issue 10). The
// name, aliases and summary live here, for lookup and the top-level help.
type commandSpec struct {
	name    string
	aliases []string
	summary string // one line, no final period
	build   func(a *app) *command
}

// commandGroup is a heading of the top-level help and its commands.
type commandGroup struct {
	title string
	cmds  []commandSpec
}

// commandTable lists the commands in help order. It is set in init, not in
// its declaration, because some commands (watch, shell) look others up;
// what init copies is commands, a literal the linker lays out, so that no
// run builds the table (issue 10: building it took 7 allocations, 1.8 kB,
// and the page faults of fresh heap, at every start).
var commandTable []commandGroup

func init() { commandTable = commands }

// commands is the table itself; use commandTable.
var commands = []commandGroup{
	{"Read", []commandSpec{
		{"read-coils", nil, "Read COUNT coils (default 1) starting at ADDR (function 1)",
			func(a *app) *command { return a.readCommand("read-coils", coils) }},
		{"read-discrete-inputs", nil, "Read COUNT discrete inputs (default 1) starting at ADDR (function 2)",
			func(a *app) *command { return a.readCommand("read-discrete-inputs", discreteInputs) }},
		{"read-holding-registers", nil, "Read COUNT holding register values (default 1) starting at ADDR (function 3)",
			func(a *app) *command { return a.readCommand("read-holding-registers", holdingRegisters) }},
		{"read-input-registers", nil, "Read COUNT input register values (default 1) starting at ADDR (function 4)",
			func(a *app) *command { return a.readCommand("read-input-registers", inputRegisters) }},
		{"read-fifo", nil, "Read the FIFO queue whose pointer register is ADDR (function 24)", (*app).readFIFOCommand},
		{"read-file-record", nil, "Read COUNT values (default 1) from a file's records (function 20)", (*app).readFileRecordCommand},
		{"read-device-id", nil, "Read the device identification objects (function 43 / MEI 14)", (*app).readDeviceIDCommand},
	}},
	{"Write", []commandSpec{
		{"write-coil", nil, "Write one coil (function 5)", (*app).writeCoilCommand},
		{"write-coils", nil, "Write consecutive coils from ADDR (function 15)", (*app).writeCoilsCommand},
		{"write-register", nil, "Write one holding register (function 6)", (*app).writeRegisterCommand},
		{"write-registers", nil, "Write consecutive holding registers from ADDR (function 16)", (*app).writeRegistersCommand},
		{"mask-write-register", nil, "Change bits of one holding register (function 22)", (*app).maskWriteCommand},
		{"read-write-registers", nil, "Write holding registers, then read holding registers, in one transaction (function 23)", (*app).readWriteCommand},
		{"write-file-record", nil, "Write values to a file's records (function 21)", (*app).writeFileRecordCommand},
	}},
	{"Tags (plant file)", []commandSpec{
		{"tags", nil, "List the tags of a plant file", (*app).tagsCommand},
		{"get", nil, "Read tags of a plant file by name, scaled, with their units", (*app).getCommand},
		{"set", nil, "Write one tag of a plant file, type- and range-checked", (*app).setCommand},
		{"snapshot", nil, "Record tables of a live device as a plant file on stdout", (*app).snapshotCommand},
	}},
	{"Diagnose", []commandSpec{
		{"watch", []string{"poll"}, "Repeat a read at an interval over one connection", (*app).watchCommand},
		{"ping", nil, "Measure round trips to the device, like ping(8)", (*app).pingCommand},
		{"scan", nil, "Find which unit ids answer at an address, and what they are", (*app).scanCommand},
		{"bench", nil, "Measure throughput and latency on one connection", (*app).benchCommand},
		{"raw", nil, "Send any function code with the given data bytes and print the answer PDU", (*app).rawCommand},
	}},
	{"Interactive", []commandSpec{
		{"shell", nil, "Run many commands over one connection, interactively or from a script", (*app).shellCommand},
		{"completion", nil, "Print a shell completion script", (*app).completionCommand},
	}},
}

// command builds the command s names, with fresh flag sets bound to a.opts
// (which resets a.opts to the flag defaults; parse sets it afterwards).
func (s *commandSpec) command(a *app) *command {
	c := s.build(a)
	c.aliases, c.summary = s.aliases, s.summary
	return c
}

// findSpec returns the spec of the command called name (or one of its
// aliases), or nil.
func findSpec(name string) *commandSpec {
	for gi := range commandTable {
		for i := range commandTable[gi].cmds {
			s := &commandTable[gi].cmds[i]
			if s.name == name {
				return s
			}
			for _, al := range s.aliases {
				if al == name {
					return s
				}
			}
		}
	}
	return nil
}

// lookup builds the command called name (or one of its aliases), or
// returns nil.
func (a *app) lookup(name string) *command {
	if s := findSpec(name); s != nil {
		return s.command(a)
	}
	return nil
}

// allCommands builds every command, in help order.
func (a *app) allCommands() []*command {
	var cmds []*command
	for _, g := range commandTable {
		for i := range g.cmds {
			cmds = append(cmds, g.cmds[i].command(a))
		}
	}
	return cmds
}

const intro = `plcctl talks Modbus TCP to PLCs and other devices: read and write coils and registers
as typed values, watch them live, ping and benchmark a device, or run many commands
over one connection.`

// writeHelp prints the top-level help. It builds no command, only a flag
// set of the shared flags. The text goes into one buffer sized for all of
// it, with WriteString rather than fmt: --help runs this once, as the first
// use of that code, and fmt's padding and the buffer's doublings touched a
// dozen more pages (371 -> 358 page faults per run; issue 10).
func (a *app) writeHelp(w io.Writer) {
	var b strings.Builder // one write, not one per line
	b.Grow(8 << 10)       // the help is about 5 kB
	b.WriteString(intro)
	b.WriteString("\n\nUsage:\n  plcctl [shared flags] COMMAND [flags] ARGS\n  plcctl help COMMAND    (or plcctl COMMAND --help)\n")
	width := 0
	for _, g := range commandTable {
		for _, c := range g.cmds {
			width = max(width, len(c.name))
		}
	}
	for _, g := range commandTable {
		b.WriteString("\n" + g.title + ":\n")
		for _, c := range g.cmds {
			b.WriteString("  " + c.name + strings.Repeat(" ", width-len(c.name)) + "  " + c.summary + "\n")
		}
	}
	var scratch sharedOptions
	b.WriteString("\nShared flags (before or after COMMAND):\n")
	b.WriteString(scratch.newFlagSet("plcctl").FlagUsagesWrapped(0))
	b.WriteString("\n" + strings.TrimSpace(addressHelp) + "\n\n" + exitCodesHelp)
	_, _ = io.WriteString(w, b.String())
}

// shortUsage is printed on stderr after a top-level usage error.
func (a *app) shortUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: plcctl [shared flags] COMMAND [flags] ARGS\nRun 'plcctl help' for the commands.")
}
