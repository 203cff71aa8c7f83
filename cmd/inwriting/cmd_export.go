package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/inwriting/inwriting/agreements"
)

type exportOptions struct {
	format string
	output string
}

var exportCommand = &command{
	name:    "export",
	summary: "Export an agreement as Markdown (to read) or JSON (to keep and verify).",
	usage:   "ID",
	nargs:   1,
	help: `
The JSON export holds every version's canonical text, the confirmations and
the whole event log with its hash chain: 'inwriting verify' checks it, here
or on any machine.`,
	flags: func(fs *flag.FlagSet, m *Main) {
		fs.StringVar(&m.exportOpts.format, "format", "md", "`md`, json, or ics (the check-in schedule for a calendar)")
		fs.StringVar(&m.exportOpts.output, "o", "", "write to `FILE` instead of standard output")
	},
	run: func(ctx context.Context, m *Main) error {
		o := m.exportOpts
		if o.format != "md" && o.format != "json" && o.format != "ics" {
			return usagef("export: --format must be md, json or ics, not %q", o.format)
		}
		db, r, err := m.recordArg(ctx)
		if err != nil {
			return err
		}
		id := r.Agreement.ID
		if r.ChainErr != nil {
			return fmt.Errorf("agreement %d: %w; the record was altered, not exporting it", id, r.ChainErr)
		}
		e := r.Export(m.Now())
		var w io.Writer = m.Stdout
		var f *os.File
		if o.output != "" {
			if f, err = os.Create(o.output); err != nil {
				return fmt.Errorf("export: %w", err)
			}
			w = f
		}
		switch o.format {
		case "json":
			err = writeJSON(w, e)
		case "ics":
			from := agreements.DateOf(r.Agreement.CreatedAt)
			if since, serr := db.ActiveSince(ctx, id); serr == nil && since != (agreements.Date{}) {
				from = since
			}
			_, err = io.WriteString(w, agreements.ICalendar(r.Agreement, from, m.Now()))
		default:
			err = writeMarkdown(w, e)
		}
		if f != nil {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		return nil
	},
}
