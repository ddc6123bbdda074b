package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestAccessRangesFit: an --access grant whose address range lies wholly
// outside its table (in every unit it holds on) never applies: plcsim
// refuses it in one sentence naming the file:line:col, the key and the
// table's real addresses, exit 2, with a plant (its devices' tables) or
// without (the size flags); a range that meets the table partly is served.
// It served them all silently.
func TestAccessRangesFit(t *testing.T) {
	dir := t.TempDir()
	n := 0
	rules := func(s string) string {
		n++
		f := filepath.Join(dir, "rules"+strconv.Itoa(n)+".yaml")
		os.WriteFile(f, []byte(s), 0o600)
		return f
	}
	grant := func(g string) string {
		return rules("access:\n  roles:\n    operator:\n      - {functions: [reads]}\n      - {functions: [all], " + g + "}\n")
	}
	modicon, oneBased := grant(`holding_registers: ["40001-40100"]`), rules("numbering: one-based\n"+
		"access:\n  roles:\n    operator: {functions: [all], holding_registers: [\"1-100\"], coils: [\"17-32\"]}\n")
	partly, units := grant(`holding_registers: ["50-199"]`), grant(`units: [1], coils: ["8-15"]`)
	const pumpStation = "../../testdata/plants/pump-station.yaml" // unit 1: 16 coils and discrete inputs, 100 registers each
	ownPlant := filepath.Join(dir, "own.yaml")
	os.WriteFile(ownPlant, []byte("version: 1\naccess:\n  roles:\n    operator: {functions: [all], input_registers: [\"30001-30010\"]}\n"+
		"devices:\n  - name: d\n    units: [{id: 1, input_registers: 10}]\n"), 0o600)
	for _, tc := range []struct {
		name string
		args []string
		want string // the whole stderr; "" when plcsim serves
	}{
		{"no plant: --holding-registers", []string{"--holding-registers", "100", "--access", modicon},
			"plcsim: --access " + modicon + ":5:48 (access.roles.operator[1].holding_registers[0]) does not fit the tables served: " +
				"holding registers 40001-40100: plcsim has holding registers 0-99 only (--holding-registers 100), so a grant for them never applies\n"},
		{"said in the file's numbering", []string{"--holding-registers", "100", "--coils", "16", "--access", oneBased},
			"plcsim: --access " + oneBased + ":4:72 (access.roles.operator.coils[0]) does not fit the tables served: " +
				"coils 17-32: plcsim has coils 1-16 only (--coils 16), so a grant for them never applies\n"},
		{"--unit-ids: the same tables", []string{"--unit-ids", "1,2", "--coils", "8", "--access", units},
			"plcsim: --access " + units + ":5:48 (access.roles.operator[1].coils[0]) does not fit the tables served: " +
				"coils 8-15: plcsim has coils 0-7 only (--coils 8), so a grant for them never applies\n"},
		{"--plant: the device's tables", []string{"--plant", pumpStation, "--access", modicon},
			"plcsim: --access " + modicon + ":5:48 (access.roles.operator[1].holding_registers[0]) does not fit --plant " + pumpStation +
				": holding registers 40001-40100: device station unit 1 has holding registers 0-99 only, so a grant for them never applies\n"},
		{"the plant's own access:", []string{"--plant", ownPlant},
			"plcsim: plant: " + ownPlant + ":4:52: access.roles.operator.input_registers[0]: " +
				"input registers 30001-30010: device d unit 1 has input registers 0-9 only, so a grant for them never applies\n"},
		{"partly inside", []string{"--holding-registers", "100", "--access", partly}, ""},
		{"the default tables: every address", []string{"--access", modicon}, ""},
		{"--plant: partly inside", []string{"--plant", pumpStation, "--access", partly}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			servedOrRefused(t, append([]string{"--listen", "127.0.0.1:0"}, tc.args...), tc.want) // one device at most: --listen holds
		})
	}
}

// TestAccessRangesFitReload: a SIGHUP reload of --access is checked
// against the tables as the start was: a file with a range outside them
// keeps the rules in force and logs why.
func TestAccessRangesFitReload(t *testing.T) {
	reloadRefused(t, []string{"--holding-registers", "100"}, "access:\n  roles:\n    operator: {functions: [all], holding_registers: [\"0-99\"]}\n", "access:\n  roles:\n    operator: {functions: [all], holding_registers: [\"0-99\", \"100-199\"]}\n", `:3:62 (access.roles.operator.holding_registers[1]) does not fit the tables served: holding registers 100-199: plcsim has holding registers 0-99 only (--holding-registers 100), so a grant for them never applies`)
}
