package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/mailin"
)

// ShutdownDrain is how long serve keeps sending queued mail after it was
// told to stop.
var ShutdownDrain = 10 * time.Second

var serveCommand = &command{
	name:    "serve",
	summary: "Run the service: read replies over IMAP, send the outbox over SMTP, remind and expire.",
	nargs:   0,
	help: `
It needs [service], [imap] and [smtp] in the configuration (inwriting doctor
checks them). SIGINT or SIGTERM stops it in order: it stops reading mail
(the reply being handled is finished), sends what is queued for up to 10
seconds, and closes the database last. Only one serve may run on a
database at a time.`,
	run: runServe,
}

func runServe(ctx context.Context, m *Main) error {
	return m.serve(ctx, nil)
}

// serve runs the service until ctx ends; ready, if set, is called once it
// runs.
func (m *Main) serve(ctx context.Context, ready func()) error {
	if _, err := m.Config.Identity(); err != nil {
		return err
	}
	unlock, err := lockDatabase(m.Config.Database)
	if err != nil {
		return err
	}
	defer unlock()
	db, err := m.openDB(ctx)
	if err != nil {
		return err
	}
	// We hold the lock: claims in the outbox were left by a serve that
	// died, and can be sent now.
	if n, err := db.ReleaseAllClaims(ctx); err != nil {
		return err
	} else if n > 0 {
		m.Logger.Warn("took over mail claimed by a serve that stopped without finishing", "mails", n)
	}
	sender, err := m.sender(ctx)
	if err != nil {
		return err
	}
	poller, err := m.poller(db)
	if err != nil {
		return err
	}
	mt := newMetrics(db)
	m.metrics = mt
	sender.Observe = func(mail *agreements.OutboxMail, result string, took time.Duration) {
		mt.sent(mail, result, took, m.Now())
	}
	poller.Changed = mt.imapChanged
	if r, ok := poller.Handler.(*mailin.Receiver); ok {
		r.Store = meteredInbound{InboundStore: r.Store, m: mt}
	}
	m.Logger.Info("serving", "database", m.Config.Database, "imap", poller.Addr, "smtp", sender.Addr, "address", m.Config.Service.Address)

	var wg sync.WaitGroup
	run := func(name string, ctx context.Context, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx); err != nil {
				m.Logger.Error(name+" stopped", "err", err)
			}
		}()
	}
	readCtx, stopReading := context.WithCancel(context.WithoutCancel(ctx))
	sendCtx, stopSending := context.WithCancel(context.WithoutCancel(ctx))
	defer stopReading()
	defer stopSending()
	m.readiness = &readiness{db: db, poller: poller}
	run("poller", readCtx, poller.Run)
	if addr := m.Config.Service.Listen; addr != "" {
		run("web listener", readCtx, func(ctx context.Context) error { return m.serveHTTP(ctx, addr, db) })
	}
	run("scheduler", readCtx, func(ctx context.Context) error { return m.schedule(ctx, db) })
	var sendWG sync.WaitGroup
	sendWG.Add(1)
	go func() {
		defer sendWG.Done()
		if err := sender.Run(sendCtx); err != nil {
			m.Logger.Error("sender stopped", "err", err)
		}
	}()

	if ready != nil {
		ready()
	}
	<-ctx.Done()
	m.Logger.Info("stopping: no more reading")
	stopReading()
	wg.Wait()
	stopSending()
	sendWG.Wait()
	dctx, cancel := context.WithTimeout(context.Background(), ShutdownDrain)
	defer cancel()
	n, err := sender.Drain(dctx)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		m.Logger.Error("drain outbox", "err", err)
	}
	m.Logger.Info("stopped", "drained", n)
	return nil
}

// configureDB applies the configuration's rules to the store.
func (m *Main) configureDB(db *agreements.DB) {
	db.ServiceAddress = m.Config.Service.Address
	db.RequireAuth = m.Config.Auth.Require
	db.ConfirmFor = m.Config.Confirm.Expire
	db.RemindAfter = m.Config.Confirm.Remind
	db.Night = m.Config.night
	db.Start = m.Config.Start.Rules(m.Config.DefaultTimeZone)
}

// schedule runs the timed work every minute: the check-in routine, the
// one reminder to confirm a version, and expiry.
func (m *Main) schedule(ctx context.Context, db *agreements.DB) error {
	tick := m.tick
	if tick <= 0 {
		tick = time.Minute
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		start := time.Now()
		st, err := db.RunSchedule(ctx)
		if m.metrics != nil && err == nil {
			m.metrics.schedulePass(st, time.Since(start))
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			m.Logger.Error("check-in schedule", "err", err)
		} else if st != (agreements.ScheduleStats{}) {
			m.Logger.Info("check-in schedule", "opened", st.Opened, "checkins", st.CheckIns, "nudges", st.Nudges, "digests", st.Digests, "resumed", st.Resumed,
				"reminders", st.Reminders, "confirm_reminders", st.ConfirmReminders, "expired", st.Expired)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// lockDatabase makes sure one serve runs on a database: it holds an
// exclusive lock on DATABASE.lock until the returned function is called.
func lockDatabase(database string) (func(), error) {
	path := database + ".lock"
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		pid := strings.TrimSpace(string(b[:n]))
		return nil, fmt.Errorf("another inwriting serve (PID %s) is running on %s; stop it first", pid, database)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() {
		f.Truncate(0)
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
