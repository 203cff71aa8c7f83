package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// command is one of the CLI's commands.
type command struct {
	name     string
	summary  string
	usage    string // the arguments, e.g. "ID"
	help     string // more text for --help
	nargs    int    // the number of arguments, or -1 for any
	noConfig bool   // runs without loading the configuration
	flags    func(fs *flag.FlagSet, m *Main)
	run      func(ctx context.Context, m *Main) error
}

// commands is set in init, since some commands' help lists the others.
var commands []*command

func init() {
	commands = []*command{devCommand, serveCommand, newCommand, amendCommand, listCommand, showCommand, pauseCommand, resumeCommand, stopCommand, exportCommand, verifyCommand, backupCommand, outboxCommand, readReplyCommand, doctorCommand, versionCommand}
}

func findCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (c *command) argsHelp() string {
	switch c.nargs {
	case 0:
		return "no arguments"
	case 1:
		return "one argument: " + c.usage
	}
	return "the arguments " + c.usage
}

// flagSet returns the command's flags; its Usage writes to w.
func (c *command) flagSet(m *Main, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&m.configPath, "config", m.configPath, "the config `file` (default ./"+DefaultConfigFile+" if it exists)")
	if c.flags != nil {
		c.flags(fs, m)
	}
	fs.Usage = func() {
		fmt.Fprintf(w, "Usage: inwriting %s [flags] %s\n\n%s\n", c.name, c.usage, c.summary)
		if c.help != "" {
			fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.help))
		}
		fmt.Fprintf(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

func dirOf(path string) string { return filepath.Dir(path) }

// stringList is a flag that can be given many times.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ", ") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }
