-- Inbound mail: every message the poller has handled, once, keyed by its
-- Message-ID (or the SHA-256 of its bytes), with where it was in the
-- mailbox and what became of it.

CREATE TABLE inbox (
	id           INTEGER PRIMARY KEY,
	message_key  TEXT    NOT NULL UNIQUE, -- "<message-id>" or "sha256:<hex>"
	mailbox      TEXT    NOT NULL,
	uidvalidity  INTEGER NOT NULL,
	uid          INTEGER NOT NULL,
	from_addr    TEXT    NOT NULL,
	agreement_id INTEGER REFERENCES agreements (id),
	party_id     INTEGER REFERENCES parties (id),
	outcome      TEXT    NOT NULL,        -- what was done, e.g. confirmed, comment, rejected-sender
	folder       TEXT    NOT NULL,        -- Processed, Unmatched or Rejected
	auth_result  TEXT    NOT NULL,
	detail       TEXT    NOT NULL,
	received_at  TEXT    NOT NULL
);
CREATE INDEX inbox_uid ON inbox (mailbox, uidvalidity, uid);

-- A party whose address bounced, and when the real party was last told
-- that someone else tried to reply for them.
ALTER TABLE parties ADD COLUMN bouncing_since TEXT NOT NULL DEFAULT '';
ALTER TABLE parties ADD COLUMN spoof_notice_at TEXT NOT NULL DEFAULT '';
