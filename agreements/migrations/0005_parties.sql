-- Unsubscribing is per party: mail stops for that party only. The index
-- keeps a scheduler pass's look for due reminders from reading every
-- agreement.

ALTER TABLE parties ADD COLUMN unsubscribed_at TEXT NOT NULL DEFAULT ''; -- '' while subscribed
CREATE INDEX agreements_next_reminder ON agreements (status, next_reminder_at);

-- Each party's commands token is kept on the party's row too, so that
-- loading the parties of a thousand agreements does not also read the
-- token table's pages for each.
ALTER TABLE parties ADD COLUMN commands_token TEXT NOT NULL DEFAULT '';
UPDATE parties SET commands_token = COALESCE((SELECT token FROM tokens t WHERE t.party_id = parties.id AND t.purpose = 'commands' AND t.ref = 0), '');

-- Tokens are unique per (purpose, ref, party) rather than (party, purpose,
-- ref): the same constraint, with the columns in the order that puts a
-- round's check-in tokens side by side at the end of the index, instead
-- of each on a page of its own.
CREATE TABLE tokens_new (
	token        TEXT    PRIMARY KEY,      -- lowercase base32; never reused
	agreement_id INTEGER NOT NULL REFERENCES agreements (id),
	party_id     INTEGER NOT NULL REFERENCES parties (id),
	purpose      TEXT    NOT NULL,
	ref          INTEGER NOT NULL,
	created_at   TEXT    NOT NULL,
	UNIQUE (purpose, ref, party_id)
);
INSERT INTO tokens_new SELECT token, agreement_id, party_id, purpose, ref, created_at FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_new RENAME TO tokens;
