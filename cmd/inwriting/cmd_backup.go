package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/inwriting/inwriting/agreements"
)

// backupOptions are the flags of backup.
type backupOptions struct {
	check bool
}

var backupCommand = &command{
	name:    "backup",
	summary: "Copy the database, while the service runs, to a new file, and prove the copy whole.",
	usage:   "FILE",
	nargs:   1,
	help: `
The copy is one consistent snapshot (SQLite's VACUUM INTO), taken while
"serve" goes on reading and writing; FILE must not exist. The copy is
then checked as --check does: SQLite finds no fault in it, and every
agreement's event log is an unbroken hash chain up to its head.

To restore: stop serve, move the database and its -wal and -shm files
aside, copy the backup to the database's path (see "database" in the
configuration), and start serve; or point "database" at the copy.

Examples:
  inwriting backup /var/backups/inwriting-$(date +%F).db
  inwriting backup --check /var/backups/inwriting-2026-12-01.db`,
	flags: func(fs *flag.FlagSet, m *Main) {
		fs.BoolVar(&m.backupOpts.check, "check", false, "check FILE, an existing copy, instead of writing one")
	},
	run: func(ctx context.Context, m *Main) error {
		path := m.args[0]
		if !m.backupOpts.check {
			db, err := m.openDB(ctx)
			if err != nil {
				return err
			}
			if err := db.Backup(ctx, path); err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "Copied %s to %s.\n", m.Config.Database, path)
		}
		return m.checkDatabase(ctx, path)
	},
}

// checkDatabase checks the database at path and says what it found; one
// that is not whole is an error.
func (m *Main) checkDatabase(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return err // opening would make a new, empty database
	}
	db := agreements.NewDB(path)
	db.Logger = m.Logger
	if err := db.Open(ctx); err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	rep, err := db.Check(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%s: %s\n", path, rep)
	if !rep.Whole() {
		return errors.New("the database is not whole")
	}
	return nil
}
