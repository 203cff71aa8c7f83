-- Each party has the same time to answer from their own check-in: a
-- deadline of their own. The round's deadline is the last of them: its
-- digests go when everyone has answered or it passes. Rounds opened
-- before had one deadline for all, which each party keeps.

ALTER TABLE round_parties ADD COLUMN deadline TEXT NOT NULL DEFAULT '';
UPDATE round_parties SET deadline = (SELECT r.deadline FROM rounds r WHERE r.id = round_parties.round_id);
