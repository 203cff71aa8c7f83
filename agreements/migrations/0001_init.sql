-- Agreements, their parties, versions, confirmations, reply tokens and the
-- hash-chained event log. Times are UTC RFC 3339 text.

CREATE TABLE agreements (
	id          INTEGER PRIMARY KEY,
	status      TEXT    NOT NULL,
	version     INTEGER NOT NULL,          -- the current version's number
	created_at  TEXT    NOT NULL,
	updated_at  TEXT    NOT NULL,
	event_count INTEGER NOT NULL DEFAULT 0, -- events in the log, for spotting a removed last event
	event_head  TEXT    NOT NULL DEFAULT '' -- hash of the last event
);

CREATE TABLE parties (
	id           INTEGER PRIMARY KEY,
	agreement_id INTEGER NOT NULL REFERENCES agreements (id),
	position     INTEGER NOT NULL,
	address      TEXT    NOT NULL,
	address_key  TEXT    NOT NULL,         -- lowercase address, for lookups
	name         TEXT    NOT NULL,
	time_zone    TEXT    NOT NULL,
	UNIQUE (agreement_id, position),
	UNIQUE (agreement_id, address_key)
);
CREATE INDEX parties_address_key ON parties (address_key);

CREATE TABLE versions (
	agreement_id   INTEGER NOT NULL REFERENCES agreements (id),
	number         INTEGER NOT NULL,
	terms          TEXT    NOT NULL,       -- JSON of Terms
	canonical_text TEXT    NOT NULL,
	fingerprint    TEXT    NOT NULL,
	created_at     TEXT    NOT NULL,
	PRIMARY KEY (agreement_id, number)
);
CREATE INDEX versions_fingerprint ON versions (fingerprint);

CREATE TABLE confirmations (
	agreement_id INTEGER NOT NULL,
	version      INTEGER NOT NULL,
	party_id     INTEGER NOT NULL REFERENCES parties (id),
	confirmed_at TEXT    NOT NULL,
	message_id   TEXT    NOT NULL,
	auth_result  TEXT    NOT NULL,
	PRIMARY KEY (agreement_id, version, party_id),
	FOREIGN KEY (agreement_id, version) REFERENCES versions (agreement_id, number)
);

CREATE TABLE tokens (
	token        TEXT    PRIMARY KEY,      -- lowercase base32; never reused
	agreement_id INTEGER NOT NULL REFERENCES agreements (id),
	party_id     INTEGER NOT NULL REFERENCES parties (id),
	purpose      TEXT    NOT NULL,
	ref          INTEGER NOT NULL,
	created_at   TEXT    NOT NULL,
	UNIQUE (party_id, purpose, ref)
);

CREATE TABLE events (
	agreement_id INTEGER NOT NULL REFERENCES agreements (id),
	seq          INTEGER NOT NULL,
	type         TEXT    NOT NULL,
	at           TEXT    NOT NULL,
	data         TEXT    NOT NULL,         -- compact JSON
	prev_hash    TEXT    NOT NULL,
	hash         TEXT    NOT NULL,
	PRIMARY KEY (agreement_id, seq)
);

-- The log is append-only. The triggers stop mistakes; the hash chain
-- detects anyone who removes them.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
	SELECT RAISE(ABORT, 'events are append-only');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
	SELECT RAISE(ABORT, 'events are append-only');
END;
