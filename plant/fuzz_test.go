package plant

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: no input makes Parse panic or hang; a file it accepts can be
// planned and imaged, and every error names the file.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../testdata/plants/*.yaml")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(head + "      - {name: a, table: hr, address: 0, sim: {kind: follow, tag: a}}\n"))
	f.Add([]byte("version: 1\ndevices: [{name: d, units: [{id: 1, coils: [\"1-0x10\"]}]}]\n"))
	f.Add([]byte("&a [*a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if p != nil {
				t.Fatal("Parse returned a plant and an error")
			}
			return
		}
		PlanReads(p.Tags, PlanOptions{MaxGap: 3})
		for _, d := range p.Devices {
			for _, u := range d.Units {
				if err := u.Preload(newFake()); err != nil {
					t.Fatalf("Preload of a parsed plant: %v", err)
				}
			}
		}
	})
}
