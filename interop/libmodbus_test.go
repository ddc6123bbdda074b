package interop_test

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

// TestLibmodbusClient builds testdata/interop/libmodbus_client.c against
// Debian's libmodbus and runs it against plcsim: every function code the
// libmodbus client API offers, values checked by the C program itself.
func TestLibmodbusClient(t *testing.T) {
	gcc := needPeer(t, "gcc", "gcc")
	pkgConfig := needPeer(t, "pkg-config", "pkg-config")
	flags := runPeer(t, 30*time.Second, pkgConfig, "--cflags", "--libs", "libmodbus")
	if flags.code != 0 {
		if inCI() {
			t.Fatalf("libmodbus not found by pkg-config: install Debian package libmodbus-dev\n%s", flags.stderr)
		}
		t.Skip("libmodbus not found by pkg-config: apt-get install libmodbus-dev")
	}
	bin := filepath.Join(t.TempDir(), "libmodbus_client")
	src := filepath.Join(repoRoot(), "testdata", "interop", "libmodbus_client.c")
	args := append([]string{"-Wall", "-Wextra", "-Werror", "-O2", "-o", bin, src}, strings.Fields(flags.stdout)...)
	if out, err := exec.Command(gcc, args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %s: %v\n%s", strings.Join(args, " "), err, out)
	}

	s := simtest.Start(t, simulator.Config{})
	host, port, _ := strings.Cut(s.Addr, ":")
	r := runPeer(t, 60*time.Second, bin, host, port)
	t.Logf("libmodbus client output:\n%s", r.stdout)
	if r.code != 0 || strings.Contains(r.stdout, "FAIL") {
		t.Fatalf("libmodbus client exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	m := regexp.MustCompile(`(?m)^(\d+) passed, 0 failed$`).FindStringSubmatch(r.stdout)
	if m == nil || m[1] == "0" {
		t.Fatalf("no passing summary line in libmodbus client output")
	}
	if st := s.Stats(); st.Resets != 0 || st.FramingFaults != 0 || st.MalformedPDUs != 0 {
		t.Fatalf("plcsim saw faults from libmodbus: %+v", st)
	}
}
