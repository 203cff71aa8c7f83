package agreements

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// ErrNewerDatabase is returned by Open when the database was migrated by a
// newer inwriting than this one.
var ErrNewerDatabase = errors.New("the database was written by a newer inwriting; upgrade the binary")

// DB is the SQLite store. Create it with NewDB, then Open it.
type DB struct {
	// Path is the database file, or ":memory:" for a private in-memory
	// database.
	Path string

	// Now is the one clock of the store; it is read once per transaction.
	Now func() time.Time

	// Logger receives the store's log lines.
	Logger *slog.Logger

	// MessageIDDomain ends the Message-IDs of queued mail: the domain of
	// the service's address.
	MessageIDDomain string

	// ConfirmFor is how long a version waits for confirmation before it
	// expires; mails asking to confirm say until when.
	ConfirmFor time.Duration

	// RemindAfter is when a version that waits for confirmation gets its
	// one reminder; 0 for none.
	RemindAfter time.Duration

	// RoundFor is how long each party of a check-in round has to answer,
	// from their own check-in; the digests go when all have answered or
	// the last party's time is up.
	RoundFor time.Duration

	// Night is the time of day, in each reader's own zone, when no mail
	// they did not ask for goes to them: what would go then waits for its
	// end. A check-in or a reminder of the terms comes at the time the
	// parties chose, and an answer to a reader's own message comes at
	// once. The zero Night is none.
	Night Night

	// ServiceAddress is the service's own mailbox: mail from it is ignored.
	ServiceAddress string

	// RequireAuth makes a reply count only when the receiving server's
	// Authentication-Results show DKIM or DMARC passing; it holds for a
	// message that starts an agreement too.
	RequireAuth bool

	// Start says who may start an agreement by writing to the service's
	// address, and the limits on it; the zero value lets nobody.
	Start StartRules

	// Mailer, if set, is told after a commit that queued mail.
	Mailer Mailer

	// Reader reads each reply once the store knows which mail it answers;
	// RecordInbound needs it.
	Reader Reader

	// AnswersPerDay is how many of one party's replies in 24 hours are
	// answered (receipts, "we could not tell", comments passed on); the
	// rest are recorded where they change something, and not answered.
	// It breaks a mail loop that no detector caught.
	AnswersPerDay int

	db *sql.DB

	// The checkpointer (see checkpoints); nil for an in-memory database.
	ckpt     *sql.DB
	ckptWake chan struct{} // never closed: a commit may come after Close
	ckptStop chan struct{}
	ckptDone chan struct{}
}

// driverName is go-sqlite3's driver, with the store's settings for each
// connection that the DSN cannot carry.
const driverName = "sqlite3_inwriting"

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		// The checkpointer copies the log into the database after
		// commits; a connection that commits does so itself only should
		// the log pass 10,000 pages (40 MiB), not every 1,000.
		_, err := c.Exec("PRAGMA wal_autocheckpoint = 10000", nil)
		return err
	}})
}

// NewDB returns a DB for the file at path, with a real clock and the
// default logger.
func NewDB(path string) *DB {
	return &DB{Path: path, Now: time.Now, Logger: slog.Default(), MessageIDDomain: "inwriting.invalid", ConfirmFor: 7 * 24 * time.Hour, RemindAfter: 48 * time.Hour, RoundFor: 24 * time.Hour, AnswersPerDay: 3}
}

// Open opens the database, creating it if needed, and applies the embedded
// migrations that it lacks.
func (db *DB) Open(ctx context.Context) error {
	if db.Path == "" {
		return fmt.Errorf("open db: no path given")
	}
	q := url.Values{}
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", "10000")
	q.Set("_txlock", "immediate")
	// Reuse prepared statements: the same few queries run for every message.
	q.Set("_stmt_cache_size", "64")
	// A 16 MiB page cache (SQLite's default is 2 MiB): a scheduler pass
	// adds to the ends of a dozen indexes, and keeps their last pages.
	// More does not make a pass faster (the due agreements' own pages are
	// cold whatever the size), and a larger cache's growth slows the first
	// pass of a process.
	q.Set("_cache_size", "-16384")
	var dsn string
	if db.Path == ":memory:" {
		// One shared in-memory database for the pool's one connection.
		q.Set("mode", "memory")
		q.Set("cache", "shared")
		dsn = fmt.Sprintf("file:inwriting-%d?%s", memSeq.Add(1), q.Encode())
	} else {
		q.Set("_journal_mode", "WAL")
		q.Set("_synchronous", "NORMAL")
		dsn = "file:" + (&url.URL{Path: db.Path}).EscapedPath() + "?" + q.Encode()
	}
	sdb, err := sql.Open(driverName, dsn)
	if err != nil {
		return fmt.Errorf("open db: %w", err)
	}
	// One connection: SQLite has one writer, and one connection serializes
	// our transactions without SQLITE_BUSY inside the process.
	sdb.SetMaxOpenConns(1)
	sdb.SetConnMaxIdleTime(0)
	db.db = sdb
	if err := sdb.PingContext(ctx); err != nil {
		return fmt.Errorf("open db %s: %w", db.Path, err)
	}
	if err := db.migrate(ctx); err != nil {
		return fmt.Errorf("migrate db %s: %w", db.Path, err)
	}
	if db.Path != ":memory:" {
		ckpt, err := sql.Open(driverName, dsn)
		if err != nil {
			return fmt.Errorf("open db: %w", err)
		}
		ckpt.SetMaxOpenConns(1)
		db.ckpt, db.ckptWake, db.ckptStop, db.ckptDone = ckpt, make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
		go db.checkpoints()
	}
	return nil
}

// checkpoints copies what the write-ahead log holds into the database
// file, on a connection of its own, after commits (Tx.Commit wakes it):
// the connection that commits does not stop to do it, as it would every
// 1,000 pages by SQLite's default. A PASSIVE checkpoint waits for no
// reader or writer; what it cannot copy yet, the next one does.
func (db *DB) checkpoints() {
	defer close(db.ckptDone)
	for {
		select {
		case <-db.ckptStop:
			return
		case <-db.ckptWake:
			if _, err := db.ckpt.Exec("PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
				db.Logger.Warn("checkpoint", "err", err)
			}
		}
	}
}

// Close closes the database. It is safe to call on a DB that did not open.
func (db *DB) Close() error {
	if db.db == nil {
		return nil
	}
	if db.ckpt != nil {
		close(db.ckptStop)
		<-db.ckptDone
		db.ckpt.Close()
		db.ckpt = nil
	}
	return db.db.Close()
}

// SQL returns the underlying *sql.DB, for the store's own packages' tests
// and the benchmarks.
func (db *DB) SQL() *sql.DB { return db.db }

// migrations returns the embedded migrations, sorted by number.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		n, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name is not NNNN_name.sql", base)
		}
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{num: n, name: base, sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].num < ms[j].num })
	for i, m := range ms {
		if m.num != i+1 {
			return nil, fmt.Errorf("migration %s: expected number %04d", m.name, i+1)
		}
	}
	return ms, nil
}

type migration struct {
	num  int
	name string
	sql  string
}

// migrate applies each embedded migration the database lacks, each in its
// own transaction, and refuses a database that has migrations this binary
// does not know.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (
		number INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return err
	}
	ms, err := migrations()
	if err != nil {
		return err
	}
	var applied int
	if err := db.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(number), 0) FROM migrations`).Scan(&applied); err != nil {
		return err
	}
	if applied > len(ms) {
		return fmt.Errorf("%w (database at migration %d, this binary knows %d)", ErrNewerDatabase, applied, len(ms))
	}
	for _, m := range ms[applied:] {
		if err := db.applyMigration(ctx, m); err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		db.Logger.Debug("migration applied", "migration", m.name)
	}
	return nil
}

func (db *DB) applyMigration(ctx context.Context, m migration) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO migrations (number, name, applied_at) VALUES (?, ?, ?)`,
		m.num, m.name, formatTime(db.Now())); err != nil {
		return err
	}
	return tx.Commit()
}

// Tx is a transaction with the time it started, read once from the clock.
type Tx struct {
	*sql.Tx
	db     *DB
	now    time.Time
	queued bool // mail was queued: tell the Mailer after commit

	// While an inbound message is handled: answers counts the mails
	// queued, and quiet drops the mails that would answer it (see
	// breakLoop).
	answers int
	quiet   bool
}

// Commit commits tx, wakes the checkpointer and, when tx queued mail,
// tells the Mailer.
func (tx *Tx) Commit() error {
	if err := tx.Tx.Commit(); err != nil {
		return err
	}
	select {
	case tx.db.ckptWake <- struct{}{}:
	default: // a checkpoint is coming already (or there is none to make)
	}
	if tx.queued && tx.db.Mailer != nil {
		tx.db.Mailer.Notify()
	}
	return nil
}

// begin starts a write transaction (BEGIN IMMEDIATE, from the DSN).
func (db *DB) begin(ctx context.Context) (*Tx, error) {
	if db.db == nil {
		return nil, fmt.Errorf("db is not open")
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	return &Tx{Tx: tx, db: db, now: db.Now().UTC().Truncate(time.Second)}, nil
}

// CheckWritable takes the database's write lock and lets it go again,
// writing nothing: it fails when the database cannot be written (a
// read-only file, another writer holding it past the busy timeout).
func (db *DB) CheckWritable(ctx context.Context) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	return tx.Rollback()
}

// formatTime renders t as stored: UTC RFC 3339.
func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// parseTime reads a time stored by formatTime.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// isUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY failure.
func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
}

var memSeq atomic.Int64
