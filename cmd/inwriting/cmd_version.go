package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is set at build time with -ldflags "-X main.Version=…"; otherwise
// it comes from the module's build information.
var Version = ""

var versionCommand = &command{
	name:     "version",
	summary:  "Print the version of inwriting.",
	nargs:    0,
	noConfig: true,
	run: func(ctx context.Context, m *Main) error {
		fmt.Fprintf(m.Stdout, "inwriting %s (%s, %s/%s)\n", version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return nil
	},
}

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "devel " + s.Value[:12]
			}
		}
	}
	return "devel"
}
