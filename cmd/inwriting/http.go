package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/mailin"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// handler serves the service's few web pages: RFC 8058 one-click
// unsubscribe, behind the public URL, and a health check.
func (m *Main) handler(db *agreements.DB) http.Handler {
	mux := http.NewServeMux()
	page := func(w http.ResponseWriter, status int, title, body string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="light dark"><title>%s</title></head><body style="font-family:sans-serif;max-width:36em;margin:2em auto;padding:0 1em;"><h1 style="font-size:1.3em;">%s</h1>%s</body></html>`,
			html.EscapeString(title), html.EscapeString(title), body)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := db.SQL().PingContext(r.Context()); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		mt := m.metrics
		if mt == nil {
			mt = newMetrics(db)
		}
		promhttp.HandlerFor(mt.reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(m.Logger.Handler(), slog.LevelError)}).ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		rd := m.readiness
		if rd == nil {
			rd = &readiness{db: db}
		}
		ok, lines := rd.check(r.Context())
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
	})
	// A GET never unsubscribes (link scanners follow links): it shows a
	// button that POSTs, as RFC 8058 §3.2 asks of the mail client.
	mux.HandleFunc("GET /unsubscribe/{token}", func(w http.ResponseWriter, r *http.Request) {
		page(w, http.StatusOK, "Stop these mails?", `<p>This stops the check-in mails of your agreement. The other person is told only that check-ins are paused.</p>`+
			`<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Stop the mails</button></form>`)
	})
	mux.HandleFunc("POST /unsubscribe/{token}", func(w http.ResponseWriter, r *http.Request) {
		err := db.Unsubscribe(r.Context(), r.PathValue("token"))
		switch {
		case errors.Is(err, agreements.ErrNotFound):
			page(w, http.StatusNotFound, "Unknown link", "<p>This link is not one of ours, or it was mistyped.</p>")
		case err != nil:
			m.Logger.Error("one-click unsubscribe", "err", err)
			page(w, http.StatusInternalServerError, "Something went wrong", "<p>Please try again in a minute, or reply \"stop\" to any of our mails.</p>")
		default:
			page(w, http.StatusOK, "Done", `<p>You will get no more check-in mails. To start them again, reply "resume" to any of our mails.</p>`)
		}
	})
	return mux
}

// serveHTTP runs the web listener until ctx ends.
func (m *Main) serveHTTP(ctx context.Context, addr string, db *agreements.DB) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: m.handler(db), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	m.Logger.Info("web listener", "addr", ln.Addr().String())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// readiness answers /readyz: whether serve does its work. It is ready
// when the database can be written, the IMAP poller is connected (or
// reconnecting for less than readyIMAPGrace), and no mail has been due
// for longer than readyOutboxLag.
type readiness struct {
	db     *agreements.DB
	poller interface{ Status() mailin.Status } // nil: none runs
}

// The bounds of readiness: an IMAP outage shorter than the poller's
// longest backoff twice over is a reconnect; mail due for a quarter of an
// hour means the sender is stuck (a retry is scheduled ahead, not due).
const (
	readyIMAPGrace = 5 * time.Minute
	readyOutboxLag = 15 * time.Minute
)

// check returns whether serve is ready, and a line for each check.
func (r *readiness) check(ctx context.Context) (bool, []string) {
	ok := true
	var lines []string
	fail := func(format string, args ...any) {
		ok = false
		lines = append(lines, fmt.Sprintf(format, args...))
	}
	if err := r.db.CheckWritable(ctx); err != nil {
		fail("database: not writable: %v", err)
	} else {
		lines = append(lines, "database: writable")
	}
	switch st := status(r.poller); {
	case r.poller == nil:
		fail("imap: no poller runs")
	case !st.Started:
		fail("imap: starting")
	case st.Connected:
		lines = append(lines, fmt.Sprintf("imap: connected since %s", st.Since.UTC().Format(time.RFC3339)))
	case time.Since(st.Since) < readyIMAPGrace:
		lines = append(lines, fmt.Sprintf("imap: reconnecting since %s: %v", st.Since.UTC().Format(time.RFC3339), st.Err))
	default:
		fail("imap: not connected since %s: %v", st.Since.UTC().Format(time.RFC3339), st.Err)
	}
	switch due, err := r.db.OldestDue(ctx); {
	case err != nil:
		fail("outbox: %v", err)
	case due.IsZero():
		lines = append(lines, "outbox: nothing due")
	case r.db.Now().Sub(due) > readyOutboxLag:
		fail("outbox: mail due since %s is not sent", due.UTC().Format(time.RFC3339))
	default:
		lines = append(lines, fmt.Sprintf("outbox: mail due since %s is being sent", due.UTC().Format(time.RFC3339)))
	}
	return ok, lines
}

func status(p interface{ Status() mailin.Status }) mailin.Status {
	if p == nil {
		return mailin.Status{}
	}
	return p.Status()
}
