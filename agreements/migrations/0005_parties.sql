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
