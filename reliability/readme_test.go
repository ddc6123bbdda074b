package reliability

import (
	"os"
	"strings"
	"testing"

	"github.com/plcctl/plcctl/simulator"
)

// TestREADMEFaultTable: the README's fault table has a row for every
// action, and every action has a case in the matrix.
func TestREADMEFaultTable(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	inMatrix := map[simulator.FaultAction]bool{}
	for _, fc := range faultCases {
		inMatrix[fc.rule.Action] = true
	}
	for a := simulator.FaultAction(1); !strings.HasPrefix(a.String(), "fault("); a++ {
		if !strings.Contains(readme, "\n| `"+a.String()+"`") {
			t.Errorf("README fault table has no row for %s", a)
		}
		if !inMatrix[a] {
			t.Errorf("the matrix has no case for %s", a)
		}
	}
	for _, k := range simulator.FaultKeys {
		if !strings.Contains(readme, "`"+k+"`") && !strings.Contains(readme, "`"+k+"=") {
			t.Errorf("README does not document rule key %s", k)
		}
	}
}
