package simulator_test

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/plcctl/plcctl/simulator"
)

func TestStateFileRoundTrip(t *testing.T) {
	s, _ := simulator.New(rangedUnits())
	s.Unit(1).SetHoldingRegisters(20, 1, 2, 3)
	s.Unit(2).SetHoldingRegisters(0, 9)
	for _, m := range s.Memories() {
		c, _, h, _ := m.Layout()
		m.SetRetentive(&simulator.Selection{Coils: c, HoldingRegisters: h})
	}
	path := filepath.Join(t.TempDir(), "s.state")
	fp := s.Fingerprint("x")
	if err := simulator.SaveState(path, fp, s.RetentiveSnapshot()); err != nil {
		t.Fatal(err)
	}
	snap, ok, err := simulator.LoadState(path, fp)
	if err != nil || !ok {
		t.Fatalf("LoadState = %v, %v", ok, err)
	}
	if !reflect.DeepEqual(snap, s.RetentiveSnapshot()) {
		t.Fatalf("loaded %+v\nwant %+v", snap, s.RetentiveSnapshot())
	}
	if _, _, err := simulator.LoadState(path, s.Fingerprint("y")); !errors.Is(err, simulator.ErrStateMismatch) {
		t.Fatalf("another fingerprint: %v, want ErrStateMismatch", err)
	}
	if _, ok, err := simulator.LoadState(filepath.Join(t.TempDir(), "none"), fp); ok || err != nil {
		t.Fatalf("missing file: %v, %v; want not ok and no error", ok, err)
	}
	other, _ := simulator.New(simulator.Config{})
	if s.Fingerprint("") == other.Fingerprint("") {
		t.Fatal("different layouts share a fingerprint")
	}
}

// FuzzLoadState: any file content is loaded as a state or refused as
// corrupt (or another layout's), never a panic; what loads restores or is
// refused cleanly.
func FuzzLoadState(f *testing.F) {
	s, _ := simulator.New(rangedUnits())
	for _, m := range s.Memories() {
		c, _, h, _ := m.Layout()
		m.SetRetentive(&simulator.Selection{Coils: c, HoldingRegisters: h})
	}
	s.Unit(1).SetHoldingRegisters(1, 5, 6)
	dir := f.TempDir()
	good := filepath.Join(dir, "good")
	if err := simulator.SaveState(good, "fp", s.RetentiveSnapshot()); err != nil {
		f.Fatal(err)
	}
	b, _ := os.ReadFile(good)
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte(`{"format":"plcsim-state/1","fingerprint":"fp","checksum":"","units":{}}`))
	f.Add([]byte("null"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "s")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		snap, ok, err := simulator.LoadState(p, "fp")
		if err != nil {
			if !errors.Is(err, simulator.ErrStateCorrupt) && !errors.Is(err, simulator.ErrStateMismatch) {
				t.Fatalf("LoadState error %v is neither corrupt nor mismatch", err)
			}
			return
		}
		if ok {
			s.RestoreRetentive(snap) // may refuse; must not panic
		}
	})
}

// TestStateNotRegular: a state file that is a socket, a pipe or a device
// is refused by LoadState and PrepareState. LoadState read /dev/zero
// without end, and a save renamed its temporary file over the path: as
// root, over /dev/null, it would replace the device.
func TestStateNotRegular(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", sock) // a socket file, no traffic
	if err != nil {
		t.Skip(err)
	}
	defer ln.Close()
	want := "simulator: state file " + sock + " is not a regular file but a socket; give the name of a file"
	if _, _, err := simulator.LoadState(sock, "fp"); err == nil || err.Error() != want {
		t.Errorf("LoadState(socket) = %v, want %q", err, want)
	}
	if _, err := simulator.PrepareState(sock, "fp", simulator.ServerSnapshot{}); err == nil || err.Error() != want {
		t.Errorf("PrepareState(socket) = %v, want %q", err, want)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode()&fs.ModeSocket == 0 {
		t.Errorf("the socket file was replaced: %v, %v", fi, err)
	}
}
