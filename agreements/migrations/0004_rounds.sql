-- Check-in rounds: one per occurrence of an active agreement's schedule;
-- each party's check-in is due at the schedule's time in their own zone.

ALTER TABLE agreements ADD COLUMN active_since TEXT NOT NULL DEFAULT '';  -- the day intervals count from (YYYY-MM-DD)
ALTER TABLE agreements ADD COLUMN next_round_at TEXT NOT NULL DEFAULT ''; -- when the next round opens (UTC); '' for none
ALTER TABLE agreements ADD COLUMN next_reminder_at TEXT NOT NULL DEFAULT ''; -- when the next reminder of the terms is due
CREATE INDEX agreements_next_round ON agreements (status, next_round_at);

CREATE TABLE rounds (
	id             INTEGER PRIMARY KEY,
	agreement_id   INTEGER NOT NULL REFERENCES agreements (id),
	occurrence     TEXT    NOT NULL,        -- the schedule's day, YYYY-MM-DD
	version        INTEGER NOT NULL,
	opened_at      TEXT    NOT NULL,
	deadline       TEXT    NOT NULL,
	digest_sent_at TEXT    NOT NULL DEFAULT '',
	UNIQUE (agreement_id, occurrence)
);
CREATE INDEX rounds_open ON rounds (digest_sent_at, deadline);

CREATE TABLE round_parties (
	round_id    INTEGER NOT NULL REFERENCES rounds (id),
	party_id    INTEGER NOT NULL REFERENCES parties (id),
	due_at      TEXT    NOT NULL,
	mailed      INTEGER NOT NULL DEFAULT 0,
	nudged      INTEGER NOT NULL DEFAULT 0,
	answered_at TEXT    NOT NULL DEFAULT '',
	message_id  TEXT    NOT NULL DEFAULT '',
	answer      TEXT    NOT NULL DEFAULT '', -- JSON of CheckInAnswer
	PRIMARY KEY (round_id, party_id)
);
CREATE INDEX round_parties_due ON round_parties (mailed, due_at);
