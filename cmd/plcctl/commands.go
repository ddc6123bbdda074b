package main

import (
	"fmt"
	"io"
	"strings"
)

// commandGroups lists the commands in help order.
type commandGroup struct {
	title string
	cmds  []*command
}

// groups builds every command with fresh flag sets bound to a.opts (which
// resets a.opts to the flag defaults; parse sets it afterwards).
func (a *app) groups() []commandGroup {
	return []commandGroup{
		{"Read", []*command{
			a.readCommand("read-coils", coils, 1, "coil"),
			a.readCommand("read-discrete-inputs", discreteInputs, 2, "discrete input"),
			a.readCommand("read-holding-registers", holdingRegisters, 3, "holding register value"),
			a.readCommand("read-input-registers", inputRegisters, 4, "input register value"),
			a.readFIFOCommand(),
			a.readFileRecordCommand(),
			a.readDeviceIDCommand(),
		}},
		{"Write", []*command{
			a.writeCoilCommand(),
			a.writeCoilsCommand(),
			a.writeRegisterCommand(),
			a.writeRegistersCommand(),
			a.maskWriteCommand(),
			a.readWriteCommand(),
			a.writeFileRecordCommand(),
		}},
		{"Tags (plant file)", []*command{
			a.tagsCommand(),
			a.getCommand(),
			a.setCommand(),
			a.snapshotCommand(),
		}},
		{"Diagnose", []*command{
			a.watchCommand(),
			a.pingCommand(),
			a.scanCommand(),
			a.benchCommand(),
			a.rawCommand(),
		}},
		{"Interactive", []*command{
			a.shellCommand(),
			a.completionCommand(),
		}},
	}
}

// lookup returns the command called name (or one of its aliases), or nil.
func (a *app) lookup(name string) *command {
	for _, g := range a.groups() {
		for _, c := range g.cmds {
			if c.name == name {
				return c
			}
			for _, al := range c.aliases {
				if al == name {
					return c
				}
			}
		}
	}
	return nil
}

const intro = `plcctl talks Modbus TCP to PLCs and other devices: read and write coils and registers
as typed values, watch them live, ping and benchmark a device, or run many commands
over one connection.`

// writeHelp prints the top-level help.
func (a *app) writeHelp(w io.Writer) {
	groups := a.groups()
	fmt.Fprintf(w, "%s\n\nUsage:\n  plcctl [shared flags] COMMAND [flags] ARGS\n  plcctl help COMMAND    (or plcctl COMMAND --help)\n", intro)
	width := 0
	for _, g := range groups {
		for _, c := range g.cmds {
			width = max(width, len(c.name))
		}
	}
	for _, g := range groups {
		fmt.Fprintf(w, "\n%s:\n", g.title)
		for _, c := range g.cmds {
			fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
		}
	}
	_, shared := splitFlags(groups[0].cmds[0].flags)
	fmt.Fprintf(w, "\nShared flags (before or after COMMAND):\n%s", shared.FlagUsagesWrapped(0))
	fmt.Fprintf(w, "\n%s\n\n%s", strings.TrimSpace(addressHelp), exitCodesHelp)
}

// shortUsage is printed on stderr after a top-level usage error.
func (a *app) shortUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: plcctl [shared flags] COMMAND [flags] ARGS\nRun 'plcctl help' for the commands.")
}
