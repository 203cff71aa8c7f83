package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/internal/sandbox"
	"github.com/inwriting/inwriting/mailin"
	"github.com/inwriting/inwriting/mailout"
)

// RunMainForTest runs main; TestExitCodes re-executes the test binary into it.
func RunMainForTest() { main() }

// HandlerForTest returns serve's web handler.
func (m *Main) HandlerForTest(db *agreements.DB) http.Handler {
	m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return m.handler(db)
}

// SetTickForTest makes the scheduler run every d.
func (m *Main) SetTickForTest(d time.Duration) { m.tick = d }

// SandboxServiceForTest wires the service as "dev" does, on the sandbox
// srv, with its data in dir and the clock now, and starts nothing: the test
// drives the schedule, the sender and the poller itself, one step at a time.
func SandboxServiceForTest(ctx context.Context, srv *sandbox.Server, dir string, now func() time.Time, night string) (*agreements.DB, *mailout.Sender, *mailin.Poller, error) {
	m := NewMain()
	c, err := sandboxConfig(func(string) string { return "" }, srv, dir)
	if err != nil {
		return nil, nil, nil, err
	}
	if night != "" {
		c.Night = night
		if err := c.Validate(); err != nil {
			return nil, nil, nil, err
		}
	}
	m.Config, m.Now = c, now
	m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	sender, err := m.sender(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	poller, err := m.poller(m.DB)
	if err != nil {
		m.Close()
		return nil, nil, nil, err
	}
	return m.DB, sender, poller, nil
}

// ProgramName is programName, for TestProgramName.
var ProgramName = programName

// ReadyForTest makes /readyz check a poller whose status is status
// (nil: no poller runs).
func (m *Main) ReadyForTest(db *agreements.DB, status func() mailin.Status) {
	m.readiness = &readiness{db: db}
	if status != nil {
		m.readiness.poller = statusFunc(status)
	}
}

type statusFunc func() mailin.Status

func (f statusFunc) Status() mailin.Status { return f() }
