package plant

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadBounded: a plant or access file is read up to its limit and no
// further; a wrong file given as one (a disk image, /dev/zero) was read
// whole into memory before Parse refused its size.
func TestLoadBounded(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, make([]byte, maxFileSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	paths := []string{big}
	if _, err := os.Stat("/dev/zero"); err == nil {
		paths = append(paths, "/dev/zero") // never ends: only the new code may be run on it
	}
	for _, p := range paths {
		if _, err := Load(p); err == nil || err.Error() != "plant: "+p+" is larger than 8 MiB, more than a plant file may have" {
			t.Errorf("Load(%s) = %v", p, err)
		}
		if _, err := LoadAccess(p); err == nil || !strings.HasSuffix(err.Error(), "more than an access file may have") {
			t.Errorf("LoadAccess(%s) = %v", p, err)
		}
	}
}
