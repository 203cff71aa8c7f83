-- When each agreement's next round opens (or its pause ends) and its next
-- reminder of the terms is due, as timers kept in the order they fire.
--
-- A scheduler pass fires thousands of timers, set for agreements spread
-- over the table. With one row per agreement (the schedules table), it
-- rewrote a page of that table and a page of its index for each of them.
-- Here the timers that fire are one range at the front, and the ones a
-- pass sets go at the end of their time's range: seq grows with each
-- timer set at a time. A timer is for the generation of the agreement's
-- timers it was set in: pausing, resuming, ending or re-activating an
-- agreement moves to a new generation, which voids the timers set
-- before, and a pass drops a void timer when it comes due. So nothing
-- needs to find an agreement's timers, and no index by agreement is
-- kept.

CREATE TABLE timers (
	at           TEXT    NOT NULL,  -- UTC: when it fires
	seq          INTEGER NOT NULL,  -- larger for each timer set at the same time
	agreement_id INTEGER NOT NULL,  -- no REFERENCES: it would want an index by agreement
	kind         TEXT    NOT NULL,  -- 'round' (or the end of a pause), 'reminder'
	gen          INTEGER NOT NULL,  -- agreements.timer_gen when it was set
	PRIMARY KEY (at, seq)
) WITHOUT ROWID;

ALTER TABLE agreements ADD COLUMN timer_gen INTEGER NOT NULL DEFAULT 0;

INSERT INTO timers (at, seq, agreement_id, kind, gen)
	SELECT next_round_at, 2 * agreement_id, agreement_id, 'round', 0 FROM schedules WHERE next_round_at != '';
INSERT INTO timers (at, seq, agreement_id, kind, gen)
	SELECT next_reminder_at, 2 * agreement_id + 1, agreement_id, 'reminder', 0 FROM schedules WHERE next_reminder_at != '';

DROP TABLE schedules;
