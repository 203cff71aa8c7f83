package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
)

// flowHandler shows a newcomer the sandbox at work: one line on w for
// each mail out ("mail sent") and in ("inbound mail"), at the sandbox's
// clock, whatever the log level; everything goes on to next as well.
type flowHandler struct {
	next  slog.Handler
	w     io.Writer
	mu    *sync.Mutex
	now   func() time.Time
	attrs []slog.Attr
}

func newFlowHandler(next slog.Handler, w io.Writer, now func() time.Time) *flowHandler {
	return &flowHandler{next: next, w: w, mu: new(sync.Mutex), now: now}
}

func (h *flowHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || h.next.Enabled(ctx, l)
}

func (h *flowHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "mail sent" || r.Message == "inbound mail" {
		a := map[string]string{}
		for _, at := range h.attrs {
			a[at.Key] = at.Value.String()
		}
		r.Attrs(func(at slog.Attr) bool {
			a[at.Key] = at.Value.String()
			return true
		})
		line := fmt.Sprintf("→ %s: %s", a["to"], a["kind"])
		if r.Message == "inbound mail" {
			line = fmt.Sprintf("← %s: %s", a["from"], a["outcome"])
		}
		h.mu.Lock()
		fmt.Fprintf(h.w, "%s  %s\n", h.now().Local().Format("Mon 2 Jan 15:04"), line)
		h.mu.Unlock()
	}
	if h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h *flowHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(as)
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

func (h *flowHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	return &c
}
