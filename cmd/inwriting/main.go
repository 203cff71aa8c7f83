// Command inwriting is the inwriting service and its operator CLI: written
// agreements between two people, confirmed and checked in on by email.
//
// Run "inwriting help" for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	_ "time/tzdata" // parties' time zones work on machines without zoneinfo

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/mailin"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	os.Exit(m.Main(ctx, os.Args[1:]))
}

// Main is the program, with its input, output and environment as fields so
// that tests can run it in-process.
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	Now    func() time.Time

	// IsTerminal reports whether Stdin is a person at a terminal; "new"
	// asks its questions only then.
	IsTerminal func() bool

	// Resolver looks up DNS records for doctor; nil is the system's.
	Resolver Resolver

	// Program is how the user runs inwriting, for commands printed to be
	// run as they are; "" works it out (see program).
	Program string

	Config Config
	DB     *agreements.DB
	Logger *slog.Logger

	configPath    string
	cmd           *command
	args          []string
	newOpts       newOptions
	listOpts      listOptions
	exportOpts    exportOptions
	outboxOpts    outboxOptions
	readReplyOpts readReplyOptions
	devOpts       devOptions
	pauseOpts     pauseOptions
	amendOpts     amendOptions
	backupOpts    backupOptions
	verifyAll     bool

	// readiness is what serve's /readyz checks, and metrics what its
	// /metrics shows; nil until serve runs.
	readiness *readiness
	metrics   *metrics

	// tick is how often the scheduler runs (a minute; less when the dev
	// sandbox speeds its clock up).
	tick time.Duration
}

// NewMain returns a Main wired to the process's standard streams,
// environment and clock.
func NewMain() *Main {
	return &Main{
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Getenv: os.Getenv,
		Now:    time.Now,
		IsTerminal: func() bool {
			fi, err := os.Stdin.Stat()
			return err == nil && fi.Mode()&os.ModeCharDevice != 0
		},
	}
}

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// UsageError is a command line that cannot be run as written.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// Main parses args, runs the command and closes, and returns the exit code:
// 0 on success, 1 on failure, 2 on bad usage.
func (m *Main) Main(ctx context.Context, args []string) int {
	err := m.ParseFlags(ctx, args)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err == nil {
		err = m.Run(ctx)
	}
	if cerr := m.Close(); err == nil && cerr != nil {
		err = cerr
	}
	var ue *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ue):
		fmt.Fprintf(m.Stderr, "inwriting: %v\n", err)
		if m.cmd != nil {
			fmt.Fprintf(m.Stderr, "Run 'inwriting %s --help' for usage.\n", m.cmd.name)
		} else {
			fmt.Fprintln(m.Stderr, "Run 'inwriting help' for usage.")
		}
		return ExitUsage
	default:
		fmt.Fprintf(m.Stderr, "inwriting: %v\n", err)
		return ExitFailure
	}
}

// ParseFlags reads the command line: global flags, the command, and the
// command's flags and arguments. It returns flag.ErrHelp after printing
// help that was asked for.
func (m *Main) ParseFlags(ctx context.Context, args []string) error {
	global := flag.NewFlagSet("inwriting", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	global.StringVar(&m.configPath, "config", "", "")
	if err := global.Parse(args); errors.Is(err, flag.ErrHelp) {
		m.printHelp(m.Stdout)
		return flag.ErrHelp
	} else if err != nil {
		return usagef("%v", err)
	}
	args = global.Args()
	if len(args) == 0 {
		m.printHelp(m.Stderr)
		return usagef("no command given")
	}
	name := args[0]
	if name == "help" {
		if len(args) > 1 {
			if c := findCommand(args[1]); c != nil {
				c.flagSet(m, m.Stdout).Usage()
				return flag.ErrHelp
			}
			return usagef("unknown command %q", args[1])
		}
		m.printHelp(m.Stdout)
		return flag.ErrHelp
	}
	m.cmd = findCommand(name)
	if m.cmd == nil {
		return usagef("unknown command %q", name)
	}
	// Flags may come before or after the arguments: "export 1 --format json".
	fs := m.cmd.flagSet(m, m.Stdout)
	rest := args[1:]
	m.args = nil
	for {
		if err := fs.Parse(rest); errors.Is(err, flag.ErrHelp) {
			return flag.ErrHelp
		} else if err != nil {
			return usagef("%s: %v", name, err)
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		if rest[0] == "--" {
			m.args = append(m.args, rest[1:]...)
			break
		}
		m.args = append(m.args, rest[0])
		rest = rest[1:]
	}
	if m.cmd.nargs >= 0 && len(m.args) != m.cmd.nargs {
		return usagef("%s takes %s", name, m.cmd.argsHelp())
	}
	return nil
}

// Run loads the configuration and runs the parsed command.
func (m *Main) Run(ctx context.Context) error {
	if m.cmd == nil {
		return usagef("no command given")
	}
	if !m.cmd.noConfig {
		c, err := LoadConfig(m.configPath, m.Getenv)
		if err != nil {
			return err
		}
		m.Config = c
		m.Logger = newLogger(m.Stderr, c.Log)
	}
	return m.cmd.run(ctx, m)
}

// Close releases what Run opened: the database last.
func (m *Main) Close() error {
	if m.DB != nil {
		err := m.DB.Close()
		m.DB = nil
		return err
	}
	return nil
}

// openDB opens the configured database, creating its folder on first use.
func (m *Main) openDB(ctx context.Context) (*agreements.DB, error) {
	if m.DB != nil {
		return m.DB, nil
	}
	if err := os.MkdirAll(dirOf(m.Config.Database), 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	db := agreements.NewDB(m.Config.Database)
	db.Now = m.Now
	db.Logger = m.Logger
	db.Reader = mailin.Reader{}
	if _, domain, ok := strings.Cut(m.Config.Service.Address, "@"); ok {
		db.MessageIDDomain = domain
	}
	m.configureDB(db)
	if err := db.Open(ctx); err != nil {
		db.Close()
		return nil, err
	}
	m.DB = db
	return db, nil
}

func newLogger(w io.Writer, c LogConfig) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(c.Level)) // validated by Config.Validate
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func (m *Main) printHelp(w io.Writer) {
	fmt.Fprint(w, `inwriting keeps written agreements between two people, confirmed and
checked in on by email.

Usage:
  inwriting [--config FILE] COMMAND [flags] [arguments]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, `
Run 'inwriting COMMAND --help' for a command's flags.

Configuration: --config FILE, else %s in the working folder if it
exists. Every key can be set by an environment variable:
`, DefaultConfigFile)
	for _, n := range EnvNames() {
		fmt.Fprintf(w, "  %s\n", n)
	}
}
