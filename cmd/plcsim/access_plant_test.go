package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plcctl/plcctl/internal/testutil"
)

// TestAccessUnitsWithPlant: --access rules served with --plant must name
// only units the plant's devices served have, as the plant's own access:
// sections must (a grant for another unit never applies): plcsim refuses
// them in one sentence, exit 2, at start and on a SIGHUP reload. It served
// them silently.
func TestAccessUnitsWithPlant(t *testing.T) {
	dir := t.TempDir()
	rules := func(units string) string {
		f := filepath.Join(dir, "units-"+strings.NewReplacer(",", "_", " ", "", `"`, "").Replace(units)+".yaml")
		os.WriteFile(f, []byte("access:\n  roles:\n    operator:\n      - {functions: [reads]}\n      - {functions: [all], units: ["+units+"]}\n"), 0o600)
		return f
	}
	addrs := heldAddrs(t, 2)
	two := filepath.Join(dir, "two.yaml")
	os.WriteFile(two, []byte(fmt.Sprintf("version: 1\ndevices:\n  - name: pumps\n    address: %s\n    units: [{id: 1}]\n"+
		"  - name: tanks\n    address: %s\n    units: [{id: 2}]\n", addrs[0], addrs[1])), 0o600)
	const pumpStation = "../../testdata/plants/pump-station.yaml" // one device, unit 1
	for _, tc := range []struct {
		name string
		args []string
		want string // the whole stderr; "" when plcsim serves
	}{
		{"one device", []string{"--plant", pumpStation, "--listen", "127.0.0.1:0", "--access", rules("7")},
			"plcsim: --access " + rules("7") + ":5:36 (access.roles.operator[1].units[0]) does not fit --plant " + pumpStation +
				": unit 7: device station serves only unit 1, so a grant for it never applies\n"},
		{"two devices, a unit of neither", []string{"--plant", two, "--access", rules(`1, "2-3"`)},
			"plcsim: --access " + rules(`1, "2-3"`) + ":5:39 (access.roles.operator[1].units[1]) does not fit --plant " + two +
				": unit 3: no device under these rules serves it (pumps: 1; tanks: 2), so a grant for it never applies\n"},
		{"--device: only that one counts", []string{"--plant", two, "--device", "tanks", "--listen", "127.0.0.1:0", "--access", rules("1, 2")},
			"plcsim: --access " + rules("1, 2") + ":5:36 (access.roles.operator[1].units[0]) does not fit --plant " + two +
				": unit 1: device tanks serves only unit 2, so a grant for it never applies\n"},
		{"several wrong units, the first said", []string{"--plant", pumpStation, "--listen", "127.0.0.1:0", "--access", rules("5, 6")},
			"plcsim: --access " + rules("5, 6") + ":5:36 (access.roles.operator[1].units[0]) does not fit --plant " + pumpStation +
				": unit 5: device station serves only unit 1, so a grant for it never applies (and 1 more units like it)\n"},
		{"two devices, each unit served by one", []string{"--plant", two, "--access", rules("1, 2")}, ""},
		{"no plant: nothing to fit", []string{"--listen", "127.0.0.1:0", "--access", rules("7")}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == "" {
				_, stop := startDevices(t, tc.args...)
				if code := stop(); code != exitOK {
					t.Errorf("plcsim %q: exit %d, want it served and stopped cleanly", tc.args, code)
				}
				return
			}
			// A plcsim that serves instead is stopped, so the test fails
			// rather than hangs.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var errb syncBuf
			code := run(ctx, append([]string{"--log-format", "json"}, tc.args...), &syncBuf{}, &errb)
			if code != exitUsage || errb.String() != tc.want {
				t.Errorf("plcsim %q: exit %d, stderr:\n%s\nwant exit 2 and:\n%s", tc.args, code, errb.String(), tc.want)
			}
		})
	}
}

// TestAccessUnitsWithPlantReload: a SIGHUP reload of --access is checked
// against the plant as the start was: a file naming a unit the plant does
// not have keeps the rules in force and logs why.
func TestAccessUnitsWithPlantReload(t *testing.T) {
	reloadRefused(t, []string{"--plant", "../../testdata/plants/pump-station.yaml"}, "access:\n  roles:\n    operator: {functions: [all], units: [1]}\n", "access:\n  roles:\n    operator: {functions: [all], units: [1, 7]}\n", `:3:45 (access.roles.operator.units[1]) does not fit --plant ../../testdata/plants/pump-station.yaml: unit 7: device station serves only unit 1, so a grant for it never applies`)
}

// TestAccessUnitsWithUnitIDs: in gateway mode (--unit-ids) --access rules
// must name only the units served, as with --plant: those listed, and 0
// and 255, which address the first. plcsim refuses a grant for another
// unit in one sentence, exit 2. It served them silently.
func TestAccessUnitsWithUnitIDs(t *testing.T) {
	dir := t.TempDir()
	rules := func(units string) string {
		f := filepath.Join(dir, "units-"+strings.NewReplacer(",", "_", " ", "", `"`, "").Replace(units)+".yaml")
		os.WriteFile(f, []byte("access:\n  roles:\n    operator:\n      - {functions: [reads]}\n      - {functions: [all], units: ["+units+"]}\n"), 0o600)
		return f
	}
	for _, tc := range []struct {
		name string
		args []string
		want string // the whole stderr; "" when plcsim serves
	}{
		{"a unit not listed", []string{"--unit-ids", "1,2", "--access", rules("7")},
			"plcsim: --access " + rules("7") + ":5:36 (access.roles.operator[1].units[0]) does not fit --unit-ids 1,2" +
				": unit 7: plcsim serves only units 1, 2 (0 and 255 address unit 1), so a grant for it never applies\n"},
		{"a range reaching past them", []string{"--unit-ids", "1, 2", "--access", rules(`"1-3"`)},
			"plcsim: --access " + rules(`"1-3"`) + ":5:36 (access.roles.operator[1].units[0]) does not fit --unit-ids 1,2" +
				": unit 3: plcsim serves only units 1, 2 (0 and 255 address unit 1), so a grant for it never applies\n"},
		{"one unit, several wrong", []string{"--unit-ids", "5", "--access", rules("5, 6, 9")},
			"plcsim: --access " + rules("5, 6, 9") + ":5:39 (access.roles.operator[1].units[1]) does not fit --unit-ids 5" +
				": unit 6: plcsim serves only unit 5 (0 and 255 address unit 5), so a grant for it never applies (and 1 more units like it)\n"},
		{"0 listed first", []string{"--unit-ids", "0,3", "--access", rules("4")},
			"plcsim: --access " + rules("4") + ":5:36 (access.roles.operator[1].units[0]) does not fit --unit-ids 0,3" +
				": unit 4: plcsim serves only units 0, 3 (255 addresses unit 0), so a grant for it never applies\n"},
		{"the units listed", []string{"--unit-ids", "1,2", "--access", rules(`"1-2"`)}, ""},
		{"0 and 255 address the first", []string{"--unit-ids", "3", "--access", rules("0, 3, 255")}, ""},
		{"no --unit-ids: every unit served", []string{"--access", rules("7")}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			servedOrRefused(t, append([]string{"--listen", "127.0.0.1:0"}, tc.args...), tc.want)
		})
	}
}

// TestAccessUnitsWithUnitIDsReload: a SIGHUP reload of --access is checked
// against --unit-ids as the start was: a file naming a unit not served
// keeps the rules in force and logs why.
func TestAccessUnitsWithUnitIDsReload(t *testing.T) {
	reloadRefused(t, []string{"--unit-ids", "1,2"}, "access:\n  roles:\n    operator: {functions: [all], units: [1, 2]}\n", "access:\n  roles:\n    operator: {functions: [all], units: [1, 7]}\n", `:3:45 (access.roles.operator.units[1]) does not fit --unit-ids 1,2: unit 7: plcsim serves only units 1, 2 (0 and 255 address unit 1), so a grant for it never applies`)
}

// servedOrRefused runs plcsim with args: with want empty it must serve and
// stop cleanly, else refuse to start with exit 2 and exactly want on
// stderr.
func servedOrRefused(t *testing.T, args []string, want string) {
	t.Helper()
	if want == "" {
		_, stop := startDevices(t, args...)
		if code := stop(); code != exitOK {
			t.Errorf("plcsim %q: exit %d, want it served and stopped cleanly", args, code)
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // see TestAccessUnitsWithPlant
	defer cancel()
	var errb syncBuf
	code := run(ctx, append([]string{"--log-format", "json"}, args...), &syncBuf{}, &errb)
	if code != exitUsage || errb.String() != want {
		t.Errorf("plcsim %q: exit %d, stderr:\n%s\nwant exit 2 and:\n%s", args, code, errb.String(), want)
	}
}

// reloadRefused starts plcsim with args and --access holding before, then
// writes after into that file and sends SIGHUP: the reload must be refused,
// the log saying so with the file's path followed by want, and the rules
// not reloaded.
func reloadRefused(t *testing.T, args []string, before, after, want string) {
	t.Helper()
	keep := make(chan os.Signal, 1) // see TestAccessFileReload
	signal.Notify(keep, syscall.SIGHUP)
	defer signal.Stop(keep)
	path := filepath.Join(t.TempDir(), "rules.yaml")
	os.WriteFile(path, []byte(before), 0o600)
	logs, _ := startDevices(t, append(args, "--listen", "127.0.0.1:0", "--access", path)...)
	os.WriteFile(path, []byte(after), 0o600)
	sighup(t)
	const notReloaded = "access rules not reloaded, the old rules stay: --access "
	testutil.WaitFor(t, 5*time.Second, "the reload refused", func() bool { return strings.Contains(logs.String(), notReloaded) })
	if want := path + want; !strings.Contains(logs.String(), want) {
		t.Errorf("logs do not say why:\n%s\nwant %q", logs.String(), want)
	}
	if strings.Contains(logs.String(), `"message":"access rules reloaded"`) {
		t.Errorf("the rules were reloaded:\n%s", logs.String())
	}
}
