-- The transactional outbox: every mail is a row, written in the same
-- transaction as the change that causes it, then sent after commit.

CREATE TABLE outbox (
	id              INTEGER PRIMARY KEY,
	dedupe_key      TEXT    NOT NULL UNIQUE, -- the same event never queues two mails
	message_id      TEXT    NOT NULL UNIQUE, -- without angle brackets
	kind            TEXT    NOT NULL,
	agreement_id    INTEGER REFERENCES agreements (id),
	party_id        INTEGER REFERENCES parties (id),
	rcpt            TEXT    NOT NULL,
	rcpt_name       TEXT    NOT NULL,
	reply_token     TEXT    NOT NULL DEFAULT '',
	commands_token  TEXT    NOT NULL DEFAULT '',
	thread_id       TEXT    NOT NULL DEFAULT '', -- Message-ID this mail threads under; '' for a thread's first mail
	data            TEXT    NOT NULL,           -- JSON of MailData
	status          TEXT    NOT NULL,           -- pending, sent, failed
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at TEXT    NOT NULL,
	claimed_by      TEXT    NOT NULL DEFAULT '',
	claimed_until   TEXT    NOT NULL DEFAULT '',
	last_error      TEXT    NOT NULL DEFAULT '',
	raw             BLOB,                       -- the message as sent, fixed at the first attempt
	created_at      TEXT    NOT NULL,
	sent_at         TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

-- The Message-ID that each party's mail about an agreement threads under.
ALTER TABLE parties ADD COLUMN thread_id TEXT NOT NULL DEFAULT '';
