-- Unsubscribing is per party: mail stops for that party only. The index
-- keeps a scheduler pass's look for due reminders from reading every
-- agreement.

ALTER TABLE parties ADD COLUMN unsubscribed_at TEXT NOT NULL DEFAULT ''; -- '' while subscribed
CREATE INDEX agreements_next_reminder ON agreements (status, next_reminder_at);
