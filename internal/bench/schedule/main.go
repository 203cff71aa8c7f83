// Command schedule measures one scheduler pass: it loads N active
// agreements into SQLite, of which D are due, and times the pass that opens
// their rounds and queues their check-in mail; it prints the time, the CPU
// and the peak RSS. Run it at two sizes to see the pass grow with D, not N:
//
//	go run ./internal/bench/schedule -n 100000 -due 1000
//	go run ./internal/bench/schedule -n 1000000 -due 10000
//
// The pass measured is the second in its process, as nearly every pass of
// serve is: the first, over another D agreements due the day before, also
// grows SQLite's page cache and the Go heap, and is printed too.
//
// The due agreements are spread over the table, as agreements made over
// months would be; -contiguous makes them the first ones instead, which
// shows what the pass costs when the pages it touches are few.
//
// Loading a million agreements takes minutes; -db keeps the loaded
// database in a file and, when the file is there, measures a pass on a
// copy of it instead of loading again:
//
//	go run ./internal/bench/schedule -n 1000000 -due 10000 -db /tmp/1m.db
package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/inwriting/inwriting/agreements"
)

func main() {
	n := flag.Int("n", 100000, "active agreements")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the pass measured to `file`")
	due := flag.Int("due", 1000, "of which due in the pass measured (and as many the day before); at most half of -n")
	flag.BoolVar(&contiguous, "contiguous", false, "make the due agreements the first ones, side by side, instead of spread over the table")
	flag.StringVar(&keep, "db", "", "keep the loaded database in `file`, or measure on a copy of it if it is there (made with the same -n, -due and -contiguous, by the same inwriting)")
	flag.Parse()
	if *due < 1 || 2**due > *n {
		log.Fatalf("-due %d: it must be at least 1 and at most half of -n (%d)", *due, *n)
	}
	profile = *cpuprofile
	if err := run(*n, *due); err != nil {
		log.Fatal(err)
	}
}

var (
	profile    string
	contiguous bool
	keep       string
)

func run(n, due int) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "inwriting-bench-schedule-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	now := time.Date(2027, 3, 7, 19, 30, 0, 0, time.UTC) // a Sunday, after 19:00 UTC
	path := filepath.Join(dir, "db")
	loaded := false
	if keep != "" {
		if _, err := os.Stat(keep); err == nil {
			if err := copyFile(path, keep); err != nil {
				return err
			}
			loaded = true
			fmt.Printf("measuring on a copy of %s\n", keep)
		}
	}
	db := agreements.NewDB(path)
	db.Now = func() time.Time { return now }
	db.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := db.Open(ctx); err != nil {
		return err
	}
	defer db.Close()

	if !loaded {
		start := time.Now()
		if err := load(ctx, db, n, due, now); err != nil {
			return err
		}
		fmt.Printf("loaded %d active agreements (%d due) in %v\n", n, due, time.Since(start).Round(time.Millisecond))
		if keep != "" {
			if _, err := db.SQL().ExecContext(ctx, `VACUUM INTO ?`, keep); err != nil {
				return fmt.Errorf("keep the loaded database: %w", err)
			}
		}
	}

	// Loading took memory of its own: the peak that counts starts here.
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		fmt.Printf("(the peak RSS printed includes loading: %v)\n", err)
	}
	// The first pass in a new process also grows SQLite's page cache and
	// the Go heap; serve pays that once. So the rounds of other agreements,
	// due the day before at noon, open first, and their nudges and digests
	// go out, before the pass that is measured.
	sunday := now
	saturday := time.Date(now.Year(), now.Month(), now.Day()-1, 12, 30, 0, 0, time.UTC)
	if err := pass(ctx, db, "first pass in this process (Saturday noon's rounds)", saturday, &now, due, "opened"); err != nil {
		return err
	}
	if err := pass(ctx, db, "their nudges", saturday.Add(12*time.Hour), &now, 2*due, "nudges"); err != nil {
		return err
	}
	if err := pass(ctx, db, "their digests", saturday.Add(24*time.Hour), &now, due, "digests"); err != nil {
		return err
	}
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
	}
	err = pass(ctx, db, "the pass measured (Sunday 19:00's rounds)", sunday, &now, due, "opened")
	if profile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return err
	}
	// The pass leaves the copying of its log into the database to the
	// store's checkpointer, on another connection: how long until it is
	// all copied.
	start := time.Now()
	for {
		var busy, logged, copied int
		if err := db.SQL().QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logged, &copied); err != nil {
			return err
		}
		if busy == 0 && copied == logged {
			fmt.Printf("    the log was all copied into the database %v after the pass\n", time.Since(start).Round(time.Millisecond))
			break
		}
		time.Sleep(time.Millisecond)
	}
	start = time.Now()
	st, err := db.RunSchedule(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("a pass with nothing due: %v, %d opened\n", time.Since(start).Round(time.Millisecond), st.Opened)
	return nil
}

// pass runs one scheduler pass with the store's clock at at, prints what
// it did and cost, and checks that it did as many things of kind
// ("opened", "nudges" or "digests") as want.
func pass(ctx context.Context, db *agreements.DB, what string, at time.Time, clock *time.Time, want int, kind string) error {
	*clock = at
	before := peakRSS()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start, cpu0 := time.Now(), cpuTime()
	st, err := db.RunSchedule(ctx)
	if err != nil {
		return err
	}
	took := time.Since(start)
	cpu1 := cpuTime()
	runtime.ReadMemStats(&m1)
	got := map[string]int{"opened": st.Opened, "nudges": st.Nudges, "digests": st.Digests}[kind]
	fmt.Printf("%s: %d rounds opened, %d check-ins, %d nudges and %d digests queued in %v (%.0f µs each); peak RSS %d MiB (%d MiB before)\n",
		what, st.Opened, st.CheckIns, st.Nudges, st.Digests, took.Round(time.Millisecond), float64(took.Microseconds())/float64(max(got, 1)), peakRSS()>>20, before>>20)
	fmt.Printf("    CPU %v in user space, %v in the kernel; %d MiB of Go heap allocated\n",
		(cpu1[0] - cpu0[0]).Round(time.Millisecond), (cpu1[1] - cpu0[1]).Round(time.Millisecond), (m1.TotalAlloc-m0.TotalAlloc)>>20)
	if got != want {
		return fmt.Errorf("%s: %d %s, want %d", what, got, kind, want)
	}
	return nil
}

// load inserts n active agreements between two parties in Lisbon and
// London (both on UTC in early March), checking in every Sunday at 19:00;
// due of them have their next round at 19:00 today, the others next
// Sunday, but for another due that check in on Saturdays at noon, whose
// round was due yesterday. Each set is spread evenly over the table, as
// agreements made over months would be (or, with -contiguous, the first
// due agreements and the due after them). They are as activation leaves
// them: each with its canonical text, and each party with the commands
// token and thread of the mail that told them so.
func load(ctx context.Context, db *agreements.DB, n, due int, now time.Time) error {
	sql := db.SQL()
	tx, err := sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	terms := agreements.Terms{
		Title: "Rebuilding trust after the missed dinners", WhatWentWrong: "Plans were made and then dropped at the last minute, more than once.",
		Parties: []agreements.Party{
			{Name: "Alice Example", Address: "alice@example.test", TimeZone: "Europe/Lisbon", Commitments: []string{
				"Call at least an hour ahead when a plan has to change.", "Keep Sunday evenings free for us."}},
			{Name: "Bob Example", Address: "bob@example.test", TimeZone: "Europe/London", Commitments: []string{
				"Ask before making plans that involve both of us.", "Say so early when something worries me."}},
		},
		CheckIn: agreements.Schedule{Unit: agreements.Week, Every: 1, Weekdays: []time.Weekday{time.Sunday}, Hour: 19},
	}
	saturday := terms
	saturday.CheckIn.Weekdays, saturday.CheckIn.Hour = []time.Weekday{time.Saturday}, 12
	ts := now.Add(-30 * 24 * time.Hour).Format(time.RFC3339)
	today := time.Date(now.Year(), now.Month(), now.Day(), 19, 0, 0, 0, time.UTC)
	step := max(n/max(2*due, 1), 1) * 2 // spread: every step-th agreement is due today, and the one halfway after it was yesterday
	insA, _ := tx.Prepare(`INSERT INTO agreements (id, status, version, created_at, updated_at, active_since, check_in) VALUES (?, 'active', 1, ?, ?, '2027-02-01', ?)`)
	insS, _ := tx.Prepare(`INSERT INTO timers (at, seq, agreement_id, kind, gen) VALUES (?, ?, ?, 'round', 0)`)
	insP, _ := tx.Prepare(`INSERT INTO parties (id, agreement_id, position, address, address_key, name, time_zone, thread_id, commands_token) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	insV, _ := tx.Prepare(`INSERT INTO versions (agreement_id, number, terms, canonical_text, fingerprint, created_at) VALUES (?, 1, ?, ?, ?, ?)`)
	insT, _ := tx.Prepare(`INSERT INTO tokens (token, agreement_id, party_id, purpose, ref, created_at) VALUES (?, ?, ?, 'commands', 0, ?)`)
	tok := make([]byte, 15)
	for i := 1; i <= n; i++ {
		t, next := terms, today.AddDate(0, 0, 7)
		switch {
		case contiguous && i <= due, !contiguous && i%step == 0 && i/step <= due:
			next = today
		case contiguous && i <= 2*due, !contiguous && i%step == step/2 && i/step < due:
			t, next = saturday, today.AddDate(0, 0, -1).Add(-7*time.Hour)
		}
		checkIn, _ := json.Marshal(t.CheckIn)
		if _, err := insA.Exec(i, ts, ts, string(checkIn)); err != nil {
			return err
		}
		if _, err := insS.Exec(next.Format(time.RFC3339), i, i); err != nil {
			return err
		}
		t.Parties = slices.Clone(terms.Parties)
		for pos, who := range []string{"alice", "bob"} {
			addr := fmt.Sprintf("%s%d@example.test", who, i)
			t.Parties[pos].Address = addr
			pid := 2*i - 1 + pos
			rand.Read(tok)
			cmd := strings.ToLower(base32.StdEncoding.EncodeToString(tok))
			if _, err := insP.Exec(pid, i, pos+1, addr, addr, t.Parties[pos].Name, t.Parties[pos].TimeZone, fmt.Sprintf("iw.bench%d@example.test", pid), cmd); err != nil {
				return err
			}
			if _, err := insT.Exec(cmd, i, pid, ts); err != nil {
				return err
			}
		}
		raw, _ := json.Marshal(t)
		text := agreements.CanonicalText(int64(i), 1, t)
		if _, err := insV.Exec(i, string(raw), text, agreements.Fingerprint(text), ts); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// copyFile copies the file at src to dst.
func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	// On disk before the clock starts: the kernel's writing back gigabytes
	// of a fresh copy would land in the pass measured.
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func cpuTime() [2]time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return [2]time.Duration{time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())}
}

// peakRSS returns the process's peak resident set size, from /proc.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kb)
			return kb << 10
		}
	}
	return 0
}
