package limitfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	os.WriteFile(small, []byte("12345"), 0o644)
	if b, err := Read(small, 5); err != nil || string(b) != "12345" {
		t.Errorf("Read(5 bytes, max 5) = %q, %v", b, err)
	}
	var tl *TooLargeError
	if _, err := Read(small, 4); !errors.As(err, &tl) || err.Error() != small+" is larger than 4 bytes" {
		t.Errorf("Read(5 bytes, max 4) = %v, want a *TooLargeError", err)
	}
	// A device that never ends is refused after max+1 bytes.
	if _, err := os.Stat("/dev/zero"); err == nil {
		if _, err := Read("/dev/zero", 1<<20); !errors.As(err, &tl) || err.Error() != "/dev/zero is larger than 1 MiB" {
			t.Errorf("Read(/dev/zero) = %v, want a *TooLargeError", err)
		}
	}
	if _, err := Read(filepath.Join(dir, "none"), 10); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Read(missing) = %v, want fs.ErrNotExist", err)
	}
	if _, err := Read(dir, 10); err == nil {
		t.Errorf("Read(a directory) = nil error")
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{8 << 20: "8 MiB", 1 << 30: "1 GiB", 64 << 10: "64 KiB", 1000: "1000 bytes", 1<<20 + 1: "1048577 bytes"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}
