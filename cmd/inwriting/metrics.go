package main

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/mailin"
	"github.com/inwriting/inwriting/mailout"
)

// metrics are what serve's /metrics shows, in the Prometheus text format.
// Labels are few and bounded: an outcome, a machine kind, a mail kind, a
// status, an error class; never an address, a token or an agreement.
type metrics struct {
	reg *prometheus.Registry

	inbound      *prometheus.CounterVec // outcome, kind
	loopsBroken  prometheus.Counter
	confirmed    prometheus.Counter
	checkIns     prometheus.Counter
	recordTime   prometheus.Histogram
	sends        *prometheus.CounterVec // kind, result
	sendTime     prometheus.Histogram
	sendDelay    prometheus.Histogram
	imapErrors   *prometheus.CounterVec // class
	reconnects   prometheus.Counter
	passTime     prometheus.Histogram
	roundsOpened prometheus.Counter
	scheduled    *prometheus.CounterVec // what
}

func newMetrics(db *agreements.DB) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.inbound = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "inwriting_inbound_messages_total",
		Help: "Incoming messages handled, by outcome (confirmed, checkin, comment, unmatched, …) and kind (person, or the machine kind: auto-reply, bounce, list, receipt)."},
		[]string{"outcome", "kind"})
	m.loopsBroken = prometheus.NewCounter(prometheus.CounterOpts{Name: "inwriting_loops_broken_total",
		Help: "Replies recorded without the answer they would have had: the same words again, or too many answers to one person in a day."})
	m.confirmed = prometheus.NewCounter(prometheus.CounterOpts{Name: "inwriting_confirmations_total", Help: "Confirmations recorded, from replies."})
	m.checkIns = prometheus.NewCounter(prometheus.CounterOpts{Name: "inwriting_checkins_total", Help: "Check-in answers recorded, from replies."})
	m.recordTime = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "inwriting_inbound_record_duration_seconds",
		Help: "From a reply fetched to its outcome committed: reading it in its context and recording it.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 8)})
	m.sends = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "inwriting_smtp_attempts_total",
		Help: "Attempts to send a mail, by mail kind and result: sent, temporary (retried), permanent (failed), unreachable (no connection)."},
		[]string{"kind", "result"})
	m.sendTime = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "inwriting_smtp_send_duration_seconds",
		Help: "The SMTP exchange of one mail, MAIL FROM to the end of DATA.", Buckets: prometheus.ExponentialBuckets(0.005, 3, 8)})
	m.sendDelay = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "inwriting_send_delay_seconds",
		Help: "From when a mail was due to when it was sent.", Buckets: prometheus.ExponentialBuckets(0.1, 4, 8)})
	m.imapErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "inwriting_imap_errors_total",
		Help: "IMAP sessions, or tries to open one, that failed, by class: network, tls, login, folders, mailbox, session."}, []string{"class"})
	m.reconnects = prometheus.NewCounter(prometheus.CounterOpts{Name: "inwriting_imap_connects_total", Help: "IMAP sessions opened (the first, and each reconnect)."})
	m.passTime = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "inwriting_schedule_pass_duration_seconds",
		Help: "One pass of the scheduler: rounds, reminders, nudges, digests, expiry.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 8)})
	m.roundsOpened = prometheus.NewCounter(prometheus.CounterOpts{Name: "inwriting_rounds_opened_total", Help: "Check-in rounds opened."})
	m.scheduled = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "inwriting_scheduled_mails_total",
		Help: "Mail the scheduler queued, by what: checkin, nudge, digest, terms-reminder, confirm-reminder."}, []string{"what"})
	m.reg.MustRegister(m.inbound, m.loopsBroken, m.confirmed, m.checkIns, m.recordTime, m.sends, m.sendTime, m.sendDelay,
		m.imapErrors, m.reconnects, m.passTime, m.roundsOpened, m.scheduled,
		outboxCollector{db}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// outboxCollector reports the outbox as it stands at each scrape.
type outboxCollector struct{ db *agreements.DB }

var outboxDesc = prometheus.NewDesc("inwriting_outbox_mails", "Mails in the outbox, by status (pending, sent, failed) and kind.", []string{"status", "kind"}, nil)

func (outboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- outboxDesc }

func (c outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.db.CountOutbox(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(outboxDesc, err)
		return
	}
	for _, n := range counts {
		ch <- prometheus.MustNewConstMetric(outboxDesc, prometheus.GaugeValue, float64(n.Count), string(n.Status), string(n.Kind))
	}
}

// inboundDone records what RecordInbound did with a message.
func (m *metrics) inboundDone(in agreements.Inbound, out agreements.InboundOutcome, took time.Duration) {
	kind := in.Auto
	if kind == "" {
		kind = "person"
	}
	outcome := out.Outcome
	if out.Duplicate {
		outcome = "duplicate"
	}
	m.inbound.WithLabelValues(outcome, kind).Inc()
	m.recordTime.Observe(took.Seconds())
	if out.LoopBroken {
		m.loopsBroken.Inc()
	}
	switch outcome {
	case "confirmed":
		m.confirmed.Inc()
	case "checkin":
		m.checkIns.Inc()
	}
}

// sent records one attempt to send mail (mailout.Sender.Observe).
func (m *metrics) sent(mail *agreements.OutboxMail, result string, took time.Duration, now time.Time) {
	m.sends.WithLabelValues(string(mail.Kind), result).Inc()
	if result == mailout.SendUnreachable {
		return
	}
	m.sendTime.Observe(took.Seconds())
	if result == mailout.SendSent {
		m.sendDelay.Observe(max(now.Sub(mail.NextAttemptAt), 0).Seconds())
	}
}

// imapChanged records the poller connecting (err nil) or failing.
func (m *metrics) imapChanged(err error) {
	if err == nil {
		m.reconnects.Inc()
		return
	}
	m.imapErrors.WithLabelValues(imapErrorClass(err)).Inc()
}

// imapErrorClass names the kind of an IMAP failure, from the words the
// poller wraps it in.
func imapErrorClass(err error) string {
	var ne net.Error
	msg := err.Error()
	switch {
	case strings.Contains(msg, "tls") || strings.Contains(msg, "certificate") || strings.Contains(msg, "starttls"):
		return "tls"
	case strings.Contains(msg, "log in"):
		return "login"
	case strings.Contains(msg, "create folder"):
		return "folders"
	case strings.Contains(msg, "select"):
		return "mailbox"
	case errors.As(err, &ne) || strings.Contains(msg, "connect to"):
		return "network"
	}
	return "session"
}

// schedulePass records one pass of the scheduler.
func (m *metrics) schedulePass(st agreements.ScheduleStats, took time.Duration) {
	m.passTime.Observe(took.Seconds())
	m.roundsOpened.Add(float64(st.Opened))
	for what, n := range map[string]int{"checkin": st.CheckIns, "nudge": st.Nudges, "digest": st.Digests, "terms-reminder": st.Reminders, "confirm-reminder": st.ConfirmReminders} {
		if n > 0 {
			m.scheduled.WithLabelValues(what).Add(float64(n))
		}
	}
}

// meteredInbound is the receiver's store, measured.
type meteredInbound struct {
	mailin.InboundStore
	m *metrics
}

func (s meteredInbound) RecordInbound(ctx context.Context, in agreements.Inbound) (agreements.InboundOutcome, error) {
	start := time.Now()
	out, err := s.InboundStore.RecordInbound(ctx, in)
	if err == nil {
		s.m.inboundDone(in, out, time.Since(start))
	}
	return out, err
}
