package main

import (
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/inwriting/inwriting/agreements"
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
