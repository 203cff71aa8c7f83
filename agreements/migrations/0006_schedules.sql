-- When each agreement's next round opens and its next reminder of the
-- terms is due, in a narrow table of their own: a scheduler pass moves
-- thousands of them, spread over the agreements, and this way it changes
-- a few narrow pages instead of a page of agreements for each.

CREATE TABLE schedules (
	agreement_id     INTEGER PRIMARY KEY REFERENCES agreements (id),
	next_round_at    TEXT    NOT NULL DEFAULT '', -- UTC; '' for none
	next_reminder_at TEXT    NOT NULL DEFAULT ''  -- UTC; '' for none
);
INSERT INTO schedules (agreement_id, next_round_at, next_reminder_at)
	SELECT id, next_round_at, next_reminder_at FROM agreements WHERE next_round_at != '' OR next_reminder_at != '';
CREATE INDEX schedules_next_round ON schedules (next_round_at);
CREATE INDEX schedules_next_reminder ON schedules (next_reminder_at);

DROP INDEX agreements_next_round;
DROP INDEX agreements_next_reminder;
ALTER TABLE agreements DROP COLUMN next_round_at;
ALTER TABLE agreements DROP COLUMN next_reminder_at;
