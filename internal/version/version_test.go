package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFormat(t *testing.T) {
	stamped := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/plcctl/plcctl", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "82dde931b865"}, {Key: "vcs.time", Value: "2026-12-01T22:14:10Z"},
			{Key: "vcs.modified", Value: "true"}}}
	tests := []struct {
		name     string
		bi       *debug.BuildInfo
		revision string
		want     string
	}{
		{"stamped", stamped, "", "plcsim v1.2.3 (revision 82dde931b865, modified, 2026-12-01T22:14:10Z, go1.26.8)"},
		{"stamped beats -X", stamped, "ffff", "plcsim v1.2.3 (revision 82dde931b865, modified, 2026-12-01T22:14:10Z, go1.26.8)"},
		{"devel, -X revision", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, "abc123",
			"plcsim (devel) (revision abc123, go1.26.8)"},
		{"no version at all", &debug.BuildInfo{GoVersion: "go1.26.8"}, "", "plcsim (devel) (go1.26.8)"},
		{"no build info", nil, "", "plcsim unknown version (no build information)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			saved := Revision
			Revision = tc.revision
			defer func() { Revision = saved }()
			if got := format("plcsim", tc.bi); got != tc.want {
				t.Errorf("format = %q, want %q", got, tc.want)
			}
		})
	}
}

// The test binary has build information: String names the program and the
// toolchain that built it.
func TestStringOfThisBinary(t *testing.T) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build information in the test binary")
	}
	got := String("plcctl")
	if !strings.HasPrefix(got, "plcctl ") || !strings.Contains(got, bi.GoVersion) {
		t.Errorf("String = %q, want it to start with the name and name %s", got, bi.GoVersion)
	}
}
