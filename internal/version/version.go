// Package version reports the version of plcctl and plcsim from the build
// information the Go toolchain embeds: the module version and the VCS
// revision the binary was built from.
package version

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
)

// Revision is the VCS revision, set by the Makefile with -ldflags -X for
// builds where the toolchain cannot stamp it (a git work tree added with
// "git worktree add", -buildvcs=false); the build information's own
// vcs.revision wins when present.
var Revision string

var errNoBuildInfo = errors.New("no build information")

// String is "NAME VERSION (revision REV[, modified], GOVERSION)" from
// the build information: the module version ("(devel)" for a build from a
// work tree) and the VCS revision the binary was built from.
func String(name string) string {
	return format(name, readBuildInfo())
}

var readBuildInfo = func() *debug.BuildInfo {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	return bi
}

func format(name string, bi *debug.BuildInfo) string {
	if bi == nil {
		return name + " unknown version (" + errNoBuildInfo.Error() + ")"
	}
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var rev, modified, vcsTime string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		case "vcs.time":
			vcsTime = s.Value
		}
	}
	if rev == "" && Revision != "" {
		rev = Revision
	}
	var parts []string
	if rev != "" {
		parts = append(parts, "revision "+rev+modified)
	}
	if vcsTime != "" {
		parts = append(parts, vcsTime)
	}
	parts = append(parts, bi.GoVersion)
	return fmt.Sprintf("%s %s (%s)", name, version, strings.Join(parts, ", "))
}
