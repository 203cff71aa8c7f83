-- What breaks a mail loop that no detector caught: each handled reply's
-- text (hashed with the mail it answers) and how many mails its handling
-- queued, found by party.

ALTER TABLE inbox ADD COLUMN text_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE inbox ADD COLUMN answered INTEGER NOT NULL DEFAULT 0;
CREATE INDEX inbox_repeats ON inbox (party_id, text_hash, received_at) WHERE text_hash != '';
CREATE INDEX inbox_answered ON inbox (party_id, received_at) WHERE answered > 0;
